package e2e_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

var regexpBundleID = regexp.MustCompile(`^wsb-[0-9a-z]{9}$`)

// bundleInput is a valid CreateWorkspaceBundle request on image.
func bundleInput(name, image string, tags ...types.Tag) *workspaces.CreateWorkspaceBundleInput {
	return &workspaces.CreateWorkspaceBundleInput{
		BundleName:        aws.String(name),
		BundleDescription: aws.String("Bundle " + name),
		ImageId:           aws.String(image),
		ComputeType:       &types.ComputeType{Name: types.ComputeStandard},
		UserStorage:       &types.UserStorage{Capacity: aws.String("50")},
		RootStorage:       &types.RootStorage{Capacity: aws.String("80")},
		Tags:              tags,
	}
}

func createBundle(t *testing.T, c *workspaces.Client, in *workspaces.CreateWorkspaceBundleInput) types.WorkspaceBundle {
	t.Helper()
	out, err := c.CreateWorkspaceBundle(ctx(t), in)
	if err != nil {
		t.Fatalf("CreateWorkspaceBundle(%s): %v", aws.ToString(in.BundleName), err)
	}
	return *out.WorkspaceBundle
}

func describeTags(t *testing.T, c *workspaces.Client, id string) map[string]string {
	t.Helper()
	out, err := c.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeTags(%s): %v", id, err)
	}
	m := map[string]string{}
	for _, tg := range out.TagList {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func ownBundles(t *testing.T, c *workspaces.Client) []types.WorkspaceBundle {
	t.Helper()
	var all []types.WorkspaceBundle
	p := workspaces.NewDescribeWorkspaceBundlesPaginator(c, &workspaces.DescribeWorkspaceBundlesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("DescribeWorkspaceBundles: %v", err)
		}
		all = append(all, page.Bundles...)
	}
	return all
}

func TestBundleLifecycle(t *testing.T) { forEachStore(t, bundleLifecycle) }

