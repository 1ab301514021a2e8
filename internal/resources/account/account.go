// Package account is the account's BYOL settings in each Region:
// DescribeAccount, ModifyAccount and its modification history, the
// management CIDR ranges, and the modification pipelines the dashboard shows.
package account

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// Service implements the account operations.
type Service struct{ env *kit.Env }

// New returns the account operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the account operations to r.
func (s *Service) Register(r *api.Registry) {
	api.Handle(r, api.OpDescribeAccount, s.DescribeAccount)
	api.Handle(r, api.OpModifyAccount, s.ModifyAccount)
	api.Handle(r, api.OpDescribeAccountModifications, s.DescribeAccountModifications)
	api.Handle(r, api.OpListAvailableManagementCidrRanges, s.ListAvailableManagementCidrRanges)
}

// Sources are the BYOL modification pipelines.
func (s *Service) Sources() []dashboard.Source {
	return []dashboard.Source{dashboard.KindSource(s.env.DB, records.AccountModifications,
		[]pipeline.Kind{pipeline.KindAccountModification}, modificationPipeline)}
}

func modificationPipeline(m *records.AccountModification, now time.Time) dashboard.Pipeline {
	state, _ := m.State(now)
	p := dashboard.New(m.Plan, now, state)
	p.Account, p.Region, p.ResourceID, p.Name = m.Account, m.Region, m.ID, m.CIDR
	p.Created = m.Plan.Start
	return p
}

// managementBases are the private ranges a management /16 may come from, as
// the BYOL requirements in the WorkSpaces Administration Guide list them.
var managementBases = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

