package control

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestProfilerBounds: ?seconds= is refused outside (0, MaxProfileSeconds]
// before anything is profiled, and a second CPU profile or trace while one
// runs is told to wait instead of failing inside the runtime.
func TestProfilerBounds(t *testing.T) {
	for _, tt := range []struct {
		query  string
		status int
	}{
		{"profile?seconds=31", http.StatusBadRequest},
		{"profile?seconds=0", http.StatusBadRequest},
		{"profile?seconds=-5", http.StatusBadRequest},
		{"profile?seconds=2.5", http.StatusBadRequest},
		{"profile?seconds=", http.StatusBadRequest},
		{"trace?seconds=30.01", http.StatusBadRequest},
		{"trace?seconds=NaN", http.StatusBadRequest},
		{"trace?seconds=Inf", http.StatusBadRequest},
		{"heap?seconds=86400", http.StatusBadRequest},
		{"allocs?seconds=x", http.StatusBadRequest},
		{"heap", http.StatusOK},
		{"goroutine?debug=1", http.StatusOK},
		{"nosuch", http.StatusNotFound},
	} {
		t.Run(tt.query, func(t *testing.T) {
			w := httptest.NewRecorder()
			(&profiler{}).ServeHTTP(w, httptest.NewRequest("GET", pprofPrefix+tt.query, nil))
			if w.Code != tt.status {
				t.Fatalf("GET %s%s = %d %.200s, want %d", pprofPrefix, tt.query, w.Code, w.Body, tt.status)
			}
			if tt.status == http.StatusBadRequest && !strings.Contains(w.Body.String(), "at most 30 seconds") {
				t.Errorf("body = %s, want the bound", w.Body)
			}
		})
	}
	for _, name := range []string{"profile", "trace"} {
		p := &profiler{}
		mu := &p.cpu
		if name == "trace" {
			mu = &p.trace
		}
		mu.Lock() // one is being taken
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest("GET", pprofPrefix+name+"?seconds=1", nil))
		mu.Unlock()
		if w.Code != http.StatusConflict || w.Header().Get("Retry-After") == "" {
			t.Errorf("a second %s = %d %s, want 409 with Retry-After", name, w.Code, w.Body)
		}
	}
}
