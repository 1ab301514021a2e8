package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/pipeline"
)

func TestParseServeArgsDefaults(t *testing.T) {
	t.Setenv("WSIM_DATA_DIR", "/var/lib/wsim-test")
	f, o, err := ParseServeArgs(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.Addr != "127.0.0.1:4599" || f.LogFormat != "text" || f.LogLevel != "info" {
		t.Errorf("flags = %+v", f)
	}
	if o.Store != "sqlite" || o.DataDir != "/var/lib/wsim-test" || o.Profile.Name != pipeline.DefaultProfile ||
		o.ImageQuota != DefaultImageQuota || o.BundleQuota != DefaultBundleQuota || o.BYOL != BYOLFriendly ||
		o.DefaultAccount != DefaultAccount || o.DefaultRegion != DefaultRegion || o.Logger == nil || o.Registry == nil || o.Now != nil {
		t.Errorf("options = %+v", o)
	}
}

func TestParseServeArgs(t *testing.T) {
	var logs bytes.Buffer
	f, o, err := ParseServeArgs([]string{
		"--addr", "127.0.0.1:0", "--store", "memory", "--data-dir", "/d", "--profile", "instant",
		"--stage-duration", "GENERALIZING=10m", "--stage-duration=PENDING=1m,VALIDATING=2m",
		"--image-quota", "2", "--bundle-quota=3", "--byol", "strict",
		"--default-account", "999988887777", "--default-region", "eu-west-1",
		"--log-format", "json", "--log-level", "debug",
	}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if f.Addr != "127.0.0.1:0" {
		t.Errorf("Addr = %q", f.Addr)
	}
	if o.Store != "memory" || o.DataDir != "/d" || o.ImageQuota != 2 || o.BundleQuota != 3 || o.BYOL != BYOLStrict ||
		o.DefaultAccount != "999988887777" || o.DefaultRegion != "eu-west-1" {
		t.Errorf("options = %+v", o)
	}
	p := o.Profile
	if p.Name != pipeline.ProfileInstant || p.Duration(pipeline.KindCustomImport, "GENERALIZING") != 10*time.Minute ||
		p.Duration(pipeline.KindCopy, "PENDING") != time.Minute || p.Duration(pipeline.KindCustomImport, "VALIDATING") != 2*time.Minute ||
		p.Duration(pipeline.KindCustomImport, "PUBLISHING") != 0 {
		t.Errorf("profile %s: GENERALIZING %v, PENDING %v, VALIDATING %v, PUBLISHING %v", p.Name,
			p.Duration(pipeline.KindCustomImport, "GENERALIZING"), p.Duration(pipeline.KindCopy, "PENDING"),
			p.Duration(pipeline.KindCustomImport, "VALIDATING"), p.Duration(pipeline.KindCustomImport, "PUBLISHING"))
	}
	o.Logger.Debug("hello")
	if !strings.Contains(logs.String(), `"msg":"hello"`) || !strings.Contains(logs.String(), `"level":"DEBUG"`) {
		t.Errorf("a JSON debug logger wrote %q", logs.String())
	}
}

func TestParseServeArgsErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "leisurely"}, `--profile: unknown timing profile "leisurely"`},
		{[]string{"--stage-duration", "LUNCH=1h"}, `--stage-duration: cannot override "LUNCH"`},
		{[]string{"--byol", "lenient"}, `--byol: unknown BYOL mode "lenient"`},
		{[]string{"--log-level", "loud"}, "--log-level:"},
		{[]string{"--log-format", "xml"}, `--log-format must be text or json, not "xml"`},
		{[]string{"--image-quota", "many"}, "image-quota"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		if _, _, err := ParseServeArgs(tt.args, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseServeArgs(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestClockCacheTTL(t *testing.T) {
	for spec, want := range map[string]time.Duration{
		"memory": time.Hour, "sqlite": time.Hour, "sqlite:/x.db": time.Hour, "": time.Hour,
		"postgres://h/db": 0, "postgresql://h/db": 0,
	} {
		if got := clockCacheTTL(spec); got != want {
			t.Errorf("clockCacheTTL(%q) = %v, want %v", spec, got, want)
		}
	}
}

func TestNew(t *testing.T) {
	profile, err := pipeline.LookupProfile(pipeline.ProfileRealistic)
	if err != nil {
		t.Fatal(err)
	}
	real := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	a, err := New(t.Context(), Options{Store: "memory", Profile: profile, Now: func() time.Time { return real }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if d := a.Describe(); d.Profile != "realistic" || !strings.Contains(d.Store, "in-memory") {
		t.Errorf("Describe() = %+v", d)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for path, want := range map[string]string{"/_wsim/health": `"profile":"realistic"`, "/metrics": "wsim_api_requests_total"} {
		if path == "/metrics" { // counted once a request was served
			http.Post(srv.URL+"/", "application/x-amz-json-1.1", nil)
		}
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %s, want %s", path, resp.StatusCode, body, want)
		}
	}
	if now, err := a.Clock().Now(t.Context()); err != nil || !now.Equal(real) {
		t.Errorf("Clock().Now() = %v, %v; want the real clock of Options.Now, %v", now, err, real)
	}

	ctx := context.Background()
	r, err := a.AddFaultRule(ctx, pipeline.FaultRule{NamePattern: "x-*", FailAt: "PENDING"})
	if err != nil || r.ID == "" {
		t.Fatalf("AddFaultRule: %+v, %v", r, err)
	}
	if _, err := a.AddFaultRule(ctx, pipeline.FaultRule{FailAt: "COMPLETED"}); !errors.Is(err, ErrInvalidFaultRule) {
		t.Errorf("an invalid rule: %v, want ErrInvalidFaultRule", err)
	}
	if rules, err := a.FaultRules(ctx); err != nil || len(rules) != 1 || rules[0] != r {
		t.Errorf("FaultRules = %+v, %v", rules, err)
	}
	if err := a.DeleteFaultRule(ctx, "rule-none"); !errors.Is(err, ErrNoSuchFaultRule) {
		t.Errorf("deleting an unknown rule: %v, want ErrNoSuchFaultRule", err)
	}
	if err := a.DeleteFaultRule(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if rules, _ := a.FaultRules(ctx); len(rules) != 0 {
		t.Errorf("after deleting all: %+v", rules)
	}
}

func TestNewSQLiteAndClose(t *testing.T) {
	dir := t.TempDir()
	a, err := New(t.Context(), Options{Store: "sqlite", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d := a.Describe(); d.Store != "SQLite store at "+filepath.Join(dir, "wsim.db") || d.Profile != "" {
		t.Errorf("Describe() = %+v", d)
	}
	if _, err := New(t.Context(), Options{Store: "sqlite", DataDir: dir}); err == nil {
		t.Errorf("a second App opened the SQLite file in use")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Clock().Freeze(t.Context()); err == nil {
		t.Errorf("the clock of a closed App froze")
	}
	// Closing released the file.
	b, err := New(t.Context(), Options{Store: "sqlite", DataDir: dir})
	if err != nil {
		t.Fatalf("reopening after Close: %v", err)
	}
	b.Close()
}

func TestNewRefusesAnUnknownStore(t *testing.T) {
	if _, err := New(t.Context(), Options{Store: "mongodb://x"}); err == nil || !strings.Contains(err.Error(), "unknown store") {
		t.Errorf("New with an unknown store: %v", err)
	}
}
