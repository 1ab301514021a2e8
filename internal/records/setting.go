package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// Setting is a value outside every account and Region, shared by all the
// replicas on one store.
type Setting[T any] struct{ Name string }

// The settings.
var (
	ClockSetting = Setting[clock.State]{"clock"}
	FaultRules   = Setting[[]pipeline.FaultRule]{"faults"}
	// Heartbeat is the real time of the latest write probe (ProbeWrite).
	Heartbeat = Setting[time.Time]{"heartbeat"}
)

// ProbeWrite writes the heartbeat setting in a transaction of its own: it
// succeeds only if the store takes writes.
func (db *DB) ProbeWrite(ctx context.Context, now time.Time) error {
	_, err := Heartbeat.Change(ctx, db, func(t *time.Time) error {
		*t = now
		return nil
	})
	return err
}

const kindSetting = "setting"

func (s Setting[T]) key() Key { return Key{Kind: kindSetting, ID: s.Name} }

// Get returns the setting's value, the zero value when never set. The value
// may be shared with other readers: never modify it.
func (s Setting[T]) Get(ctx context.Context, db *DB) (T, error) {
	var zero T
	rec, err := db.st.Get(ctx, s.key())
	if errors.Is(err, store.ErrNotFound) {
		return zero, nil
	}
	if err != nil {
		return zero, err
	}
	if v, ok := db.decoded.lookup(rec); ok {
		if t, ok := v.(*T); ok {
			return *t, nil
		}
	}
	t := new(T)
	if err := json.Unmarshal(rec.Body, t); err != nil {
		return zero, fmt.Errorf("decode setting %s: %w", s.Name, err)
	}
	db.decoded.remember(rec, t)
	return *t, nil
}

// Change applies fn to the setting's value (zero when absent) in one
// transaction, so concurrent changes from several replicas never lose one,
// and returns the value stored.
func (s Setting[T]) Change(ctx context.Context, db *DB, fn func(*T) error) (T, error) {
	var result T
	err := db.st.Update(ctx, func(tx store.Tx) error {
		var v T
		rec, err := tx.Get(ctx, s.key())
		switch {
		case errors.Is(err, store.ErrNotFound):
			rec = &store.Record{Key: s.key()}
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(rec.Body, &v); err != nil {
				return fmt.Errorf("decode setting %s: %w", s.Name, err)
			}
		}
		if err := fn(&v); err != nil {
			return err
		}
		if rec.Body, err = encode(kindSetting, s.Name, v); err != nil {
			return err
		}
		result = v
		return tx.Put(ctx, rec)
	})
	return result, err
}

// ClockSource keeps the service clock's state in the store.
type ClockSource struct{ DB *DB }

var _ clock.Source = ClockSource{}

// Load returns the stored clock state.
func (c ClockSource) Load(ctx context.Context) (clock.State, error) {
	return ClockSetting.Get(ctx, c.DB)
}

// Change applies fn to the stored clock state.
func (c ClockSource) Change(ctx context.Context, fn func(clock.State) (clock.State, error)) (clock.State, error) {
	return ClockSetting.Change(ctx, c.DB, func(s *clock.State) error {
		next, err := fn(*s)
		*s = next
		return err
	})
}
