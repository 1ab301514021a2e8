package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
	"github.com/wsim/wsim/internal/store"
)

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return m
}

func (w *world) images(account, region string) int {
	w.t.Helper()
	out, err := servicetest.Call(w.svc, api.OpDescribeWorkspaceImages, servicetest.As(account, region), &api.DescribeWorkspaceImagesInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(out.Images)
}

func TestReset(t *testing.T) {
	w := newWorld(t)
	w.importImage(acctA, "eu-west-1", "other-region")
	w.post("/_wsim/faults", `{"failAt":"PENDING","namePattern":"never-*"}`, http.StatusCreated)
	w.post("/_wsim/clock", `{"action":"advance","by":"1h"}`, http.StatusOK)

	for _, tt := range []struct {
		body, want string
	}{
		{`{"region":"us-east-1"}`, "needs its account"},
		{`{"account":"1234"}`, "not a 12-digit"},
		{`{"account":"` + acctA + `","regoin":"us-east-1"}`, "unknown field"},
		{`[]`, "invalid JSON"},
	} {
		rec := w.do(http.MethodPost, "/_wsim/reset", tt.body)
		if rec.Code != http.StatusBadRequest || !strings.Contains(decode(t, rec.Body.Bytes())["error"].(string), tt.want) {
			t.Errorf("POST /_wsim/reset %s = %d %s, want 400 with %q", tt.body, rec.Code, rec.Body, tt.want)
		}
	}
	if rec := w.do(http.MethodGet, "/_wsim/reset", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET /_wsim/reset = %d, want 404", rec.Code)
	}

	rec := w.do(http.MethodPost, "/_wsim/reset", `{"account":"`+acctA+`","region":"us-east-1"}`)
	want := map[string]any{"scope": "region", "account": acctA, "region": "us-east-1",
		"removed": map[string]any{"image": 1.0}, "unshared": 0.0, "clock": "kept", "faultRules": 0.0}
	if diff := cmp.Diff(want, decode(t, rec.Body.Bytes())); rec.Code != http.StatusOK || diff != "" {
		t.Fatalf("scoped reset = %d (-want +got):\n%s", rec.Code, diff)
	}
	if w.images(acctA, "us-east-1") != 0 || w.images(acctA, "eu-west-1") != 1 || w.images(acctB, "eu-west-1") != 1 {
		t.Errorf("the scoped reset removed the wrong images")
	}
	if clk := decode(t, w.get("/_wsim/clock", http.StatusOK).Body.Bytes()); clk["now"] != "2026-03-01T13:00:00Z" || clk["frozen"] != true {
		t.Errorf("a scoped reset changed the clock: %v", clk)
	}

	rec = w.do(http.MethodPost, "/_wsim/reset", `{"account":"`+acctA+`"}`)
	if got := decode(t, rec.Body.Bytes()); got["scope"] != "account" || got["region"] != nil || got["removed"].(map[string]any)["image"] != 1.0 {
		t.Errorf("account reset = %s", rec.Body)
	}
	rec = w.do(http.MethodPost, "/_wsim/reset", `{"account":"`+acctA+`"}`)
	if got := decode(t, rec.Body.Bytes()); rec.Code != http.StatusOK || len(got["removed"].(map[string]any)) != 0 {
		t.Errorf("resetting an empty account = %d %s, want nothing removed", rec.Code, rec.Body)
	}

	// Everything, with an empty body as with {}: the clock runs at real time
	// again and the rules are gone.
	rec = w.do(http.MethodPost, "/_wsim/reset", "")
	want = map[string]any{"scope": "all", "removed": map[string]any{"image": 1.0}, "unshared": 0.0, "clock": "reset", "faultRules": 1.0}
	if diff := cmp.Diff(want, decode(t, rec.Body.Bytes())); rec.Code != http.StatusOK || diff != "" {
		t.Fatalf("full reset = %d (-want +got):\n%s", rec.Code, diff)
	}
	clk := decode(t, w.get("/_wsim/clock", http.StatusOK).Body.Bytes())
	if clk["now"] != "2026-03-01T12:00:00Z" || clk["frozen"] != false || clk["offsetSeconds"] != 0.0 {
		t.Errorf("after a full reset the clock is %v, want running at real time", clk)
	}
	if rules := decode(t, w.get("/_wsim/faults", http.StatusOK).Body.Bytes())["rules"].([]any); len(rules) != 0 {
		t.Errorf("after a full reset the rules are %v", rules)
	}
	if w.images(acctB, "eu-west-1") != 0 {
		t.Errorf("the full reset left images")
	}
}

// TestMotoReset checks /moto-api/reset resets everything and answers as
// moto's server mode does, for moto's decorator, which posts no body.
func TestMotoReset(t *testing.T) {
	w := newWorld(t)
	rec := w.do(http.MethodPost, "/moto-api/reset", "")
	if rec.Code != http.StatusOK || rec.Body.String() != `{"status": "ok"}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("POST /moto-api/reset = %d %q (%s)", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
	}
	if w.images(acctA, "us-east-1") != 0 || w.images(acctB, "eu-west-1") != 0 {
		t.Errorf("moto's reset left images")
	}
	if rec := w.do(http.MethodPost, "/moto-api/reset", `{"region":"us-east-1"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("moto reset of a Region alone = %d, want 400", rec.Code)
	}
	if rec := w.do(http.MethodGet, "/moto-api/data.json", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET /moto-api/data.json = %d, want 404", rec.Code)
	}
}

// TestClockRules checks the control plane refuses what would overflow or
// leave the range, and says when a reset could not return to real time.
func TestClockRules(t *testing.T) {
	w := newWorld(t)
	for _, body := range []string{
		`{"action":"advance","by":"2562047h"}`,
		`{"action":"advance","by":"2000000h"}`,
		`{"action":"set","to":"9999-12-31T23:59:59Z"}`,
		`{"action":"set","to":"2200-01-01T00:00:00.000000001Z"}`,
		`{"action":"advance","by":"99999999999h"}`,
	} {
		rec := w.do(http.MethodPost, "/_wsim/clock", body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("POST /_wsim/clock %s = %d %s, want 400", body, rec.Code, rec.Body)
		}
	}
	if clk := decode(t, w.get("/_wsim/clock", http.StatusOK).Body.Bytes()); clk["now"] != "2026-03-01T12:00:00Z" {
		t.Errorf("refused changes moved the clock to %v", clk["now"])
	}
	// Two large advances: the second is refused rather than wrapping back.
	w.post("/_wsim/clock", `{"action":"advance","by":"1500000h"}`, http.StatusOK)
	rec := w.do(http.MethodPost, "/_wsim/clock", `{"action":"advance","by":"1500000h"}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z") {
		t.Errorf("second large advance = %d %s, want 400 naming the range", rec.Code, rec.Body)
	}
	w.post("/_wsim/clock", `{"action":"set","to":"2200-01-01T00:00:00Z"}`, http.StatusOK)

	// The clock is ahead of real time: reset keeps it, says so, and runs.
	rec = w.do(http.MethodPost, "/_wsim/clock", `{"action":"reset"}`)
	got := decode(t, rec.Body.Bytes())
	if rec.Code != http.StatusOK || got["now"] != "2200-01-01T00:00:00Z" || got["frozen"] != false ||
		!strings.Contains(fmt_(got["note"]), "would move it back") {
		t.Errorf("reset ahead of real time = %d %v", rec.Code, got)
	}
	if got["frozenAt"] != nil {
		t.Errorf("a running clock shows frozenAt %v", got["frozenAt"])
	}
	w.post("/_wsim/clock", `{"action":"freeze"}`, http.StatusOK)
	if got := decode(t, w.get("/_wsim/clock", http.StatusOK).Body.Bytes()); got["frozenAt"] != "2200-01-01T00:00:00Z" {
		t.Errorf("a frozen clock shows frozenAt %v", got["frozenAt"])
	}
}

func fmt_(v any) string { s, _ := v.(string); return s }

func TestHealth(t *testing.T) {
	prof, err := pipeline.ParseOverrides(pipeline.Profile{Name: pipeline.ProfileQuick}, []string{"GENERALIZING=10m", "PENDING=0s"})
	if err != nil {
		t.Fatal(err)
	}
	svc := servicetest.New(t, func(c *service.Config) {
		c.Now = func() time.Time { return t0 }
		c.Profile = prof
		c.BYOL = service.BYOLStrict
		c.Directories = service.DirectoriesStrict
	}).Svc
	h := control.New(svc, control.WithAbout(control.About{Version: "v1.2.3", Store: "in-memory store (state is lost on exit)"}))
	w := &world{t: t, svc: svc, h: h}
	w.post("/_wsim/clock", `{"action":"freeze"}`, http.StatusOK)
	rec := w.get("/_wsim/health", http.StatusOK)
	want := map[string]any{
		"status": "ok", "version": "v1.2.3", "store": "in-memory store (state is lost on exit)", "storeWritable": true,
		"profile": "quick", "stageOverrides": map[string]any{"GENERALIZING": "10m0s", "PENDING": "0s"}, "byol": "strict",
		"directories": "strict",
		"clock": map[string]any{"now": "2026-03-01T12:00:00Z", "epoch": 1772366400.0, "frozen": true, "offsetSeconds": 0.0,
			"frozenAt": "2026-03-01T12:00:00Z"},
	}
	if diff := cmp.Diff(want, decode(t, rec.Body.Bytes())); diff != "" {
		t.Errorf("health (-want +got):\n%s", diff)
	}
	// The probe really writes.
	if hb, err := svc.Store().Get(context.Background(), store.Key{Kind: "setting", ID: "heartbeat"}); err != nil || len(hb.Body) == 0 {
		t.Errorf("no heartbeat written: %v", err)
	}
}

// readOnly is a store whose reads work and whose writes fail.
type readOnly struct{ store.Store }

func (readOnly) Update(context.Context, func(store.Tx) error) error {
	return errors.New("disk full")
}

func TestHealthDegraded(t *testing.T) {
	st, err := store.Open(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := service.New(service.Config{Now: func() time.Time { return t0 }}, readOnly{st})
	w := &world{t: t, svc: svc, h: control.New(svc)}
	got := decode(t, w.get("/_wsim/health", http.StatusServiceUnavailable).Body.Bytes())
	if got["status"] != "degraded" || got["storeWritable"] != false || !strings.Contains(fmt_(got["reason"]), "disk full") ||
		got["clock"] == nil {
		t.Errorf("health of a read-only store = %v", got)
	}

	// A store that is gone: neither writes nor the clock.
	st.Close()
	got = decode(t, w.get("/_wsim/health", http.StatusServiceUnavailable).Body.Bytes())
	if got["status"] != "degraded" || got["clock"] != nil || !strings.Contains(fmt_(got["reason"]), "clock cannot be read") {
		t.Errorf("health of a closed store = %v", got)
	}
}