func bundleLifecycle(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	img1 := importImage(t, c, importInput("bundle-base-1"))
	img2 := importImage(t, c, importInput("bundle-base-2"))

	before := srv.Now(t)
	b := createBundle(t, c, bundleInput("dev-desktops", img1, tag("team", "dev"), tag("cost", "42")))
	id := aws.ToString(b.BundleId)
	if !regexpBundleID.MatchString(id) {
		t.Errorf("bundle id %q is not wsb- plus 9 of [0-9a-z]", id)
	}
	if aws.ToString(b.Name) != "dev-desktops" || aws.ToString(b.Description) != "Bundle dev-desktops" ||
		aws.ToString(b.Owner) != accountA || aws.ToString(b.ImageId) != img1 ||
		b.ComputeType.Name != types.ComputeStandard || aws.ToString(b.UserStorage.Capacity) != "50" ||
		aws.ToString(b.RootStorage.Capacity) != "80" || b.State != types.WorkspaceBundleStateAvailable ||
		b.BundleType != types.BundleTypeRegular {
		t.Errorf("created bundle = %+v", b)
	}
	if b.CreationTime == nil || b.CreationTime.Before(before.Add(-time.Second)) || !b.LastUpdatedTime.Equal(*b.CreationTime) {
		t.Errorf("CreationTime %v, LastUpdatedTime %v (service time before %v)", b.CreationTime, b.LastUpdatedTime, before)
	}
	if got := describeTags(t, c, id); len(got) != 2 || got["team"] != "dev" || got["cost"] != "42" {
		t.Errorf("DescribeTags of the new bundle = %v, want the creation tags", got)
	}

	byID, err := c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{BundleIds: []string{id, "wsb-000000000", "wsb-bh8rsxt14"}})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{id, "wsb-bh8rsxt14"}
	sort.Strings(wantIDs)
	if len(byID.Bundles) != 2 || aws.ToString(byID.Bundles[0].BundleId) != wantIDs[0] || aws.ToString(byID.Bundles[1].BundleId) != wantIDs[1] {
		t.Errorf("DescribeWorkspaceBundles by id = %+v", byID.Bundles)
	}
	amazon, err := c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{Owner: aws.String("AMAZON")})
	if err != nil {
		t.Fatal(err)
	}
	if len(amazon.Bundles) == 0 {
		t.Error("no AMAZON bundles")
	}
	for _, pb := range amazon.Bundles {
		if aws.ToString(pb.Owner) != "Amazon" || pb.State != types.WorkspaceBundleStateAvailable {
			t.Errorf("public bundle %+v", pb)
		}
	}
	if own := ownBundles(t, c); len(own) != 1 || aws.ToString(own[0].BundleId) != id {
		t.Errorf("own bundles = %+v", own)
	}

	// The image a bundle uses can't be deleted.
	_, err = c.DeleteWorkspaceImage(ctx(t), &workspaces.DeleteWorkspaceImageInput{ImageId: aws.String(img1)})
	wantAPIError(t, err, "ResourceAssociatedException", http.StatusBadRequest, id)

	srv.Advance(t, time.Minute)
	if _, err := c.UpdateWorkspaceBundle(ctx(t), &workspaces.UpdateWorkspaceBundleInput{BundleId: aws.String(id), ImageId: aws.String(img2)}); err != nil {
		t.Fatalf("UpdateWorkspaceBundle: %v", err)
	}
	upd := ownBundles(t, c)[0]
	if aws.ToString(upd.ImageId) != img2 || !upd.LastUpdatedTime.After(*upd.CreationTime) || !upd.CreationTime.Equal(*b.CreationTime) {
		t.Errorf("after UpdateWorkspaceBundle: %+v", upd)
	}
	// img1 is free now; img2 is not.
	if _, err := c.DeleteWorkspaceImage(ctx(t), &workspaces.DeleteWorkspaceImageInput{ImageId: aws.String(img1)}); err != nil {
		t.Errorf("DeleteWorkspaceImage of the image no bundle uses: %v", err)
	}
	_, err = c.DeleteWorkspaceImage(ctx(t), &workspaces.DeleteWorkspaceImageInput{ImageId: aws.String(img2)})
	wantAPIError(t, err, "ResourceAssociatedException", http.StatusBadRequest)

	if _, err := c.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{BundleId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteWorkspaceBundle: %v", err)
	}
	if own := ownBundles(t, c); len(own) != 0 {
		t.Errorf("bundles after delete = %+v", own)
	}
	if _, err := c.DeleteWorkspaceImage(ctx(t), &workspaces.DeleteWorkspaceImageInput{ImageId: aws.String(img2)}); err != nil {
		t.Errorf("DeleteWorkspaceImage after its bundle is gone: %v", err)
	}
	// The name is free again.
	img3 := importImage(t, c, importInput("bundle-base-3"))
	createBundle(t, c, bundleInput("dev-desktops", img3))
}

func TestBundleErrors(t *testing.T) { forEachStore(t, bundleErrors) }

