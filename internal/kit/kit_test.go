package kit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/store"
)

func newEnv(t *testing.T) *Env {
	st, err := store.Open(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db := records.Open(st, records.Config{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &Env{DB: db, Clock: clock.New(records.ClockSource{DB: db}, func() time.Time { return t0 }, 0)}
}

func tag(k, v string) api.Tag { return api.Tag{Key: api.String(k), Value: api.String(v)} }

func errCode(err error) string {
	var apiErr api.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	if err != nil {
		return "other"
	}
	return ""
}

func TestCheckTags(t *testing.T) {
	many := make([]api.Tag, MaxTags+1)
	for i := range many {
		many[i] = tag(strings.Repeat("k", i+1), "v")
	}
	tests := []struct {
		name string
		tags []api.Tag
		want string
	}{
		{"none", nil, ""},
		{"some", []api.Tag{tag("team", "a"), tag("env", "")}, ""},
		{"the most", many[:MaxTags], ""},
		{"too many", many, "ResourceLimitExceededException"},
		{"reserved", []api.Tag{tag("AWS:thing", "x")}, "InvalidParameterValuesException"},
		{"twice", []api.Tag{tag("a", "1"), tag("a", "2")}, "InvalidParameterValuesException"},
	}
	for _, tt := range tests {
		if _, err := CheckTags(tt.tags); errCode(err) != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if m := TagMap([]api.Tag{tag("a", "1"), {Key: api.String("b")}}); m["a"] != "1" || m["b"] != "" || len(m) != 2 {
		t.Errorf("TagMap = %v", m)
	}
}

func TestBegin(t *testing.T) {
	env := newEnv(t)
	if _, err := env.Begin(context.Background()); err == nil {
		t.Error("Begin without a caller succeeded")
	}
	req, err := env.Begin(auth.WithCaller(context.Background(), auth.Caller{Account: "111122223333", Region: "eu-west-1"}))
	if err != nil || req.Account != "111122223333" || req.Region != "eu-west-1" || req.Now.IsZero() {
		t.Errorf("Begin = %+v, %v", req, err)
	}
}

func TestScriptedFailure(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	subject := pipeline.Subject{Kind: pipeline.KindCustomImport, Account: "111122223333", Region: "us-east-1", Name: "nightly-1"}
	if f, err := env.ScriptedFailure(ctx, nil, subject); f != nil || err != nil {
		t.Fatalf("no tags, no rules = %+v, %v", f, err)
	}
	rule, err := env.AddFaultRule(ctx, pipeline.FaultRule{NamePattern: "nightly-*", FailAt: "VALIDATING"})
	if err != nil || !strings.HasPrefix(rule.ID, "rule-") {
		t.Fatalf("AddFaultRule = %+v, %v", rule, err)
	}
	if _, err := env.AddFaultRule(ctx, pipeline.FaultRule{FailAt: "NOPE"}); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("invalid rule: %v", err)
	}
	tests := []struct {
		name      string
		tags      []api.Tag
		wantStage string
		wantCode  string
	}{
		{"a rule", nil, "VALIDATING", ""},
		{"tags come first", []api.Tag{tag(pipeline.TagFailAt, "GENERALIZING")}, "GENERALIZING", ""},
		{"unrelated tags", []api.Tag{tag("team", "a")}, "VALIDATING", ""},
		{"bad tag", []api.Tag{tag(pipeline.TagFailAt, "generalizing")}, "", "InvalidParameterValuesException"},
	}
	for _, tt := range tests {
		f, err := env.ScriptedFailure(ctx, tt.tags, subject)
		if errCode(err) != tt.wantCode {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantCode)
			continue
		}
		if tt.wantCode == "" && (f == nil || f.Stage != tt.wantStage) {
			t.Errorf("%s: failure %+v, want at %s", tt.name, f, tt.wantStage)
		}
	}
	if err := env.DeleteFaultRule(ctx, "rule-nope"); !errors.Is(err, ErrNoSuchRule) {
		t.Errorf("deleting an unknown rule: %v", err)
	}
	if err := env.DeleteFaultRule(ctx, rule.ID); err != nil {
		t.Fatal(err)
	}
	if f, _ := env.ScriptedFailure(ctx, nil, subject); f != nil {
		t.Errorf("after deleting the rule: %+v", f)
	}
}
