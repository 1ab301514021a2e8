package sts

import (
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name, method, target, contentType, body string
		action                                  string // "" when not a query-protocol request
	}{
		{"form POST", "POST", "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15", "GetCallerIdentity"},
		{"form POST with charset", "POST", "/", "application/x-www-form-urlencoded; charset=utf-8", "Action=AssumeRole", "AssumeRole"},
		{"the body wins over the query", "POST", "/?Action=AssumeRole", "application/x-www-form-urlencoded", "Action=GetCallerIdentity", "GetCallerIdentity"},
		{"Action from the query", "POST", "/?Action=GetCallerIdentity", "application/x-www-form-urlencoded", "Version=2011-06-15", "GetCallerIdentity"},
		{"GET", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", "", "GetCallerIdentity"},
		{"GET ignores the body", "GET", "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity", ""},
		{"JSON", "POST", "/", "application/x-amz-json-1.1", "Action=GetCallerIdentity", ""},
		{"no content type", "POST", "/", "", "Action=GetCallerIdentity", ""},
		{"no Action", "POST", "/", "application/x-www-form-urlencoded", "Version=2011-06-15", ""},
		{"empty Action", "POST", "/", "application/x-www-form-urlencoded", "Action=", ""},
		{"bad escape", "POST", "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&x=%", ""},
		{"too large", "POST", "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&x=" + strings.Repeat("a", 100), ""},
		{"DELETE", "DELETE", "/?Action=GetCallerIdentity", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			req, ok := Read(r, 64)
			if ok != (tt.action != "") || req.Action != tt.action {
				t.Errorf("Read = %+v, %v; want action %q", req, ok, tt.action)
			}
		})
	}
}

func TestServe(t *testing.T) {
	caller := auth.Caller{Account: "111122223333", Region: "us-gov-west-1", AccessKey: "111122223333"}
	get := Request{Action: "GetCallerIdentity", Params: map[string][]string{"Version": {"2011-06-15"}}}
	resp := Serve(get, caller, nil, "req-1")
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>arn:aws-us-gov:iam::111122223333:user/wsim</Arn><UserId>AIDAWSIM111122223333</UserId><Account>111122223333</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	if resp.Status != 200 || string(resp.Body) != want || resp.Code != "" || resp.Operation != OpGetCallerIdentity {
		t.Errorf("Serve = %d %s %q %q\nwant %s", resp.Status, resp.Body, resp.Code, resp.Operation, want)
	}

	// An echoed action is cut, escaped, and never breaks the XML.
	hostile := Request{Action: "<x>\x00\xff" + strings.Repeat("A", 5000), Params: map[string][]string{}}
	resp = Serve(hostile, caller, nil, "req-2")
	var doc struct {
		Error struct{ Type, Code, Message string }
	}
	if err := xml.Unmarshal(resp.Body, &doc); err != nil || resp.Status != 400 || doc.Error.Code != "InvalidAction" || doc.Error.Type != "Sender" || len(resp.Body) > 1024 {
		t.Errorf("Serve(hostile) = %d %s: %v", resp.Status, resp.Body, err)
	}

	resp = Serve(get, auth.Caller{}, &api.Error{Code: "InvalidSignatureException", Status: 403, Message: "Credential should be scoped to correct service: 'sts'."}, "req-3")
	if resp.Status != 403 || resp.Code != "SignatureDoesNotMatch" || !strings.Contains(string(resp.Body), "<Message>Credential should be scoped to correct service: &#39;sts&#39;.</Message>") {
		t.Errorf("Serve(signature error) = %d %s", resp.Status, resp.Body)
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "aws", "eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "": "aws"} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}

// Errors of a verified signature take STS's names and statuses.
func TestServeSignatureErrors(t *testing.T) {
	get := Request{Action: "GetCallerIdentity", Params: map[string][]string{"Version": {"2011-06-15"}}}
	tests := []struct {
		code       string
		status     int
		wantCode   string
		wantStatus int
	}{
		{"InvalidSignatureException", 403, "SignatureDoesNotMatch", 403},
		{"UnrecognizedClientException", 400, "InvalidClientTokenId", 403},
		{"MissingAuthenticationTokenException", 400, "MissingAuthenticationToken", 403},
		{"IncompleteSignatureException", 400, "IncompleteSignature", 400},
	}
	for _, tt := range tests {
		resp := Serve(get, auth.Caller{}, &api.Error{Code: tt.code, Status: tt.status, Message: "m"}, "req")
		if resp.Code != tt.wantCode || resp.Status != tt.wantStatus {
			t.Errorf("%s: %s %d, want %s %d", tt.code, resp.Code, resp.Status, tt.wantCode, tt.wantStatus)
		}
	}
}

func TestIdentityOfAVerifiedPrincipal(t *testing.T) {
	arn, _ := Identity(auth.Caller{Account: "111122223333", Region: "us-east-1", Principal: "arn:aws:iam::111122223333:role/ci"})
	if arn != "arn:aws:iam::111122223333:role/ci" {
		t.Errorf("Identity = %s", arn)
	}
}
