package kit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/pipeline"
)

// TestFaultRuleCount: rules are refused beyond MaxFaultRules, with a message
// saying so, until one is deleted.
func TestFaultRuleCount(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var last pipeline.FaultRule
	for i := range pipeline.MaxFaultRules {
		r, err := e.AddFaultRule(ctx, pipeline.FaultRule{FailAt: "PENDING"})
		if err != nil {
			t.Fatalf("rule %d: %v", i+1, err)
		}
		last = r
	}
	_, err := e.AddFaultRule(ctx, pipeline.FaultRule{FailAt: "PENDING"})
	if !errors.Is(err, ErrInvalidRule) || !strings.Contains(err.Error(), "there are already 100 fault rules, the maximum") {
		t.Fatalf("rule 101: %v, want ErrInvalidRule saying the maximum", err)
	}
	if err := e.DeleteFaultRule(ctx, last.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddFaultRule(ctx, pipeline.FaultRule{FailAt: "PENDING"}); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	if rules, err := e.FaultRules(ctx); err != nil || len(rules) != pipeline.MaxFaultRules {
		t.Fatalf("rules = %d, %v; want %d", len(rules), err, pipeline.MaxFaultRules)
	}
}
