package service

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
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

// managementBases are the private ranges a management /16 may come from, as
// the BYOL requirements in the WorkSpaces Administration Guide list them.
var managementBases = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// Page sizes where the API has no MaxResults: AWS publishes none.
const accountModificationPage = 10

// Defaults of ListAvailableManagementCidrRanges: its MaxResults is 1-5.
const cidrPageDefault = 5

// Store kind of BYOL account modifications, Key{account, region, kind, id}.
const accountModificationKind = "account-modification"

// accountModification is the stored form of one ModifyAccount. Like an
// import, its state is Plan.At(now) and never stored.
type accountModification struct {
	ID      string        `json:"id"`
	Account string        `json:"account"`
	Region  string        `json:"region"`
	CIDR    string        `json:"cidr"`
	Support string        `json:"support"`
	Plan    pipeline.Plan `json:"plan"`
}

// modificationID makes ids that sort newest first, so listing a scope in id
// order (the only order the store has) walks the history newest first.
func modificationID(start time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(math.MaxInt64-start.UnixNano()))
	return fmt.Sprintf("%x", b) + newID("-", 6)
}

// state is the modification's ModificationState: the pipeline's ERROR is
// the API's FAILED.
func (m *accountModification) state(now time.Time) (string, pipeline.Status) {
	st := m.Plan.At(now)
	switch {
	case st.Failed:
		return api.DedicatedTenancyModificationStateEnumFailed, st
	case st.Done:
		return api.DedicatedTenancyModificationStateEnumCompleted, st
	}
	return api.DedicatedTenancyModificationStateEnumPending, st
}

func (m *accountModification) toAPI(now time.Time) api.AccountModification {
	state, st := m.state(now)
	out := api.AccountModification{
		ModificationState:                   api.String(state),
		DedicatedTenancySupport:             api.String(m.Support),
		DedicatedTenancyManagementCidrRange: api.String(m.CIDR),
		StartTime:                           api.NewTimestamp(m.Plan.Start),
	}
	if st.Failed {
		out.ErrorCode = api.String(st.ErrorCode)
		out.ErrorMessage = api.String(st.ErrorMessage)
	}
	return out
}

// byolState is an account's BYOL configuration in one Region at an instant.
type byolState struct {
	enabled bool
	cidr    string
	// pending is the modification in progress, if any.
	pending *accountModification
	// lastFailed is the newest modification if it failed.
	lastFailed *accountModification
}

type lister interface {
	List(ctx context.Context, s store.Scope, afterID string, limit int) ([]*store.Record, error)
}

func modificationScope(req request) store.Scope {
	return store.Scope{Account: req.account, Region: req.region, Kind: accountModificationKind}
}

// byolStateOf derives the account's configuration from its modifications,
// newest first: the newest COMPLETED one gives the range; before any, the
// mode decides.
func (s *Service) byolStateOf(ctx context.Context, st lister, req request) (byolState, error) {
	recs, err := st.List(ctx, modificationScope(req), "", 0)
	if err != nil {
		return byolState{}, storeError(err)
	}
	var out byolState
	for i, rec := range recs {
		var m accountModification
		if err := json.Unmarshal(rec.Body, &m); err != nil {
			return byolState{}, fmt.Errorf("decode account modification %s: %w", rec.ID, err)
		}
		state, _ := m.state(req.now)
		switch state {
		case api.DedicatedTenancyModificationStateEnumPending:
			if out.pending == nil {
				out.pending = &m
			}
			continue
		case api.DedicatedTenancyModificationStateEnumFailed:
			if i == 0 {
				out.lastFailed = &m
			}
			continue
		}
		out.enabled, out.cidr = true, m.CIDR
		return out, nil
	}
	if s.cfg.BYOL != BYOLStrict {
		out.enabled, out.cidr = true, DefaultManagementCIDR
	}
	return out, nil
}