func bundleErrors(t *testing.T, store storeBackend) {
	srv := store.start(t, "--bundle-quota", "2", "--profile", "quick")
	srv.Freeze(t)
	c := srv.Client(t, accountA, usEast1)
	pending := importImage(t, c, importInput("pending-image"))
	_, err := c.CreateWorkspaceBundle(ctx(t), bundleInput("on-pending", pending))
	wantAPIError(t, err, "ResourceUnavailableException", http.StatusBadRequest, pending, "PENDING")
	srv.Advance(t, time.Hour)

	_, err = c.CreateWorkspaceBundle(ctx(t), bundleInput("on-unknown", "wsi-000000000"))
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, "wsi-000000000")

	failed := importImage(t, c, importInput("failed-image", tag("wsim:fail-at", "VALIDATING")))
	srv.Advance(t, time.Hour)
	_, err = c.CreateWorkspaceBundle(ctx(t), bundleInput("on-failed", failed))
	wantAPIError(t, err, "ResourceUnavailableException", http.StatusBadRequest, "ERROR")

	b := createBundle(t, c, bundleInput("first", pending))
	_, err = c.CreateWorkspaceBundle(ctx(t), bundleInput("first", pending))
	wantAPIError(t, err, "ResourceAlreadyExistsException", http.StatusBadRequest, "first")
	createBundle(t, c, bundleInput("second", pending))
	_, err = c.CreateWorkspaceBundle(ctx(t), bundleInput("third", pending))
	wantAPIError(t, err, "ResourceLimitExceededException", http.StatusBadRequest, "2 bundles")
	// The quota is per account and Region.
	eu := srv.Client(t, accountA, euWest1)
	euImage := importImage(t, eu, importInput("eu-image"))
	srv.Advance(t, time.Hour)
	createBundle(t, eu, bundleInput("third", euImage))

	bad := bundleInput("bad-storage", pending)
	bad.UserStorage.Capacity = aws.String("20")
	_, err = c.CreateWorkspaceBundle(ctx(t), bad)
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "user 20 GB")
	_, err = c.CreateWorkspaceBundle(ctx(t), bundleInput("bad-tag", pending, tag("aws:owner", "x")))
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "aws:")
	_, err = c.CreateWorkspaceBundle(ctx(t), &workspaces.CreateWorkspaceBundleInput{
		BundleName: aws.String("no-compute"), BundleDescription: aws.String("d"), ImageId: aws.String(pending),
		ComputeType: &types.ComputeType{}, UserStorage: &types.UserStorage{Capacity: aws.String("50")},
	})
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "ComputeType")

	_, err = c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{BundleIds: []string{aws.ToString(b.BundleId)}, Owner: aws.String("AMAZON")})
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "not both")
	_, err = c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{Owner: aws.String(accountB)})
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, accountB)
	if own, err := c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{Owner: aws.String(accountA)}); err != nil || len(own.Bundles) != 2 {
		t.Errorf("Owner = own account id: %v, %v", own, err)
	}

	for _, op := range []struct {
		name string
		call func(id string) error
	}{
		{"UpdateWorkspaceBundle", func(id string) error {
			_, err := c.UpdateWorkspaceBundle(ctx(t), &workspaces.UpdateWorkspaceBundleInput{BundleId: aws.String(id), ImageId: aws.String(pending)})
			return err
		}},
		{"DeleteWorkspaceBundle", func(id string) error {
			_, err := c.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{BundleId: aws.String(id)})
			return err
		}},
	} {
		t.Run(op.name, func(t *testing.T) {
			wantAPIError(t, op.call("wsb-000000000"), "ResourceNotFoundException", http.StatusBadRequest, "wsb-000000000")
			wantAPIError(t, op.call("wsb-clj85qzj1"), "AccessDeniedException", http.StatusBadRequest, "AMAZON")
			// Another account's bundle is not found.
			wantAPIError(t, func() error {
				other := srv.Client(t, accountB, usEast1)
				_, err := other.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{BundleId: b.BundleId})
				return err
			}(), "ResourceNotFoundException", http.StatusBadRequest)
		})
	}
	_, err = c.UpdateWorkspaceBundle(ctx(t), &workspaces.UpdateWorkspaceBundleInput{BundleId: b.BundleId, ImageId: aws.String(failed)})
	wantAPIError(t, err, "ResourceUnavailableException", http.StatusBadRequest)
	_, err = c.UpdateWorkspaceBundle(ctx(t), &workspaces.UpdateWorkspaceBundleInput{BundleId: b.BundleId, ImageId: aws.String("wsi-000000000")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)
	_, err = c.UpdateWorkspaceBundle(ctx(t), &workspaces.UpdateWorkspaceBundleInput{BundleId: b.BundleId})
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "ImageId")
	_, err = c.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{})
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "BundleId")
}

func TestBundlePagination(t *testing.T) { forEachStore(t, bundlePagination) }

func bundlePagination(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	img := importImage(t, c, importInput("paged"))
	var want []string
	for i := range 27 {
		want = append(want, aws.ToString(createBundle(t, c, bundleInput(fmt.Sprintf("b%02d", i), img)).BundleId))
	}
	first, err := c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Bundles) != 25 || first.NextToken == nil {
		t.Fatalf("first page: %d bundles, NextToken %v", len(first.Bundles), first.NextToken)
	}
	var got []string
	for _, b := range ownBundles(t, c) {
		got = append(got, aws.ToString(b.BundleId))
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("paginated bundles = %v, want each of %v once, by id", got, want)
	}
	_, err = c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{NextToken: aws.String("garbage")})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest, "NextToken")
}

