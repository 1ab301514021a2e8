package control_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// TestActionsAreLoggedAndCounted checks that every control-plane action
// that takes effect is logged at info with who asked and what changed, and
// passed to the action hook; refused ones are neither.
func TestActionsAreLoggedAndCounted(t *testing.T) {
	svc := servicetest.New(t, func(c *service.Config) { c.Now = func() time.Time { return t0 } }).Svc
	var logs bytes.Buffer
	var hooked []string
	h := control.New(svc,
		control.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		control.WithActionHook(func(a string) { hooked = append(hooked, a) }))

	tests := []struct {
		method, path, body string
		status             int
		action             string            // "" when nothing took effect
		attrs              map[string]string // expected in the log record
	}{
		{"POST", "/_wsim/clock", `{"action":"freeze"}`, 200, control.ActionClockFreeze, map[string]string{"frozen": "true", "now": "2026-03-01T12:00:00Z"}},
		{"POST", "/_wsim/clock", `{"action":"advance","by":"45m"}`, 200, control.ActionClockAdvance, map[string]string{"by": "45m", "now": "2026-03-01T12:45:00Z"}},
		{"POST", "/_wsim/clock", `{"action":"set","to":"2026-03-02T00:00:00Z"}`, 200, control.ActionClockSet, map[string]string{"to": "2026-03-02T00:00:00Z", "now": "2026-03-02T00:00:00Z"}},
		{"POST", "/_wsim/clock", `{"action":"resume"}`, 200, control.ActionClockResume, map[string]string{"frozen": "false"}},
		{"POST", "/_wsim/clock", `{"action":"reset"}`, 200, control.ActionClockReset, map[string]string{"frozen": "false"}},
		{"POST", "/_wsim/clock", `{"action":"advance","by":"soon"}`, 400, "", nil},
		{"POST", "/_wsim/clock", `{"action":"rewind"}`, 400, "", nil},
		{"POST", "/_wsim/faults", `{"namePattern":"doomed-*","failAt":"GENERALIZING"}`, 201, control.ActionFaultAdd, nil},
		{"POST", "/_wsim/faults", `{"failAt":"LUNCH"}`, 400, "", nil},
		{"DELETE", "/_wsim/faults/nope", "", 404, "", nil},
		{"DELETE", "/_wsim/faults", "", 204, control.ActionFaultDelete, map[string]string{"rule_id": "all"}},
		{"GET", "/_wsim/clock", "", 200, "", nil},
	}
	for i, tt := range tests {
		logs.Reset()
		hooked = nil
		r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		r.RemoteAddr = fmt.Sprintf("192.0.2.7:%d", 50000+i)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Fatalf("%s %s %s = %d %s, want %d", tt.method, tt.path, tt.body, w.Code, w.Body, tt.status)
		}
		if tt.action == "" {
			if logs.Len() > 0 || hooked != nil {
				t.Errorf("%s %s %s: nothing took effect, yet logged %q and hooked %q", tt.method, tt.path, tt.body, logs.String(), hooked)
			}
			continue
		}
		if len(hooked) != 1 || hooked[0] != tt.action {
			t.Errorf("%s %s %s: hook got %q, want [%s]", tt.method, tt.path, tt.body, hooked, tt.action)
		}
		var rec map[string]any
		if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
			t.Fatalf("%s %s %s: log %q: %v", tt.method, tt.path, tt.body, logs.String(), err)
		}
		if rec["level"] != "INFO" || rec["msg"] != "control action" || rec["action"] != tt.action || rec["remote_addr"] != r.RemoteAddr {
			t.Errorf("%s %s %s: log record %v, want an INFO control action %s from %s", tt.method, tt.path, tt.body, rec, tt.action, r.RemoteAddr)
		}
		for k, v := range tt.attrs {
			if got := jsonString(rec[k]); got != v {
				t.Errorf("%s %s %s: log %s = %v, want %s", tt.method, tt.path, tt.body, k, rec[k], v)
			}
		}
		if tt.action == control.ActionFaultAdd {
			rule, _ := rec["rule"].(map[string]any)
			if rule["id"] == "" || rule["namePattern"] != "doomed-*" {
				t.Errorf("fault.add logged rule %v", rec["rule"])
			}
		}
	}
}

func jsonString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestNewWithoutOptions: a control plane built as before logs nothing and
// calls no hook, and still works.
func TestNewWithoutOptions(t *testing.T) {
	svc := servicetest.New(t).Svc
	w := httptest.NewRecorder()
	control.New(svc).ServeHTTP(w, httptest.NewRequest("POST", "/_wsim/clock", strings.NewReader(`{"action":"freeze"}`)))
	if w.Code != http.StatusOK {
		t.Errorf("freeze = %d %s", w.Code, w.Body)
	}
}
