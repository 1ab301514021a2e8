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

// BYOL derives the account's configuration in the Region from its
// modifications, newest first: the newest COMPLETED one gives the range;
// before any, the BYOL mode decides.
func (db *DB) BYOL(ctx context.Context, r Reader, account, region string, now time.Time) (BYOLState, error) {
	mods, err := AccountModifications.List(ctx, r, account, region)
	if err != nil {
		return BYOLState{}, err
	}
	var out BYOLState
	for i, m := range mods {
		state, _ := m.State(now)
		switch state {
		case api.DedicatedTenancyModificationStateEnumPending:
			if out.Pending == nil {
				out.Pending = m
			}
			continue
		case api.DedicatedTenancyModificationStateEnumFailed:
			if i == 0 {
				out.LastFailed = m
			}
			continue
		}
		out.Enabled, out.CIDR = true, m.CIDR
		return out, nil
	}
	if db.cfg.BYOL != BYOLStrict {
		out.Enabled, out.CIDR = true, DefaultManagementCIDR
	}
	return out, nil
}