func TestBundleOnSharedImage(t *testing.T) { forEachStore(t, bundleOnSharedImage) }

func bundleOnSharedImage(t *testing.T, store storeBackend) {
	srv := store.start(t)
	owner, grantee := srv.Client(t, accountA, usEast1), srv.Client(t, accountB, usEast1)
	img := importImage(t, owner, importInput("shared-base", tag("owner-tag", "a")))
	_, err := grantee.CreateWorkspaceBundle(ctx(t), bundleInput("before-share", img))
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, img)
	if _, err := owner.UpdateWorkspaceImagePermission(ctx(t), &workspaces.UpdateWorkspaceImagePermissionInput{
		ImageId: aws.String(img), SharedAccountId: aws.String(accountB), AllowCopyImage: aws.Bool(true),
	}); err != nil {
		t.Fatalf("UpdateWorkspaceImagePermission: %v", err)
	}
	b := createBundle(t, grantee, bundleInput("on-shared", img))
	if aws.ToString(b.Owner) != accountB || aws.ToString(b.ImageId) != img {
		t.Errorf("bundle on shared image = %+v", b)
	}
	// The owner-side tags are the owner's.
	_, err = grantee.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(img)})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, img)
	_, err = grantee.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(img), Tags: []types.Tag{tag("x", "y")}})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, img)
	if got := describeTags(t, owner, img); got["owner-tag"] != "a" || len(got) != 1 {
		t.Errorf("owner's tags = %v", got)
	}
	// The owner does not see the grantee's bundle.
	if own := ownBundles(t, owner); len(own) != 0 {
		t.Errorf("owner sees bundles %+v", own)
	}
}

func TestTags(t *testing.T) { forEachStore(t, tagsStory) }

func tagsStory(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	img := importImage(t, c, importInput("tagged", tag("created", "yes")))
	b := aws.ToString(createBundle(t, c, bundleInput("tagged", img)).BundleId)

	for _, id := range []string{img, b} {
		t.Run(id[:3], func(t *testing.T) {
			if _, err := c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("env", "test"), tag("created", "overwritten")}}); err != nil {
				t.Fatalf("CreateTags: %v", err)
			}
			got := describeTags(t, c, id)
			if got["env"] != "test" || got["created"] != "overwritten" {
				t.Errorf("tags after CreateTags = %v", got)
			}
			if _, err := c.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(id), TagKeys: []string{"env", "never-there"}}); err != nil {
				t.Fatalf("DeleteTags: %v", err)
			}
			if got := describeTags(t, c, id); len(got) != 1 || got["created"] != "overwritten" {
				t.Errorf("tags after DeleteTags = %v", got)
			}
			// Up to 50 in total.
			var many []types.Tag
			for i := range 49 {
				many = append(many, tag(fmt.Sprintf("k%02d", i), "v"))
			}
			if _, err := c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(id), Tags: many}); err != nil {
				t.Fatalf("CreateTags to 50: %v", err)
			}
			_, err := c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("one-too-many", "v")}})
			wantAPIError(t, err, "ResourceLimitExceededException", http.StatusBadRequest, "50")
			// Overwriting at 50 is fine.
			if _, err := c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("k00", "w")}}); err != nil {
				t.Errorf("overwrite at 50 tags: %v", err)
			}
			if got := describeTags(t, c, id); len(got) != 50 || got["k00"] != "w" {
				t.Errorf("%d tags, k00 = %q", len(got), got["k00"])
			}
			_, err = c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("aws:cloudformation:stack-name", "x")}})
			wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "aws:")
			_, err = c.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(id), TagKeys: []string{"AWS:x"}})
			wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "aws:")
		})
	}
	for _, id := range []string{"wsi-000000000", "wsb-000000000", "d-1234567890", "ws-abcdefghi", "wsipg-abcdefghi", "wsca-0123456789abcdef0", "wspool-abcdefghi", "nonsense"} {
		_, err := c.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
		wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, id)
		_, err = c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("a", "b")}})
		wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, id)
		_, err = c.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(id), TagKeys: []string{"a"}})
		wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, id)
	}
	// Another Region of the same account does not hold them.
	_, err := srv.Client(t, accountA, euWest1).DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(b)})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)
}

