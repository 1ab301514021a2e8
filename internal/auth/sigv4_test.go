package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wsim/wsim/internal/api"
)

const testFile = `{
  "credentials": [
    {"accessKeyId": "AKIAWSIMTEST", "secretAccessKey": "s3cret", "principal": "arn:aws:iam::111122223333:role/ci"},
    {"accessKeyId": "ASIAWSIMTEMP", "secretAccessKey": "t3mp", "sessionToken": "tok-1", "principal": "arn:aws:sts::444455556666:assumed-role/dev/alice"}
  ],
  "policies": {"arn:aws:iam::111122223333:role/ci": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "workspaces:Describe*", "Resource": "*"}}]}
}`

func testVerifier(t *testing.T, now time.Time) *Verifier {
	t.Helper()
	f, err := ParseCredentials([]byte(testFile))
	if err != nil {
		t.Fatal(err)
	}
	return &Verifier{Keys: NewKeyring(f), Now: func() time.Time { return now }}
}

// signed returns a request signed by aws-sdk-go-v2's signer, as clients
// sign them, after mutate changed the request before signing.
func signed(t *testing.T, key, secret, token, region, service string, at time.Time, body string, mutate func(*http.Request)) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "http://workspaces.local:4599/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "WorkspacesService.DescribeWorkspaces")
	if token != "" {
		r.Header.Set("X-Amz-Security-Token", token)
	}
	if mutate != nil {
		mutate(r)
	}
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token},
		r, hex.EncodeToString(sum[:]), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	v := testVerifier(t, now)
	const body = `{"Limit":5}`
	tests := []struct {
		name     string
		req      func() *http.Request
		body     string // body received, body when empty
		service  string // SigningName when empty
		want     Caller
		wantCode string
		wantMsg  string
	}{
		{name: "signed by aws-sdk-go-v2", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "eu-west-1", "workspaces", now, body, nil)
		}, want: Caller{Account: "111122223333", Region: "eu-west-1", AccessKey: "AKIAWSIMTEST", Principal: "arn:aws:iam::111122223333:role/ci"}},
		{name: "with its session token", req: func() *http.Request {
			return signed(t, "ASIAWSIMTEMP", "t3mp", "tok-1", "us-east-1", "workspaces", now, body, nil)
		}, want: Caller{Account: "444455556666", Region: "us-east-1", AccessKey: "ASIAWSIMTEMP", Principal: "arn:aws:sts::444455556666:assumed-role/dev/alice"}},
		{name: "sts", service: STSSigningName, req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "sts", now, body, nil)
		}, want: Caller{Account: "111122223333", Region: "us-east-1", AccessKey: "AKIAWSIMTEST", Principal: "arn:aws:iam::111122223333:role/ci"}},
		{name: "14 minutes old", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now.Add(-14*time.Minute), body, nil)
		}, want: Caller{Account: "111122223333", Region: "us-east-1", AccessKey: "AKIAWSIMTEST", Principal: "arn:aws:iam::111122223333:role/ci"}},
		{name: "query string signed", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now, body, func(r *http.Request) {
				r.URL.RawQuery = "b=2&a=1&a=0&sp=a%20b"
			})
		}, want: Caller{Account: "111122223333", Region: "us-east-1", AccessKey: "AKIAWSIMTEST", Principal: "arn:aws:iam::111122223333:role/ci"}},
		{name: "wrong secret", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "wrong", "", "us-east-1", "workspaces", now, body, nil)
		}, wantCode: "InvalidSignatureException", wantMsg: "The request signature we calculated does not match the signature you provided."},
		{name: "body changed after signing", body: `{"Limit":6}`, req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now, body, nil)
		}, wantCode: "InvalidSignatureException", wantMsg: "does not match"},
		{name: "signed header changed", req: func() *http.Request {
			r := signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now, body, nil)
			r.Header.Set("X-Amz-Target", "WorkspacesService.TerminateWorkspaces")
			return r
		}, wantCode: "InvalidSignatureException", wantMsg: "does not match"},
		{name: "host changed", req: func() *http.Request {
			r := signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now, body, nil)
			r.Host = "elsewhere:4599"
			return r
		}, wantCode: "InvalidSignatureException"},
		{name: "unknown key", req: func() *http.Request {
			return signed(t, "AKIAUNKNOWN", "s3cret", "", "us-east-1", "workspaces", now, body, nil)
		}, wantCode: "UnrecognizedClientException", wantMsg: "The security token included in the request is invalid."},
		{name: "missing session token", req: func() *http.Request {
			return signed(t, "ASIAWSIMTEMP", "t3mp", "", "us-east-1", "workspaces", now, body, nil)
		}, wantCode: "UnrecognizedClientException"},
		{name: "wrong session token", req: func() *http.Request {
			return signed(t, "ASIAWSIMTEMP", "t3mp", "tok-2", "us-east-1", "workspaces", now, body, nil)
		}, wantCode: "UnrecognizedClientException"},
		{name: "token for a long-term key", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "tok-1", "us-east-1", "workspaces", now, body, nil)
		}, wantCode: "UnrecognizedClientException"},
		{name: "16 minutes old", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now.Add(-16*time.Minute), body, nil)
		}, wantCode: "InvalidSignatureException", wantMsg: "Signature expired: 20261202T154400Z is now earlier than 20261202T154500Z (20261202T160000Z - 15 min.)"},
		{name: "16 minutes ahead", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now.Add(16*time.Minute), body, nil)
		}, wantCode: "InvalidSignatureException", wantMsg: "Signature not yet current: 20261202T161600Z is still later than 20261202T161500Z (20261202T160000Z + 15 min.)"},
		{name: "unsigned", req: func() *http.Request {
			return httptest.NewRequest("POST", "/", strings.NewReader(body))
		}, wantCode: "MissingAuthenticationTokenException", wantMsg: "Missing Authentication Token"},
		{name: "no date", req: func() *http.Request {
			r := signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "workspaces", now, body, nil)
			r.Header.Del("X-Amz-Date")
			return r
		}, wantCode: "IncompleteSignatureException"},
		{name: "malformed", req: func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAWSIMTEST")
			return r
		}, wantCode: "IncompleteSignatureException"},
		{name: "signed for sts, sent to workspaces", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-east-1", "sts", now, body, nil)
		}, wantCode: "InvalidSignatureException", wantMsg: "Credential should be scoped to correct service: 'workspaces'."},
		{name: "a 10 KB Region", req: func() *http.Request {
			return signed(t, "AKIAWSIMTEST", "s3cret", "", "us-"+strings.Repeat("a", 10<<10)+"-1", "workspaces", now, body, nil)
		}, wantCode: "InvalidSignatureException", wantMsg: "Credential should be scoped to a valid region, not 'us-aaaa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			b := tt.body
			if b == "" {
				b = body
			}
			service := tt.service
			if service == "" {
				service = SigningName
			}
			got, err := v.Verify(r, []byte(b), service)
			if tt.wantCode != "" {
				e, ok := err.(*api.Error)
				if !ok || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantMsg) {
					t.Fatalf("err = %v, want %s containing %q", err, tt.wantCode, tt.wantMsg)
				}
				if len(e.Message) > 2048 {
					t.Errorf("message of %d bytes", len(e.Message))
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Verify = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	now := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	v := testVerifier(t, now)
	presign := func(at time.Time, expires string) *http.Request {
		r := httptest.NewRequest("GET", "http://workspaces.local:4599/?Action=GetCallerIdentity&Version=2011-06-15", nil)
		if expires != "" {
			q := r.URL.Query()
			q.Set("X-Amz-Expires", expires)
			r.URL.RawQuery = q.Encode()
		}
		sum := sha256.Sum256(nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIAWSIMTEST", SecretAccessKey: "s3cret"},
			r, hex.EncodeToString(sum[:]), "sts", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return httptest.NewRequest("GET", u, nil)
	}
	if c, err := v.Verify(presign(now, "60"), nil, STSSigningName); err != nil || c.Principal != "arn:aws:iam::111122223333:role/ci" {
		t.Errorf("presigned: %+v, %v", c, err)
	}
	if _, err := v.Verify(presign(now.Add(-2*time.Minute), "60"), nil, STSSigningName); err == nil || !strings.Contains(err.Error(), "Signature expired") {
		t.Errorf("expired presigned URL: %v", err)
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"ok", testFile, ""},
		{"no secret", `{"credentials":[{"accessKeyId":"AKIA1","principal":"arn:aws:iam::111122223333:user/u"}]}`, "secretAccessKey is required"},
		{"bad principal", `{"credentials":[{"accessKeyId":"AKIA1","secretAccessKey":"x","principal":"bob"}]}`, "must be an IAM user or role ARN"},
		{"key twice", `{"credentials":[{"accessKeyId":"AKIA1","secretAccessKey":"x","principal":"arn:aws:iam::111122223333:user/u"},{"accessKeyId":"AKIA1","secretAccessKey":"y","principal":"arn:aws:iam::111122223333:user/v"}]}`, "listed twice"},
		{"account mismatch", `{"credentials":[{"accessKeyId":"AKIA1","secretAccessKey":"x","account":"999999999999","principal":"arn:aws:iam::111122223333:user/u"}]}`, "not the principal's account"},
		{"unknown field", `{"credentials":[],"users":[]}`, "unknown field"},
		{"bad policy", `{"credentials":[],"policies":{"arn:aws:iam::111122223333:user/u":[{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}]}}`, "Effect must be Allow or Deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCredentials([]byte(tt.doc))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestKeyringPolicies(t *testing.T) {
	v := testVerifier(t, time.Now())
	k := v.Keys
	if _, ok := k.Policies("arn:aws:iam::111122223333:role/ci"); !ok {
		t.Error("the file's policies are not set")
	}
	if _, ok := k.Policies("arn:aws:sts::444455556666:assumed-role/dev/alice"); ok {
		t.Error("a principal without policies has some")
	}
	if p, err := k.Resolve("ASIAWSIMTEMP"); err != nil || p != "arn:aws:sts::444455556666:assumed-role/dev/alice" {
		t.Errorf("Resolve(key) = %q, %v", p, err)
	}
	if _, err := k.Resolve("arn:aws:iam::111122223333:role/other"); err != ErrUnknownPrincipal {
		t.Errorf("Resolve(unknown) = %v", err)
	}
	k.SetPolicies("arn:aws:iam::111122223333:role/ci", nil)
	if _, ok := k.Policies("arn:aws:iam::111122223333:role/ci"); ok {
		t.Error("policies removed are still there")
	}
}
