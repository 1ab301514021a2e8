package service_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
	"github.com/wsim/wsim/internal/store"
)

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	acctC   = "777788889999"
	region1 = "us-east-1"
	region2 = "eu-west-1"
)

type resetHarness struct{ *servicetest.Harness }

func (h resetHarness) importImage(account, region, name string) string {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpImportWorkspaceImage, servicetest.As(account, region), &api.ImportWorkspaceImageInput{
		Ec2ImageId: api.String("ami-0123456789abcdef0"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
		ImageName: api.String(name), ImageDescription: api.String("test image"),
	})
	if err != nil {
		h.T.Fatalf("ImportWorkspaceImage(%s): %v", name, err)
	}
	h.Real.Advance(time.Hour)
	return *out.ImageId
}

func (h resetHarness) share(owner, region, id, grantee string) {
	h.T.Helper()
	_, err := servicetest.Call(h.Svc, api.OpUpdateWorkspaceImagePermission, servicetest.As(owner, region), &api.UpdateWorkspaceImagePermissionInput{
		ImageId: api.String(id), SharedAccountId: api.String(grantee), AllowCopyImage: api.Bool(true),
	})
	if err != nil {
		h.T.Fatalf("share %s with %s: %v", id, grantee, err)
	}
}

// visible lists the ids DescribeWorkspaceImages shows account in region,
// owned and shared.
func (h resetHarness) visible(account, region string) []string {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceImages, servicetest.As(account, region), &api.DescribeWorkspaceImagesInput{})
	if err != nil {
		h.T.Fatal(err)
	}
	var ids []string
	for _, img := range out.Images {
		ids = append(ids, *img.ImageId)
	}
	slices.Sort(ids)
	return ids
}

func (h resetHarness) reset(sel service.Selection) service.ResetResult {
	h.T.Helper()
	res, err := h.Svc.Reset(context.Background(), sel)
	if err != nil {
		h.T.Fatalf("Reset(%+v): %v", sel, err)
	}
	h.checkShares()
	return res
}

// checkShares checks the sharing invariant over the whole store: every
// grantee in an image's SharedWith has the mirror of the grant, and every
// mirror has its image, which names the mirror's account.
func (h resetHarness) checkShares() {
	h.T.Helper()
	ctx := context.Background()
	db := h.Svc.Records()
	images, err := records.Images.Scan(ctx, db, records.Key{}, 0)
	if err != nil {
		h.T.Fatal(err)
	}
	shares, err := records.ImageShares.Scan(ctx, db, records.Key{}, 0)
	if err != nil {
		h.T.Fatal(err)
	}
	mirrors := map[records.Key]*records.ImageShare{}
	for _, sh := range shares {
		mirrors[records.Key{Account: sh.Account, Region: sh.Region, ID: sh.ID}] = sh
	}
	owned := map[records.Key]*records.Image{}
	for _, img := range images {
		owned[records.Key{Account: img.Account, Region: img.Region, ID: img.ID}] = img
		for _, g := range img.SharedWith {
			sh := mirrors[records.Key{Account: g, Region: img.Region, ID: img.ID}]
			if sh == nil || sh.Owner != img.Account {
				h.T.Errorf("image %s of %s is shared with %s, which has no mirror of the grant", img.ID, img.Account, g)
			}
		}
	}
	for _, sh := range shares {
		img := owned[records.Key{Account: sh.Owner, Region: sh.Region, ID: sh.ID}]
		if img == nil {
			h.T.Errorf("%s holds a share of %s from %s, whose image is gone", sh.Account, sh.ID, sh.Owner)
		} else if !slices.Contains(img.SharedWith, sh.Account) {
			h.T.Errorf("%s holds a share of %s, which %s no longer shares with it", sh.Account, sh.ID, sh.Owner)
		}
	}
}