func modifyAccount(t *testing.T, c *workspaces.Client, cidr string) error {
	t.Helper()
	_, err := c.ModifyAccount(ctx(t), &workspaces.ModifyAccountInput{
		DedicatedTenancySupport: types.DedicatedTenancySupportEnumEnabled, DedicatedTenancyManagementCidrRange: aws.String(cidr),
	})
	return err
}

func modifications(t *testing.T, c *workspaces.Client) []types.AccountModification {
	t.Helper()
	var all []types.AccountModification
	var tok *string
	for {
		out, err := c.DescribeAccountModifications(ctx(t), &workspaces.DescribeAccountModificationsInput{NextToken: tok})
		if err != nil {
			t.Fatalf("DescribeAccountModifications: %v", err)
		}
		all = append(all, out.AccountModifications...)
		if tok = out.NextToken; tok == nil {
			return all
		}
	}
}

func TestBYOLStrictEnablement(t *testing.T) { forEachStore(t, byolStrictEnablement) }

func byolStrictEnablement(t *testing.T, store storeBackend) {
	srv := store.start(t, "--byol", "strict", "--profile", "quick")
	srv.Freeze(t)
	c := srv.Client(t, accountA, usEast1)

	_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("too-early"))
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest, "not enabled for BYOL", "ModifyAccount")
	_, err = c.ListAvailableManagementCidrRanges(ctx(t), &workspaces.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: aws.String("10.0.0.0/8")})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)
	acct, err := c.DescribeAccount(ctx(t), &workspaces.DescribeAccountInput{})
	if err != nil || acct.DedicatedTenancySupport != types.DedicatedTenancySupportResultEnumDisabled || acct.DedicatedTenancyManagementCidrRange != nil {
		t.Fatalf("DescribeAccount before = %+v, %v", acct, err)
	}
	if m := modifications(t, c); len(m) != 0 {
		t.Errorf("modifications before any = %+v", m)
	}

	start := srv.Now(t)
	if err := modifyAccount(t, c, "10.20.0.0/16"); err != nil {
		t.Fatalf("ModifyAccount: %v", err)
	}
	m := modifications(t, c)
	if len(m) != 1 || m[0].ModificationState != types.DedicatedTenancyModificationStateEnumPending ||
		aws.ToString(m[0].DedicatedTenancyManagementCidrRange) != "10.20.0.0/16" ||
		m[0].DedicatedTenancySupport != types.DedicatedTenancySupportResultEnumEnabled || m[0].StartTime.Sub(start).Abs() > time.Millisecond {
		t.Fatalf("modification while pending = %+v", m)
	}
	wantAPIError(t, modifyAccount(t, c, "10.21.0.0/16"), "InvalidResourceStateException", http.StatusBadRequest, "in progress")
	_, err = c.ImportCustomWorkspaceImage(ctx(t), importInput("still-early"))
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest, "PENDING")
	// Another Region of the same account is a separate configuration.
	_, err = srv.Client(t, accountA, euWest1).ImportCustomWorkspaceImage(ctx(t), importInput("other-region"))
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)

	srv.Advance(t, 5*time.Second)
	m = modifications(t, c)
	if len(m) != 1 || m[0].ModificationState != types.DedicatedTenancyModificationStateEnumCompleted {
		t.Fatalf("modification after 5s = %+v", m)
	}
	acct, _ = c.DescribeAccount(ctx(t), &workspaces.DescribeAccountInput{})
	if acct.DedicatedTenancySupport != types.DedicatedTenancySupportResultEnumEnabled || aws.ToString(acct.DedicatedTenancyManagementCidrRange) != "10.20.0.0/16" {
		t.Errorf("DescribeAccount after = %+v", acct)
	}
	var ranges []string
	in := &workspaces.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: aws.String("172.16.0.0/12"), MaxResults: aws.Int32(5)}
	for {
		page, err := c.ListAvailableManagementCidrRanges(ctx(t), in)
		if err != nil {
			t.Fatalf("ListAvailableManagementCidrRanges: %v", err)
		}
		if len(page.ManagementCidrRanges) > 5 {
			t.Errorf("page of %d", len(page.ManagementCidrRanges))
		}
		ranges = append(ranges, page.ManagementCidrRanges...)
		if in.NextToken = page.NextToken; in.NextToken == nil {
			break
		}
	}
	if len(ranges) != 16 || ranges[0] != "172.16.0.0/16" || ranges[15] != "172.31.0.0/16" {
		t.Errorf("ranges in 172.16.0.0/12 = %v", ranges)
	}
	out, err := c.ListAvailableManagementCidrRanges(ctx(t), &workspaces.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: aws.String("10.20.0.0/15")})
	if err != nil || !slices.Equal(out.ManagementCidrRanges, []string{"10.21.0.0/16"}) {
		t.Errorf("ranges in 10.20.0.0/15 = %v, %v; the account's own range must be left out", out, err)
	}
	importImage(t, c, importInput("now-allowed"))
}