// requireBYOL refuses a BYOL import for an account that is not enabled for
// BYOL in the Region, which only happens with the strict setting.
func (s *Service) requireBYOL(ctx context.Context, req request) error {
	if s.cfg.BYOL != BYOLStrict {
		return nil
	}
	st, err := s.byolStateOf(ctx, s.store, req)
	if err != nil {
		return err
	}
	if st.enabled {
		return nil
	}
	msg := fmt.Sprintf("Account %s is not enabled for BYOL in %s. Enable it with ModifyAccount "+
		"(DedicatedTenancySupport ENABLED and a /16 DedicatedTenancyManagementCidrRange) and wait until "+
		"DescribeAccountModifications shows the modification COMPLETED.", req.account, req.region)
	if st.pending != nil {
		msg = fmt.Sprintf("Account %s is not enabled for BYOL in %s yet: the modification to %s started at %s is still PENDING.",
			req.account, req.region, st.pending.CIDR, st.pending.Plan.Start.UTC().Format(time.RFC3339))
	}
	return &api.AccessDeniedException{Message: msg}
}

// DescribeAccount reports the account's BYOL configuration in the Region.
func (s *Service) DescribeAccount(ctx context.Context, _ *api.DescribeAccountInput) (*api.DescribeAccountOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.byolStateOf(ctx, s.store, req)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeAccountOutput{}
	var msg string
	if st.enabled {
		out.DedicatedTenancySupport = api.String(api.DedicatedTenancySupportResultEnumEnabled)
		out.DedicatedTenancyManagementCidrRange = api.String(st.cidr)
		msg = fmt.Sprintf("BYOL is enabled with the management CIDR range %s.", st.cidr)
	} else {
		out.DedicatedTenancySupport = api.String(api.DedicatedTenancySupportResultEnumDisabled)
		msg = "BYOL is not enabled."
	}
	switch {
	case st.pending != nil:
		msg += fmt.Sprintf(" A modification to %s is in progress.", st.pending.CIDR)
	case st.lastFailed != nil:
		_, fs := st.lastFailed.state(req.now)
		msg += fmt.Sprintf(" The latest modification, to %s, failed: %s", st.lastFailed.CIDR, fs.ErrorMessage)
	}
	out.Message = api.String(msg)
	return out, nil
}

// ModifyAccount starts enabling BYOL with a management range, or moving an
// enabled account to another range. The change is PENDING for the profile's
// PENDING duration, then COMPLETED (or FAILED when a fault rule says so).
func (s *Service) ModifyAccount(ctx context.Context, in *api.ModifyAccountInput) (*api.ModifyAccountOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if in.DedicatedTenancySupport == nil {
		return nil, invalidParameter("DedicatedTenancySupport is required: specify ENABLED.")
	}
	if in.DedicatedTenancyManagementCidrRange == nil {
		return nil, invalidParameter("DedicatedTenancyManagementCidrRange is required: specify a /16 range returned by ListAvailableManagementCidrRanges.")
	}
	cidr := *in.DedicatedTenancyManagementCidrRange
	p, err := netip.ParsePrefix(cidr)
	if err != nil || p.Bits() != 16 || !p.Addr().Is4() {
		return nil, invalidParameter("The management CIDR range %s is not an IPv4 /16 block.", cidr)
	}
	if !inManagementBases(p) {
		return nil, invalidParameter("The management CIDR range %s is not available: it must lie within %s. "+
			"Use ListAvailableManagementCidrRanges to find an available range.", cidr, basesText())
	}
	rules, err := s.FaultRules(ctx)
	if err != nil {
		return nil, err
	}
	failure := pipeline.MatchFailure(rules, pipeline.Subject{
		Kind: pipeline.KindAccountModification, Account: req.account, Region: req.region, Name: cidr,
	})
	m := &accountModification{
		ID: modificationID(req.now), Account: req.account, Region: req.region,
		CIDR: cidr, Support: *in.DedicatedTenancySupport,
		Plan: s.cfg.Profile.Plan(pipeline.KindAccountModification, req.now, failure),
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		st, err := s.byolStateOf(ctx, tx, req)
		if err != nil {
			return err
		}
		if st.pending != nil {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"A BYOL modification of this account (to %s) is already in progress. Wait until it is COMPLETED or FAILED.", st.pending.CIDR)}
		}
		if st.enabled && st.cidr == cidr {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"BYOL is already enabled for this account with the management CIDR range %s.", cidr)}
		}
		rec := &store.Record{Key: store.Key{Account: req.account, Region: req.region, Kind: accountModificationKind, ID: m.ID},
			Created: req.now, Body: body}
		return tx.Insert(ctx, rec, 0)
	})
	if err != nil {
		return nil, storeError(err)
	}
	return &api.ModifyAccountOutput{Message: api.String(fmt.Sprintf(
		"BYOL is being enabled with the management CIDR range %s. DescribeAccountModifications shows its progress.", cidr))}, nil
}