// TestResetKeepsSharingConsistent resets one account in one Region, then
// the account, then everything, with images shared both ways between the
// account and others, and checks what each reset removed, what it left, and
// that no share is left dangling on either side.
func TestResetKeepsSharingConsistent(t *testing.T) {
	h := resetHarness{servicetest.New(t, func(c *service.Config) { c.Profile = pipeline.Profile{Name: pipeline.ProfileInstant} })}
	ctx := context.Background()
	a1 := h.importImage(acctA, region1, "a1")
	a2 := h.importImage(acctA, region2, "a2")
	b1 := h.importImage(acctB, region1, "b1")
	b2 := h.importImage(acctB, region2, "b2")
	c1 := h.importImage(acctC, region1, "c1")
	h.share(acctA, region1, a1, acctB)
	h.share(acctA, region1, a1, acctC)
	h.share(acctA, region2, a2, acctB)
	h.share(acctB, region1, b1, acctA)
	h.share(acctB, region1, b1, acctC)
	h.share(acctB, region2, b2, acctA)
	h.share(acctC, region1, c1, acctB)
	h.checkShares()
	if _, err := h.Svc.AddFaultRule(ctx, pipeline.FaultRule{FailAt: "PENDING"}); err != nil {
		t.Fatal(err)
	}
	h.Freeze()
	frozenAt := h.Now()

	// A in us-east-1: a1 and A's mirror of b1 go; the mirrors of a1 in B
	// and C go; b1 is no longer shared with A, still with C.
	res := h.reset(service.Selection{Account: acctA, Region: region1})
	if want := map[string]int{"image": 1, "image-share": 3}; !maps.Equal(res.Removed, want) || res.Unshared != 1 || res.FaultRules != 0 {
		t.Fatalf("reset of A in %s = %+v, want removed %v, 1 unshared, no fault rules", region1, res, want)
	}
	if got, want := h.visible(acctB, region1), sorted(b1, c1); !slices.Equal(got, want) {
		t.Errorf("B sees %v in %s, want %v", got, region1, want)
	}
	if got, want := h.visible(acctC, region1), sorted(b1, c1); !slices.Equal(got, want) {
		t.Errorf("C sees %v in %s, want %v", got, region1, want)
	}
	if got := h.visible(acctA, region1); len(got) != 0 {
		t.Errorf("A still sees %v in %s", got, region1)
	}
	perms, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceImagePermissions, servicetest.As(acctB, region1),
		&api.DescribeWorkspaceImagePermissionsInput{ImageId: api.String(b1)})
	if err != nil || len(perms.ImagePermissions) != 1 || *perms.ImagePermissions[0].SharedAccountId != acctC {
		t.Errorf("b1 permissions after the reset = %+v, %v; want C alone", perms, err)
	}
	// The other Region of A is untouched, both ways.
	if got, want := h.visible(acctA, region2), sorted(a2, b2); !slices.Equal(got, want) {
		t.Errorf("A sees %v in %s, want %v", got, region2, want)
	}
	// The scoped reset leaves the clock and the rules alone.
	if rules, _ := h.Svc.FaultRules(ctx); len(rules) != 1 {
		t.Errorf("a scoped reset left %d fault rules, want 1", len(rules))
	}
	if st, _ := h.Svc.Clock().State(ctx); !st.Frozen || !h.Now().Equal(frozenAt) {
		t.Errorf("a scoped reset changed the clock to %+v", st)
	}
	// A's name is free again.
	h.Svc.Clock().Resume(ctx)
	h.importImage(acctA, region1, "a1")

	// All of A: a2 and A's mirror of b2; B's mirror of a2; b2 unshared.
	res = h.reset(service.Selection{Account: acctA})
	if want := map[string]int{"image": 2, "image-share": 2}; !maps.Equal(res.Removed, want) || res.Unshared != 1 {
		t.Fatalf("reset of A = %+v, want removed %v, 1 unshared", res, want)
	}
	if got, want := h.visible(acctB, region2), sorted(b2); !slices.Equal(got, want) {
		t.Errorf("B sees %v in %s, want %v", got, region2, want)
	}
	// B can now delete b2, which is shared with nobody.
	if _, err := servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, servicetest.As(acctB, region2),
		&api.DeleteWorkspaceImageInput{ImageId: api.String(b2)}); err != nil {
		t.Errorf("delete b2 after A's reset: %v", err)
	}

	// A Region without an account is refused.
	if _, err := h.Svc.Reset(ctx, service.Selection{Region: region1}); !errors.Is(err, service.ErrInvalidSelection) {
		t.Errorf("reset of a Region alone: %v, want ErrInvalidSelection", err)
	}

	// Everything: the clock and the rules are back to their defaults.
	h.Advance(48 * time.Hour)
	res = h.reset(service.Selection{})
	if want := map[string]int{"image": 2, "image-share": 2}; !maps.Equal(res.Removed, want) || res.FaultRules != 1 {
		t.Fatalf("reset of everything = %+v, want removed %v and 1 fault rule", res, want)
	}
	if rules, _ := h.Svc.FaultRules(ctx); len(rules) != 0 {
		t.Errorf("after a full reset %d fault rules are left", len(rules))
	}
	st, err := h.Svc.Clock().State(ctx)
	if err != nil || !st.AtRealTime() || !h.Now().Equal(h.Real.Now()) {
		t.Errorf("after a full reset the clock is %+v at %v, want running at real time %v", st, h.Now(), h.Real.Now())
	}
	for _, acct := range []string{acctA, acctB, acctC} {
		for _, region := range []string{region1, region2} {
			if got := h.visible(acct, region); len(got) != 0 {
				t.Errorf("after a full reset %s sees %v in %s", acct, got, region)
			}
		}
	}
	// Nothing is left in the store but what the reset itself wrote.
	if n := countAll(t, h.Svc.Store()); n != 0 {
		t.Errorf("%d records left after a full reset", n)
	}
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