func modificationAPI(m *records.AccountModification, now time.Time) api.AccountModification {
	state, st := m.State(now)
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

// DescribeAccount reports the account's BYOL configuration in the Region.
func (s *Service) DescribeAccount(ctx context.Context, _ *api.DescribeAccountInput) (*api.DescribeAccountOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.env.DB.BYOL(ctx, s.env.DB, req.Account, req.Region, req.Now)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeAccountOutput{}
	var msg string
	if st.Enabled {
		out.DedicatedTenancySupport = api.String(api.DedicatedTenancySupportResultEnumEnabled)
		out.DedicatedTenancyManagementCidrRange = api.String(st.CIDR)
		msg = fmt.Sprintf("BYOL is enabled with the management CIDR range %s.", st.CIDR)
	} else {
		out.DedicatedTenancySupport = api.String(api.DedicatedTenancySupportResultEnumDisabled)
		msg = "BYOL is not enabled."
	}
	switch {
	case st.Pending != nil:
		msg += fmt.Sprintf(" A modification to %s is in progress.", st.Pending.CIDR)
	case st.LastFailed != nil:
		_, fs := st.LastFailed.State(req.Now)
		msg += fmt.Sprintf(" The latest modification, to %s, failed: %s", st.LastFailed.CIDR, fs.ErrorMessage)
	}
	out.Message = api.String(msg)
	return out, nil
}

// ModifyAccount starts enabling BYOL with a management range, or moving an
// enabled account to another range. The change is PENDING for the profile's
// PENDING duration, then COMPLETED (or FAILED when a fault rule says so).
func (s *Service) ModifyAccount(ctx context.Context, in *api.ModifyAccountInput) (*api.ModifyAccountOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if in.DedicatedTenancySupport == nil {
		return nil, kit.InvalidParameter("DedicatedTenancySupport is required: specify ENABLED.")
	}
	if in.DedicatedTenancyManagementCidrRange == nil {
		return nil, kit.InvalidParameter("DedicatedTenancyManagementCidrRange is required: specify a /16 range returned by ListAvailableManagementCidrRanges.")
	}
	cidr := *in.DedicatedTenancyManagementCidrRange
	p, err := netip.ParsePrefix(cidr)
	if err != nil || p.Bits() != 16 || !p.Addr().Is4() {
		return nil, kit.InvalidParameter("The management CIDR range %s is not an IPv4 /16 block.", cidr)
	}
	if !inManagementBases(p) {
		return nil, kit.InvalidParameter("The management CIDR range %s is not available: it must lie within %s. "+
			"Use ListAvailableManagementCidrRanges to find an available range.", cidr, basesText())
	}
	failure, err := s.env.ScriptedFailure(ctx, nil, pipeline.Subject{
		Kind: pipeline.KindAccountModification, Account: req.Account, Region: req.Region, Name: cidr,
	})
	if err != nil {
		return nil, err
	}
	m := &records.AccountModification{
		Meta: records.Meta{Account: req.Account, Region: req.Region, Created: req.Now},
		CIDR: cidr, Support: *in.DedicatedTenancySupport,
		Plan: s.env.Profile.Plan(pipeline.KindAccountModification, req.Now, failure),
	}
	err = records.AccountModifications.Create(ctx, s.env.DB, m, func(tx *records.Tx) error {
		st, err := s.env.DB.BYOL(ctx, tx, req.Account, req.Region, req.Now)
		if err != nil {
			return err
		}
		if st.Pending != nil {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"A BYOL modification of this account (to %s) is already in progress. Wait until it is COMPLETED or FAILED.", st.Pending.CIDR)}
		}
		if st.Enabled && st.CIDR == cidr {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"BYOL is already enabled for this account with the management CIDR range %s.", cidr)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyAccountOutput{Message: api.String(fmt.Sprintf(
		"BYOL is being enabled with the management CIDR range %s. DescribeAccountModifications shows its progress.", cidr))}, nil
}

// accountModificationPage is the page size of DescribeAccountModifications,
// which has no MaxResults: AWS publishes none.
const accountModificationPage = 10

// DescribeAccountModifications lists the account's BYOL modifications in the
// Region, newest first.
func (s *Service) DescribeAccountModifications(ctx context.Context, in *api.DescribeAccountModificationsInput) (*api.DescribeAccountModificationsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	mods, next, err := records.AccountModifications.Page(ctx, s.env.DB, req.Account, req.Region, in.NextToken, accountModificationPage)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeAccountModificationsOutput{AccountModifications: make([]api.AccountModification, 0, len(mods)), NextToken: next}
	for _, m := range mods {
		out.AccountModifications = append(out.AccountModifications, modificationAPI(m, req.Now))
	}
	return out, nil
}

// Defaults of ListAvailableManagementCidrRanges: its MaxResults is 1-5.
const cidrPageDefault = 5

// ListAvailableManagementCidrRanges lists the /16 blocks inside the
// constraint that the account could use: within the private ranges BYOL
// accepts and not the account's current or pending range, ascending.
func (s *Service) ListAvailableManagementCidrRanges(ctx context.Context, in *api.ListAvailableManagementCidrRangesInput) (*api.ListAvailableManagementCidrRangesOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.env.DB.BYOL(ctx, s.env.DB, req.Account, req.Region, req.Now)
	if err != nil {
		return nil, err
	}
	if !st.Enabled {
		return nil, &api.AccessDeniedException{Message: fmt.Sprintf(
			"Account %s is not enabled for BYOL in %s, so it cannot list management CIDR ranges.", req.Account, req.Region)}
	}
	constraint, err := netip.ParsePrefix(*in.ManagementCidrRangeConstraint)
	if err != nil || !constraint.Addr().Is4() {
		return nil, kit.InvalidParameter("The constraint %s is not an IPv4 CIDR block.", *in.ManagementCidrRangeConstraint)
	}
	if constraint.Bits() > 16 {
		return nil, kit.InvalidParameter("The constraint %s is smaller than a /16: management ranges are /16 blocks, so the constraint must be a /16 or larger.", *in.ManagementCidrRangeConstraint)
	}
	constraint = constraint.Masked()
	limit := int(api.ToInt32(in.MaxResults, cidrPageDefault))
	const list = "cidr-ranges"
	_, tok, err := records.DecodeToken(in.NextToken, list)
	if err != nil {
		return nil, err
	}
	var from uint64
	if tok != "" {
		last, err := netip.ParsePrefix(tok)
		if err != nil || !last.Addr().Is4() {
			return nil, records.InvalidToken()
		}
		from = uint64(addrUint(last.Addr())) + 1<<16
	}
	used := map[uint32]bool{}
	for _, c := range []string{st.CIDR, pendingCIDR(st)} {
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
			out.NextToken = records.EncodeToken(list, out.ManagementCidrRanges[i-1])
			break
		}
		out.ManagementCidrRanges = append(out.ManagementCidrRanges, uintAddr(a).String()+"/16")
	}
	return out, nil
}

func pendingCIDR(st records.BYOLState) string {
	if st.Pending == nil {
		return ""
	}
	return st.Pending.CIDR
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
