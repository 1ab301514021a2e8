package records

import (
	"context"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

// BYOLMode says how accounts start out with respect to BYOL.
type BYOLMode string

const (
	// BYOLFriendly accounts start enabled for BYOL with DefaultManagementCIDR,
	// so imports work at once: most users of wsim test their import
	// automation, not the one-time account set-up that precedes it.
	BYOLFriendly BYOLMode = "friendly"
	// BYOLStrict accounts start disabled; BYOL imports are refused with
	// AccessDeniedException until a ModifyAccount has COMPLETED.
	BYOLStrict BYOLMode = "strict"
)

// ParseBYOLMode reads a --byol value.
func ParseBYOLMode(s string) (BYOLMode, error) {
	switch m := BYOLMode(s); m {
	case BYOLFriendly, BYOLStrict:
		return m, nil
	}
	return "", fmt.Errorf("unknown BYOL mode %q: use friendly or strict", s)
}

// DefaultManagementCIDR is the management range friendly accounts start with.
const DefaultManagementCIDR = "10.0.0.0/16"

// AccountModification is one ModifyAccount. Like an import, its state is
// Plan.At(now) and never stored.
type AccountModification struct {
	Meta
	CIDR    string        `json:"cidr"`
	Support string        `json:"support"`
	Plan    pipeline.Plan `json:"plan"`
}

// State is the modification's ModificationState: the pipeline's ERROR is
// the API's FAILED.
func (m *AccountModification) State(now time.Time) (string, pipeline.Status) {
	st := m.Plan.At(now)
	switch {
	case st.Failed:
		return api.DedicatedTenancyModificationStateEnumFailed, st
	case st.Done:
		return api.DedicatedTenancyModificationStateEnumCompleted, st
	}
	return api.DedicatedTenancyModificationStateEnumPending, st
}

// BYOLState is an account's BYOL configuration in one Region at an instant.
type BYOLState struct {
	Enabled bool
	CIDR    string
	// Pending is the modification in progress, if any.
	Pending *AccountModification
	// LastFailed is the newest modification if it failed.
	LastFailed *AccountModification
}

// byolBatch is how many modifications BYOL reads at a time: the newest
// COMPLETED one is almost always among the first few.
const byolBatch = 8

// BYOL derives the account's configuration in the Region from its
// modifications, newest first: the newest COMPLETED one gives the range;
// before any, the BYOL mode decides.
//
// The history is read a few at a time, up to the newest COMPLETED
// modification: an account with thousands of them (every ModifyAccount
// adds one) costs what one with a few does.
func (db *DB) BYOL(ctx context.Context, r Reader, account, region string, now time.Time) (BYOLState, error) {
	var out BYOLState
	first := true
	for after := ""; ; {
		mods, more, err := AccountModifications.After(ctx, r, account, region, after, byolBatch)
		if err != nil {
			return BYOLState{}, err
		}
		for _, m := range mods {
			state, _ := m.State(now)
			newest := first
			first = false
			switch state {
			case api.DedicatedTenancyModificationStateEnumPending:
				if out.Pending == nil {
					out.Pending = m
				}
				continue
			case api.DedicatedTenancyModificationStateEnumFailed:
				if newest {
					out.LastFailed = m
				}
				continue
			}
			out.Enabled, out.CIDR = true, m.CIDR
			return out, nil
		}
		if !more {
			break
		}
		after = mods[len(mods)-1].ID
	}
	if db.cfg.BYOL != BYOLStrict {
		out.Enabled, out.CIDR = true, DefaultManagementCIDR
	}
	return out, nil
}