func countAll(t *testing.T, st store.Store) int {
	n := 0
	for _, kind := range []string{"image", "image-share", "bundle", "account-modification", "setting"} {
		recs, err := st.ListKind(context.Background(), kind, store.Key{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		n += len(recs)
	}
	return n
}

// TestResetRemovesEveryKind checks a reset counts bundles and account
// modifications too.
func TestResetRemovesEveryKind(t *testing.T) {
	h := resetHarness{servicetest.New(t, func(c *service.Config) {
		c.Profile = pipeline.Profile{Name: pipeline.ProfileInstant}
		c.BYOL = service.BYOLStrict
	})}
	if _, err := servicetest.Call(h.Svc, api.OpModifyAccount, servicetest.As(acctA, region1), &api.ModifyAccountInput{
		DedicatedTenancySupport: api.String(api.DedicatedTenancySupportEnumEnabled), DedicatedTenancyManagementCidrRange: api.String("10.0.0.0/16"),
	}); err != nil {
		t.Fatal(err)
	}
	h.Real.Advance(time.Hour)
	img := h.importImage(acctA, region1, "golden")
	if _, err := servicetest.Call(h.Svc, api.OpCreateWorkspaceBundle, servicetest.As(acctA, region1), &api.CreateWorkspaceBundleInput{
		BundleName: api.String("b"), BundleDescription: api.String("d"), ImageId: api.String(img),
		ComputeType: &api.ComputeType{Name: api.String(api.ComputeValue)}, UserStorage: &api.UserStorage{Capacity: api.String("50")},
		RootStorage: &api.RootStorage{Capacity: api.String("80")},
	}); err != nil {
		t.Fatal(err)
	}
	res := h.reset(service.Selection{Account: acctA, Region: region1})
	if want := map[string]int{"image": 1, "bundle": 1, "account-modification": 1}; !maps.Equal(res.Removed, want) {
		t.Fatalf("removed %v, want %v", res.Removed, want)
	}
	// The account starts over: strict BYOL refuses an import again.
	_, err := servicetest.Call(h.Svc, api.OpImportWorkspaceImage, servicetest.As(acctA, region1), &api.ImportWorkspaceImageInput{
		Ec2ImageId: api.String("ami-0123456789abcdef0"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
		ImageName: api.String("golden"), ImageDescription: api.String("test image"),
	})
	servicetest.WantCode(h.T, err, "AccessDeniedException")
}
