package control_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/service/servicetest"
)

func TestPolicies(t *testing.T) {
	f, err := auth.ParseCredentials([]byte(`{"credentials":[{"accessKeyId":"AKIA1","secretAccessKey":"s","principal":"arn:aws:iam::111122223333:role/ci"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeyring(f)
	var actions []string
	h := control.New(servicetest.New(t).Svc, control.WithPolicies(keys), control.WithActionHook(func(a string) { actions = append(actions, a) }))
	friendly := control.New(servicetest.New(t).Svc, control.WithPolicies(nil))
	const allowDescribe = `{"policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"workspaces:Describe*","Resource":"*"}}]}`
	tests := []struct {
		name       string
		h          http.Handler
		method     string
		path, body string
		status     int
		want       string
	}{
		{"list", h, "GET", "/_wsim/policies", "", 200, `"fullAccess":true`},
		{"by key", h, "GET", "/_wsim/policies/AKIA1", "", 200, `"principal":"arn:aws:iam::111122223333:role/ci"`},
		{"put", h, "PUT", "/_wsim/policies/arn:aws:iam::111122223333:role/ci", allowDescribe, 200, `"Action":["workspaces:Describe*"]`},
		{"after put", h, "GET", "/_wsim/policies/arn:aws:iam::111122223333:role/ci", "", 200, `"fullAccess":false`},
		{"malformed policy", h, "PUT", "/_wsim/policies/AKIA1", `{"policies":[{"Statement":{"Effect":"Allow","Resource":"*"}}]}`, 400, "Action or NotAction is required"},
		{"no policies member", h, "PUT", "/_wsim/policies/AKIA1", `{}`, 400, "is required: a list of IAM policy documents"},
		{"too many", h, "PUT", "/_wsim/policies/AKIA1", `{"policies":[` + strings.TrimSuffix(strings.Repeat(`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}},`, 21), ",") + `]}`, 400, "at most 20"},
		{"unknown principal", h, "PUT", "/_wsim/policies/arn:aws:iam::111122223333:role/other", allowDescribe, 404, "no such principal"},
		{"delete", h, "DELETE", "/_wsim/policies/AKIA1", "", 204, ""},
		{"after delete", h, "GET", "/_wsim/policies/AKIA1", "", 200, `"fullAccess":true`},
		{"friendly mode", friendly, "GET", "/_wsim/policies", "", 409, "--auth sigv4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, bytes.NewBufferString(tt.body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			tt.h.ServeHTTP(w, r)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
				t.Fatalf("%s %s = %d %s, want %d containing %q", tt.method, tt.path, w.Code, w.Body, tt.status, tt.want)
			}
			if w.Code == 200 && !json.Valid(w.Body.Bytes()) {
				t.Errorf("not JSON: %s", w.Body)
			}
		})
	}
	if strings.Join(actions, ",") != control.ActionPolicyPut+","+control.ActionPolicyDelete {
		t.Errorf("actions = %v", actions)
	}
}
