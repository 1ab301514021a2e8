package records

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// faultRulesStamp is a random value written, in the same transaction, with
// every change of FaultRules. It is a few bytes where the rules may be a few
// hundred kilobytes, so every new operation reads it instead of the rules
// and decodes those only when it has changed, on this replica or another
// one sharing the store. A reset of everything purges both records together.
var faultRulesStamp = Setting[string]{"faults-stamp"}

// faultRuleCache is a DB's last decoded fault rules and the stamp read
// before them.
type faultRuleCache struct {
	mu    sync.Mutex
	valid bool
	stamp string
	rules []pipeline.FaultRule
}

// LoadFaultRules returns the fault rules, in the order they match, from the
// DB's cache while the stored stamp is the one they were read with. The
// slice is shared: never modify it.
//
// The stamp is read before the rules: a change committed between the two
// reads leaves a cache newer than its stamp, which the next call reloads,
// never an older one that would be kept.
func (db *DB) LoadFaultRules(ctx context.Context) ([]pipeline.FaultRule, error) {
	stamp, err := faultRulesStamp.Get(ctx, db)
	if err != nil {
		return nil, err
	}
	c := db.faults
	c.mu.Lock()
	if c.valid && c.stamp == stamp {
		rules := c.rules
		c.mu.Unlock()
		return rules, nil
	}
	c.mu.Unlock()
	var rules []pipeline.FaultRule
	rec, err := db.st.Get(ctx, FaultRules.key())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(rec.Body, &rules); err != nil {
			return nil, fmt.Errorf("decode setting %s: %w", FaultRules.Name, err)
		}
	}
	// Without a stamp (none ever set, a reset just done, or rules written
	// by a wsim from before stamps) nothing is kept: a reset brings the
	// stamp back to "", and rules kept under "" would outlive it.
	if stamp != "" {
		c.mu.Lock()
		c.valid, c.stamp, c.rules = true, stamp, rules
		c.mu.Unlock()
	}
	return rules, nil
}

// ChangeFaultRules applies fn to the fault rules in one transaction, with a
// new stamp so that every replica's cache sees the change, and returns the
// rules stored.
func (db *DB) ChangeFaultRules(ctx context.Context, fn func(*[]pipeline.FaultRule) error) ([]pipeline.FaultRule, error) {
	var result []pipeline.FaultRule
	err := db.Update(ctx, func(tx *Tx) error {
		rules, err := FaultRules.in(ctx, tx)
		if err != nil {
			return err
		}
		if err := fn(&rules); err != nil {
			return err
		}
		if err := FaultRules.put(ctx, tx, rules); err != nil {
			return err
		}
		result = rules
		return faultRulesStamp.put(ctx, tx, newStamp())
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

func newStamp() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// put writes the setting inside a transaction.
func (s Setting[T]) put(ctx context.Context, tx *Tx, v T) error {
	rec, err := tx.tx.Get(ctx, s.key())
	switch {
	case errors.Is(err, store.ErrNotFound):
		rec = &store.Record{Key: s.key()}
	case err != nil:
		return err
	}
	if rec.Body, err = encode(kindSetting, s.Name, v); err != nil {
		return err
	}
	return tx.tx.Put(ctx, rec)
}