func TestBYOLFriendlyAndModifyAccountErrors(t *testing.T) {
	forEachStore(t, byolFriendlyAndModifyAccountErrors)
}

func byolFriendlyAndModifyAccountErrors(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	acct, err := c.DescribeAccount(ctx(t), &workspaces.DescribeAccountInput{})
	if err != nil || acct.DedicatedTenancySupport != types.DedicatedTenancySupportResultEnumEnabled || aws.ToString(acct.DedicatedTenancyManagementCidrRange) != "10.0.0.0/16" {
		t.Fatalf("friendly DescribeAccount = %+v, %v", acct, err)
	}
	importImage(t, c, importInput("friendly"))

	wantAPIError(t, modifyAccount(t, c, "10.0.0.0/16"), "InvalidResourceStateException", http.StatusBadRequest, "already enabled")
	wantAPIError(t, modifyAccount(t, c, "8.8.0.0/16"), "InvalidParameterValuesException", http.StatusBadRequest, "not available")
	wantAPIError(t, modifyAccount(t, c, "10.1.0.0/24"), "ValidationException", http.StatusBadRequest, "dedicatedTenancyManagementCidrRange")
	_, err = c.ModifyAccount(ctx(t), &workspaces.ModifyAccountInput{DedicatedTenancyManagementCidrRange: aws.String("10.1.0.0/16")})
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "DedicatedTenancySupport")
	_, err = c.ListAvailableManagementCidrRanges(ctx(t), &workspaces.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: aws.String("10.0.0.0/20")})
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "/16")

	// A fault rule fails the modification; the account keeps its range.
	srv.AddFaultRule(t, map[string]any{"kind": "account-modification", "namePattern": "10.66.*/16", "failAt": "PENDING", "errorCode": "InsufficientCapacity", "errorMessage": "No capacity."})
	if err := modifyAccount(t, c, "10.66.0.0/16"); err != nil {
		t.Fatal(err)
	}
	m := modifications(t, c)
	if len(m) != 1 || m[0].ModificationState != types.DedicatedTenancyModificationStateEnumFailed ||
		aws.ToString(m[0].ErrorCode) != "InsufficientCapacity" || aws.ToString(m[0].ErrorMessage) != "No capacity." {
		t.Fatalf("failed modification = %+v", m)
	}
	acct, _ = c.DescribeAccount(ctx(t), &workspaces.DescribeAccountInput{})
	if aws.ToString(acct.DedicatedTenancyManagementCidrRange) != "10.0.0.0/16" {
		t.Errorf("range after a failed modification = %v", aws.ToString(acct.DedicatedTenancyManagementCidrRange))
	}
	if err := modifyAccount(t, c, "10.7.0.0/16"); err != nil {
		t.Fatal(err)
	}
	m = modifications(t, c)
	if len(m) != 2 || aws.ToString(m[0].DedicatedTenancyManagementCidrRange) != "10.7.0.0/16" || m[0].ModificationState != types.DedicatedTenancyModificationStateEnumCompleted {
		t.Errorf("history = %+v, want the newest first", m)
	}
	// Another account is untouched.
	other, _ := srv.Client(t, accountB, usEast1).DescribeAccount(ctx(t), &workspaces.DescribeAccountInput{})
	if aws.ToString(other.DedicatedTenancyManagementCidrRange) != "10.0.0.0/16" {
		t.Errorf("other account's range = %v", aws.ToString(other.DedicatedTenancyManagementCidrRange))
	}
}