// DescribeAccountModifications lists the account's BYOL modifications in the
// Region, newest first.
func (s *Service) DescribeAccountModifications(ctx context.Context, in *api.DescribeAccountModificationsInput) (*api.DescribeAccountModificationsOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	recs, err := s.store.List(ctx, modificationScope(req), after, accountModificationPage+1)
	if err != nil {
		return nil, storeError(err)
	}
	out := &api.DescribeAccountModificationsOutput{AccountModifications: []api.AccountModification{}}
	for i, rec := range recs {
		if i == accountModificationPage {
			out.NextToken = encodeToken(recs[i-1].ID)
			break
		}
		var m accountModification
		if err := json.Unmarshal(rec.Body, &m); err != nil {
			return nil, fmt.Errorf("decode account modification %s: %w", rec.ID, err)
		}
		out.AccountModifications = append(out.AccountModifications, m.toAPI(req.now))
	}
	return out, nil
}

// ListAvailableManagementCidrRanges lists the /16 blocks inside the
// constraint that the account could use: within the private ranges BYOL
// accepts and not the account's current or pending range, ascending.
func (s *Service) ListAvailableManagementCidrRanges(ctx context.Context, in *api.ListAvailableManagementCidrRangesInput) (*api.ListAvailableManagementCidrRangesOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.byolStateOf(ctx, s.store, req)
	if err != nil {
		return nil, err
	}
	if !st.enabled {
		return nil, &api.AccessDeniedException{Message: fmt.Sprintf(
			"Account %s is not enabled for BYOL in %s, so it cannot list management CIDR ranges.", req.account, req.region)}
	}
	constraint, err := netip.ParsePrefix(*in.ManagementCidrRangeConstraint)
	if err != nil || !constraint.Addr().Is4() {
		return nil, invalidParameter("The constraint %s is not an IPv4 CIDR block.", *in.ManagementCidrRangeConstraint)
	}
	if constraint.Bits() > 16 {
		return nil, invalidParameter("The constraint %s is smaller than a /16: management ranges are /16 blocks, so the constraint must be a /16 or larger.", *in.ManagementCidrRangeConstraint)
	}
	constraint = constraint.Masked()
	limit := int(api.ToInt32(in.MaxResults, cidrPageDefault))
	tok, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var from uint64
	if tok != "" {
		last, err := netip.ParsePrefix(tok)
		if err != nil || !last.Addr().Is4() {
			return nil, invalidToken()
		}
		from = uint64(addrUint(last.Addr())) + 1<<16
	}
	used := map[uint32]bool{}
	for _, c := range []string{st.cidr, pendingCIDR(st)} {
		if p, err := netip.ParsePrefix(c); err == nil {
			used[addrUint(p.Addr())] = true
		}
	}
	var found []uint32
	for _, b := range managementBases {
		lo := max(uint64(rangeStart(b)), uint64(rangeStart(constraint)), from)
		hi := uint64(min(rangeEnd(b), rangeEnd(constraint)))
		for a := lo; a <= hi && len(found) <= limit; a += 1 << 16 {
			if !used[uint32(a)] {
				found = append(found, uint32(a))
			}
		}
	}
	out := &api.ListAvailableManagementCidrRangesOutput{ManagementCidrRanges: []string{}}
	for i, a := range found {
		if i == limit {
			out.NextToken = encodeToken(out.ManagementCidrRanges[i-1])
			break
		}
		out.ManagementCidrRanges = append(out.ManagementCidrRanges, uintAddr(a).String()+"/16")
	}
	return out, nil
}

func pendingCIDR(st byolState) string {
	if st.pending == nil {
		return ""
	}
	return st.pending.CIDR
}

func inManagementBases(p netip.Prefix) bool {
	for _, b := range managementBases {
		if b.Bits() <= p.Bits() && b.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func basesText() string {
	s := ""
	for i, b := range managementBases {
		switch {
		case i == len(managementBases)-1:
			s += " or "
		case i > 0:
			s += ", "
		}
		s += b.String()
	}
	return s
}

func addrUint(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func uintAddr(u uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}

func rangeStart(p netip.Prefix) uint32 { return addrUint(p.Masked().Addr()) }

func rangeEnd(p netip.Prefix) uint32 {
	return rangeStart(p) | uint32(uint64(1)<<(32-p.Bits())-1)
}
