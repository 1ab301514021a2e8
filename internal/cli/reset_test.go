package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestResetCommand runs wsim reset against a fake control API and checks
// the body it posts and what it prints.
func TestResetCommand(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		var req map[string]string
		json.Unmarshal(b, &req)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case req["account"] == "":
			io.WriteString(w, `{"scope":"all","removed":{"image":3,"image-share":2},"unshared":0,"clock":"reset","faultRules":2}`)
		case req["region"] == "":
			io.WriteString(w, `{"scope":"account","account":"111122223333","removed":{},"unshared":1,"clock":"kept","faultRules":0}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"account \"1\" is not a 12-digit AWS account id"}`)
		}
	}))
	defer srv.Close()
	run := func(args ...string) (string, error) {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append(args, "--endpoint", srv.URL))
		err := root.Execute()
		return out.String(), err
	}

	out, err := run("reset")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Reset:        everything", "Removed:      image 3, image-share 2", "Clock:        reset to real time, running", "Fault rules:  2 removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("wsim reset printed\n%s\nwithout %q", out, want)
		}
	}
	out, err = run("reset", "--account", "111122223333", "-o", "json")
	if err != nil || !strings.Contains(out, `"scope": "account"`) || !strings.Contains(out, `"unshared": 1`) {
		t.Errorf("wsim reset --account -o json = %q, %v", out, err)
	}
	out, err = run("reset", "--account", "111122223333")
	if err != nil || !strings.Contains(out, "Removed:      nothing") || !strings.Contains(out, "account 111122223333 in every Region") ||
		!strings.Contains(out, "Fault rules:  kept") {
		t.Errorf("wsim reset --account = %q, %v", out, err)
	}
	if _, err := run("reset", "--account", "1", "--region", "us-east-1"); err == nil || !strings.Contains(err.Error(), "400") ||
		!strings.Contains(err.Error(), "12-digit") {
		t.Errorf("a refused reset: %v, want the 400 and its error", err)
	}
	if _, err := run("reset", "--region", "us-east-1"); err == nil || !strings.Contains(err.Error(), "--region needs --account") {
		t.Errorf("--region alone: %v", err)
	}
	want := []string{
		`POST /_wsim/reset {}`,
		`POST /_wsim/reset {"account":"111122223333"}`,
		`POST /_wsim/reset {"account":"111122223333"}`,
		`POST /_wsim/reset {"account":"1","region":"us-east-1"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
