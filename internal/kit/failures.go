package kit

import (
	"context"
	"errors"
	"fmt"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// ScriptedFailure returns how a new long-running operation is scripted to
// fail: from its wsim:fail-at tags, else from the first fault rule matching
// subject, else nil.
func (e *Env) ScriptedFailure(ctx context.Context, tags []api.Tag, subject pipeline.Subject) (*pipeline.Failure, error) {
	if len(tags) > 0 {
		failure, err := pipeline.ParseFailureTags(subject.Kind, TagMap(tags))
		if err != nil {
			return nil, InvalidParameter("%v", err)
		}
		if failure != nil {
			return failure, nil
		}
	}
	rules, err := e.FaultRules(ctx)
	if err != nil {
		return nil, err
	}
	return pipeline.MatchFailure(rules, subject), nil
}

// FaultRules returns the server-side failure rules, in the order they match.
// The slice is shared: never modify it.
func (e *Env) FaultRules(ctx context.Context) ([]pipeline.FaultRule, error) {
	return e.DB.LoadFaultRules(ctx)
}

// ErrInvalidRule wraps what is wrong with a fault rule that is refused.
var ErrInvalidRule = errors.New("invalid fault rule")

// ErrNoSuchRule is returned when deleting a fault rule that does not exist.
var ErrNoSuchRule = errors.New("no fault rule has that id")

// AddFaultRule validates r, gives it an id and appends it to the rules.
func (e *Env) AddFaultRule(ctx context.Context, r pipeline.FaultRule) (pipeline.FaultRule, error) {
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("%w: %v", ErrInvalidRule, err)
	}
	r.ID = records.NewID("rule-", 8)
	_, err := e.DB.ChangeFaultRules(ctx, func(rules *[]pipeline.FaultRule) error {
		if len(*rules) >= pipeline.MaxFaultRules {
			return fmt.Errorf("%w: there are already %d fault rules, the maximum; delete one first", ErrInvalidRule, len(*rules))
		}
		*rules = append(*rules, r)
		return nil
	})
	return r, err
}

// DeleteFaultRule removes the rule with the id; an empty id removes them all.
func (e *Env) DeleteFaultRule(ctx context.Context, id string) error {
	_, err := e.DB.ChangeFaultRules(ctx, func(rules *[]pipeline.FaultRule) error {
		if id == "" {
			*rules = nil
			return nil
		}
		for i, r := range *rules {
			if r.ID == id {
				*rules = append((*rules)[:i], (*rules)[i+1:]...)
				return nil
			}
		}
		return ErrNoSuchRule
	})
	return err
}
