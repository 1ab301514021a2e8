package control_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// TestDirectoryStandIn declares, lists and removes Directory Service
// directories in strict mode, and registers them with WorkSpaces between.
func TestDirectoryStandIn(t *testing.T) {
	hs := servicetest.New(t, func(c *service.Config) { c.Directories = service.DirectoriesStrict })
	h := control.New(hs.Svc)
	const acct, region, id = "111122223333", "us-east-1", "d-1234567890"
	register := func(id string) error {
		_, err := servicetest.Call(hs.Svc, api.OpRegisterWorkspaceDirectory, servicetest.As(acct, region),
			&api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(id)})
		return err
	}
	steps := []struct {
		name, method, path, body string
		status                   int
		contains                 string
		after                    func(t *testing.T)
	}{
		{name: "undeclared id fails as AWS fails", after: func(t *testing.T) {
			servicetest.WantCode(t, register(id), "ResourceNotFoundException", id)
		}},
		{name: "declare", method: "POST", path: "/_wsim/directories",
			body:   `{"account":"` + acct + `","region":"` + region + `","directoryId":"` + id + `","name":"corp.example.org","users":["jdoe","Alice","alice"]}`,
			status: 201, contains: `"users":["Alice","jdoe"]`},
		{name: "declared users exist, others not", after: func(t *testing.T) {
			for user, want := range map[string]bool{"jdoe": true, "JDOE": true, "alice": true, "bob": false} {
				got, err := records.DirectoryUserExists(t.Context(), hs.Svc.Records(), acct, region, id, user)
				if err != nil || got != want {
					t.Errorf("DirectoryUserExists(%s) = %v, %v, want %v", user, got, err, want)
				}
			}
		}},
		{name: "redeclare replaces", method: "POST", path: "/_wsim/directories",
			body:   `{"account":"` + acct + `","region":"` + region + `","directoryId":"` + id + `","name":"corp.example.org","users":["jdoe","bob"]}`,
			status: 200, contains: `"users":["bob","jdoe"]`},
		{name: "a declared directory registers with its details", after: func(t *testing.T) {
			if err := register(id); err != nil {
				t.Fatal(err)
			}
			out, err := servicetest.Call(hs.Svc, api.OpDescribeWorkspaceDirectories, servicetest.As(acct, region), &api.DescribeWorkspaceDirectoriesInput{})
			if err != nil || len(out.Directories) != 1 || *out.Directories[0].DirectoryName != "corp.example.org" {
				t.Fatalf("described %v, %v", out, err)
			}
		}},
		{name: "not Active", method: "POST", path: "/_wsim/directories",
			body:   `{"account":"` + acct + `","region":"` + region + `","directoryId":"d-abcdef0123","stage":"Creating"}`,
			status: 201, contains: `"stage":"Creating"`, after: func(t *testing.T) {
				servicetest.WantCode(t, register("d-abcdef0123"), "InvalidResourceStateException", "Creating")
			}},
		{name: "list one scope", method: "GET", path: "/_wsim/directories?account=" + acct + "&region=" + region, status: 200, contains: `"mode":"strict"`},
		{name: "still registered", method: "DELETE", path: "/_wsim/directories/" + id + "?account=" + acct + "&region=" + region, status: 409},
		{name: "undeclare", method: "DELETE", path: "/_wsim/directories/d-abcdef0123?account=" + acct + "&region=" + region, status: 204},
		{name: "undeclare again", method: "DELETE", path: "/_wsim/directories/d-abcdef0123?account=" + acct + "&region=" + region, status: 404},
		{name: "delete needs a scope", method: "DELETE", path: "/_wsim/directories/" + id, status: 400},
		{name: "unknown parameter", method: "GET", path: "/_wsim/directories?acount=1", status: 400},
		{name: "bad account", method: "POST", path: "/_wsim/directories", body: `{"account":"12","region":"us-east-1","directoryId":"d-1234567890"}`, status: 400},
		{name: "bad id", method: "POST", path: "/_wsim/directories", body: `{"account":"111122223333","region":"us-east-1","directoryId":"d-XYZ"}`, status: 400},
		{name: "bad stage", method: "POST", path: "/_wsim/directories", body: `{"account":"111122223333","region":"us-east-1","directoryId":"d-1234567890","stage":"Sleepy"}`, status: 400},
		{name: "bad subnets", method: "POST", path: "/_wsim/directories", body: `{"account":"111122223333","region":"us-east-1","directoryId":"d-1234567890","subnetIds":["subnet-12345678"]}`, status: 400},
		{name: "unknown field", method: "POST", path: "/_wsim/directories", body: `{"account":"111122223333","region":"us-east-1","directoryId":"d-1234567890","user":["x"]}`, status: 400},
	}
	for _, s := range steps {
		if s.method != "" {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(s.method, s.path, strings.NewReader(s.body)))
			if w.Code != s.status || !strings.Contains(w.Body.String(), s.contains) {
				t.Fatalf("%s: %s %s = %d %s, want %d with %s", s.name, s.method, s.path, w.Code, w.Body, s.status, s.contains)
			}
		}
		if s.after != nil {
			t.Run(s.name, s.after)
		}
	}
	// Deregistered and gone, the directory can be undeclared.
	hs.Advance(time.Minute)
	if _, err := servicetest.Call(hs.Svc, api.OpDeregisterWorkspaceDirectory, servicetest.As(acct, region),
		&api.DeregisterWorkspaceDirectoryInput{DirectoryId: api.String(id)}); err != nil {
		t.Fatal(err)
	}
	hs.Advance(time.Minute)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("DELETE", "/_wsim/directories/"+id+"?account="+acct+"&region="+region, nil))
	if w.Code != 204 {
		t.Fatalf("undeclare after deregistration = %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/_wsim/directories", nil))
	var list struct {
		Directories []map[string]any `json:"directories"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Directories) != 0 {
		t.Fatalf("list = %s, %v", w.Body, err)
	}
}

func TestFriendlyModeAcceptsEveryUser(t *testing.T) {
	hs := servicetest.New(t)
	ok, err := records.DirectoryUserExists(t.Context(), hs.Svc.Records(), "111122223333", "us-east-1", "d-1234567890", "anyone")
	if err != nil || !ok {
		t.Fatalf("DirectoryUserExists = %v, %v", ok, err)
	}
	w := httptest.NewRecorder()
	control.New(hs.Svc).ServeHTTP(w, httptest.NewRequest("GET", "/_wsim/health", nil))
	if !strings.Contains(w.Body.String(), `"directories":"friendly"`) {
		t.Errorf("health = %s", w.Body)
	}
}
