package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// Settings are records outside every account and Region, shared by all
// replicas on one store.
func settingKey(name string) store.Key { return store.Key{Kind: kindSetting, ID: name} }

// changeSetting applies fn to the setting's JSON value (zero when absent) in
// one transaction, so concurrent changes from several replicas never lose one.
func changeSetting[T any](ctx context.Context, st store.Store, name string, fn func(*T) error) (T, error) {
	var result T
	err := st.Update(ctx, func(tx store.Tx) error {
		var v T
		rec, err := tx.Get(ctx, settingKey(name))
		switch {
		case errors.Is(err, store.ErrNotFound):
			rec = &store.Record{Key: settingKey(name)}
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(rec.Body, &v); err != nil {
				return fmt.Errorf("decode setting %s: %w", name, err)
			}
		}
		if err := fn(&v); err != nil {
			return err
		}
		if rec.Body, err = json.Marshal(v); err != nil {
			return err
		}
		result = v
		return tx.Put(ctx, rec)
	})
	return result, err
}

func loadSetting[T any](ctx context.Context, st store.Store, name string) (T, error) {
	var v T
	_, _, err := loadJSON(ctx, st, settingKey(name), &v)
	return v, err
}

// clockSource keeps the service clock's state in the store.
type clockSource struct{ st store.Store }

func (c clockSource) Load(ctx context.Context) (clock.State, error) {
	return loadSetting[clock.State](ctx, c.st, "clock")
}

func (c clockSource) Change(ctx context.Context, fn func(clock.State) (clock.State, error)) (clock.State, error) {
	return changeSetting(ctx, c.st, "clock", func(s *clock.State) error {
		next, err := fn(*s)
		*s = next
		return err
	})
}

// FaultRules returns the server-side failure rules, in the order they match.
func (s *Service) FaultRules(ctx context.Context) ([]pipeline.FaultRule, error) {
	return loadSetting[[]pipeline.FaultRule](ctx, s.store, "faults")
}

// AddFaultRule validates r, gives it an id and appends it to the rules.
func (s *Service) AddFaultRule(ctx context.Context, r pipeline.FaultRule) (pipeline.FaultRule, error) {
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("%w: %v", ErrInvalidRule, err)
	}
	r.ID = newID("rule-", 8)
	_, err := changeSetting(ctx, s.store, "faults", func(rules *[]pipeline.FaultRule) error {
		*rules = append(*rules, r)
		return nil
	})
	return r, err
}

// ErrInvalidRule wraps what is wrong with a fault rule that is refused.
var ErrInvalidRule = errors.New("invalid fault rule")

// ErrNoSuchRule is returned when deleting a fault rule that does not exist.
var ErrNoSuchRule = errors.New("no fault rule has that id")

// DeleteFaultRule removes the rule with the id; an empty id removes them all.
func (s *Service) DeleteFaultRule(ctx context.Context, id string) error {
	_, err := changeSetting(ctx, s.store, "faults", func(rules *[]pipeline.FaultRule) error {
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
