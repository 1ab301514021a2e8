package auth

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

func TestFromRequest(t *testing.T) {
	d := Defaults{Account: "123456789012", Region: "us-east-1"}
	const tail = ", SignedHeaders=host;x-amz-date, Signature=abc123"
	tests := []struct {
		name, header string
		want         Caller
		wantCode     string
		service      string // SigningName when empty
	}{
		{"unsigned is the default caller", "", Caller{Account: "123456789012", Region: "us-east-1"}, "", ""},
		{"12-digit key is the account", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/eu-west-1/workspaces/aws4_request" + tail,
			Caller{Account: "111122223333", Region: "eu-west-1", AccessKey: "111122223333"}, "", ""},
		{"other keys map to the default account", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261130/ap-southeast-2/workspaces/aws4_request" + tail,
			Caller{Account: "123456789012", Region: "ap-southeast-2", AccessKey: "AKIAIOSFODNN7EXAMPLE"}, "", ""},
		{"gov region", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/us-gov-west-1/workspaces/aws4_request" + tail,
			Caller{Account: "111122223333", Region: "us-gov-west-1", AccessKey: "111122223333"}, "", ""},
		{"wrong algorithm", "AWS4-HMAC-SHA1 Credential=x", Caller{}, "IncompleteSignatureException", ""},
		{"basic auth", "Basic dXNlcjpwYXNz", Caller{}, "IncompleteSignatureException", ""},
		{"no signature", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/us-east-1/workspaces/aws4_request, SignedHeaders=host", Caller{}, "IncompleteSignatureException", ""},
		{"short scope", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/us-east-1" + tail, Caller{}, "IncompleteSignatureException", ""},
		{"bad region", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/../workspaces/aws4_request" + tail, Caller{}, "InvalidSignatureException", ""},
		{"10 KB region", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/us-" + strings.Repeat("a", 10<<10) + "-1/workspaces/aws4_request" + tail, Caller{}, "InvalidSignatureException", ""},
		{"empty region", "AWS4-HMAC-SHA256 Credential=111122223333/20261130//workspaces/aws4_request" + tail, Caller{}, "IncompleteSignatureException", ""},
		{"bad date", "AWS4-HMAC-SHA256 Credential=111122223333/yesterday/us-east-1/workspaces/aws4_request" + tail, Caller{}, "IncompleteSignatureException", ""},
		{"another service", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/us-east-1/ec2/aws4_request" + tail, Caller{}, "InvalidSignatureException", ""},
		{"sts scope refused for WorkSpaces", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/us-east-1/sts/aws4_request" + tail, Caller{}, "InvalidSignatureException", ""},
		{"sts scope for sts", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/eu-west-1/sts/aws4_request" + tail,
			Caller{Account: "111122223333", Region: "eu-west-1", AccessKey: "111122223333"}, "", STSSigningName},
		{"sts: other keys map to the default account", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261130/us-east-1/sts/aws4_request" + tail,
			Caller{Account: "123456789012", Region: "us-east-1", AccessKey: "AKIAIOSFODNN7EXAMPLE"}, "", STSSigningName},
		{"sts: unsigned is the default caller", "", Caller{Account: "123456789012", Region: "us-east-1"}, "", STSSigningName},
		{"workspaces scope refused for sts", "AWS4-HMAC-SHA256 Credential=111122223333/20261130/us-east-1/workspaces/aws4_request" + tail, Caller{}, "InvalidSignatureException", STSSigningName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			got, err := FromRequest(r, d)
			if tt.service != "" {
				got, err = FromRequestFor(r, d, tt.service)
			}
			if tt.wantCode != "" {
				e, ok := err.(api.APIError)
				if !ok || e.ErrorCode() != tt.wantCode {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("FromRequest = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
