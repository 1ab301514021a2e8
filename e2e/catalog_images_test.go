package e2e_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

// The image catalogue around the import (issue 5, part A): listing owned and
// shared images, sharing, copies within and across Regions, updated images,
// the older ImportWorkspaceImage, deleting and image associations, all
// through aws-sdk-go-v2 against the real binary.

const accountC = "777788889999"

// ciUpdateInterval is how long after an image got its components wsim
// reports updates (service.UpdateInterval).
const ciUpdateInterval = 30 * 24 * time.Hour

func ciShare(t *testing.T, c *workspaces.Client, id, account string, allow bool) error {
	t.Helper()
	_, err := c.UpdateWorkspaceImagePermission(ctx(t), &workspaces.UpdateWorkspaceImagePermissionInput{
		ImageId: aws.String(id), SharedAccountId: aws.String(account), AllowCopyImage: aws.Bool(allow),
	})
	return err
}

func ciMustShare(t *testing.T, c *workspaces.Client, id, account string, allow bool) {
	t.Helper()
	if err := ciShare(t, c, id, account, allow); err != nil {
		t.Fatalf("UpdateWorkspaceImagePermission(%s, %s, %v): %v", id, account, allow, err)
	}
}

// ciList walks DescribeWorkspaceImages page by page and returns the images.
func ciList(t *testing.T, c *workspaces.Client, in workspaces.DescribeWorkspaceImagesInput) []types.WorkspaceImage {
	t.Helper()
	var all []types.WorkspaceImage
	for range 100 {
		out, err := c.DescribeWorkspaceImages(ctx(t), &in)
		if err != nil {
			t.Fatalf("DescribeWorkspaceImages: %v", err)
		}
		if in.MaxResults != nil && len(out.Images) > int(*in.MaxResults) {
			t.Fatalf("a page of MaxResults %d holds %d images", *in.MaxResults, len(out.Images))
		}
		all = append(all, out.Images...)
		if out.NextToken == nil {
			return all
		}
		in.NextToken = out.NextToken
	}
	t.Fatal("DescribeWorkspaceImages: more than 100 pages")
	return nil
}

func ciIDs(images []types.WorkspaceImage) []string {
	ids := make([]string, len(images))
	for i, img := range images {
		ids[i] = aws.ToString(img.ImageId)
	}
	return ids
}

func ciCopy(t *testing.T, c *workspaces.Client, name, srcRegion, srcID string, tags ...types.Tag) (string, error) {
	t.Helper()
	out, err := c.CopyWorkspaceImage(ctx(t), &workspaces.CopyWorkspaceImageInput{
		Name: aws.String(name), Description: aws.String("copied by the e2e suite"),
		SourceImageId: aws.String(srcID), SourceRegion: aws.String(srcRegion), Tags: tags,
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ImageId), nil
}

func ciDelete(t *testing.T, c *workspaces.Client, id string) error {
	t.Helper()
	_, err := c.DeleteWorkspaceImage(ctx(t), &workspaces.DeleteWorkspaceImageInput{ImageId: aws.String(id)})
	return err
}

func ciLegacyInput(name string, tags ...types.Tag) *workspaces.ImportWorkspaceImageInput {
	return &workspaces.ImportWorkspaceImageInput{
		Ec2ImageId:       aws.String(sourceAMI),
		IngestionProcess: types.WorkspaceImageIngestionProcessByolRegularWsp,
		ImageName:        aws.String(name),
		ImageDescription: aws.String("Windows 10 BYOL image"),
		Tags:             tags,
	}
}

// TestImageSharingStory: A imports, shares with B, B sees it as shared and
// copies it into its own account, A can't delete while shared, A unshares,
// B no longer sees it, A deletes, and B's copy lives on.
func TestImageSharingStory(t *testing.T) { forEachStore(t, imageSharingStory) }

func imageSharingStory(t *testing.T, store storeBackend) {
	srv := store.start(t)
	a := srv.Client(t, accountA, usEast1)
	b := srv.Client(t, accountB, usEast1)
	bWest := srv.Client(t, accountB, euWest1)

	id := importImage(t, a, importInput("golden", tag("team", "vdi")))
	bOwn := importImage(t, b, importInput("b-own"))

	// Sharing errors, before anything is shared.
	wantAPIError(t, ciShare(t, a, id, accountA, true), "InvalidParameterValuesException", http.StatusBadRequest, "your own account")
	wantAPIError(t, ciShare(t, a, "wsi-000000000", accountB, true), "ResourceNotFoundException", http.StatusBadRequest)
	wantAPIError(t, ciShare(t, a, id, accountB, false), "InvalidParameterValuesException", http.StatusBadRequest, "not shared")
	wantAPIError(t, ciShare(t, srv.Client(t, accountA, euWest1), id, accountB, true), "ResourceNotFoundException", http.StatusBadRequest)
	if got := ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeShared}); len(got) != 0 {
		t.Fatalf("B sees shared images before any sharing: %v", ciIDs(got))
	}

	ciMustShare(t, a, id, accountB, true)
	ciMustShare(t, a, id, accountB, true) // sharing again changes nothing

	// B sees it as shared, owned by A, with the original creation date.
	shared := ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeShared})
	if len(shared) != 1 || aws.ToString(shared[0].ImageId) != id || aws.ToString(shared[0].OwnerAccountId) != accountA {
		t.Fatalf("B's SHARED images = %+v, want %s owned by %s", ciIDs(shared), id, accountA)
	}
	aView := catalogueImage(t, a, id)
	if !shared[0].Created.Equal(*aView.Created) || aws.ToString(shared[0].Name) != "golden" || shared[0].State != types.WorkspaceImageStateAvailable {
		t.Errorf("B's view %+v differs from A's %+v", shared[0], aView)
	}
	if shared[0].Updates != nil {
		t.Errorf("B sees Updates of A's image: %+v", shared[0].Updates)
	}
	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{})); !slices.Equal(got, []string{bOwn, id}) {
		t.Errorf("B's images = %v, want its own %s then the shared %s", got, bOwn, id)
	}
	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeOwned})); !slices.Equal(got, []string{bOwn}) {
		t.Errorf("B's OWNED images = %v", got)
	}
	if got := catalogueImage(t, b, id); aws.ToString(got.OwnerAccountId) != accountA {
		t.Errorf("B looking up %s by id sees owner %s", id, aws.ToString(got.OwnerAccountId))
	}
	if got := ciList(t, bWest, workspaces.DescribeWorkspaceImagesInput{}); len(got) != 0 {
		t.Errorf("the share leaks into another Region: %v", ciIDs(got))
	}

	// Only A sees the permissions, and B can't act as the owner.
	perms, err := a.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(perms.ImageId) != id || len(perms.ImagePermissions) != 1 || aws.ToString(perms.ImagePermissions[0].SharedAccountId) != accountB {
		t.Errorf("permissions = %+v", perms)
	}
	_, err = b.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(id)})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest, accountA)
	_, err = a.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String("wsi-000000000")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)
	wantAPIError(t, ciShare(t, b, id, accountC, true), "AccessDeniedException", http.StatusBadRequest, "only its owner")
	wantAPIError(t, ciDelete(t, b, id), "AccessDeniedException", http.StatusBadRequest)
	_, err = b.CreateUpdatedWorkspaceImage(ctx(t), &workspaces.CreateUpdatedWorkspaceImageInput{
		Name: aws.String("b-updated"), Description: aws.String("x"), SourceImageId: aws.String(id),
	})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)

	// Both see no application associations.
	for _, c := range []*workspaces.Client{a, b} {
		out, err := c.DescribeImageAssociations(ctx(t), &workspaces.DescribeImageAssociationsInput{
			ImageId: aws.String(id), AssociatedResourceTypes: []types.ImageAssociatedResourceType{types.ImageAssociatedResourceTypeApplication},
		})
		if err != nil || len(out.Associations) != 0 {
			t.Errorf("DescribeImageAssociations: %+v, %v", out, err)
		}
	}

	// B copies it into its own account, in its Region and in another.
	copyID, err := ciCopy(t, b, "golden-of-b", usEast1, id, tag("copied", "yes"))
	if err != nil {
		t.Fatalf("B copies the shared image: %v", err)
	}
	westCopy, err := ciCopy(t, bWest, "golden-west", usEast1, id)
	if err != nil {
		t.Fatalf("B copies the shared image to eu-west-1: %v", err)
	}
	for _, tc := range []struct {
		c  *workspaces.Client
		id string
	}{{b, copyID}, {bWest, westCopy}} {
		img := catalogueImage(t, tc.c, tc.id)
		if aws.ToString(img.OwnerAccountId) != accountB || img.State != types.WorkspaceImageStateAvailable {
			t.Errorf("B's copy %s: owner %s, state %s", tc.id, aws.ToString(img.OwnerAccountId), img.State)
		}
	}
	tags, err := b.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(copyID)})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Key) != "copied" {
		t.Errorf("the copy's tags: %+v, %v", tags, err)
	}

	// A can't delete while shared; unsharing takes effect at once.
	wantAPIError(t, ciDelete(t, a, id), "ResourceAssociatedException", http.StatusBadRequest, "Unshare", accountB)
	ciMustShare(t, a, id, accountB, false)
	if got := ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeShared}); len(got) != 0 {
		t.Errorf("B still sees %v after unsharing", ciIDs(got))
	}
	out, err := b.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 0 {
		t.Errorf("B looks %s up by id after unsharing: %+v, %v", id, out, err)
	}
	_, err = ciCopy(t, b, "too-late", usEast1, id)
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, id)
	perms, err = a.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(id)})
	if err != nil || len(perms.ImagePermissions) != 0 {
		t.Errorf("permissions after unsharing: %+v, %v", perms, err)
	}

	if err := ciDelete(t, a, id); err != nil {
		t.Fatalf("A deletes the unshared image: %v", err)
	}
	if got := ciList(t, a, workspaces.DescribeWorkspaceImagesInput{}); len(got) != 0 {
		t.Errorf("A still has %v", ciIDs(got))
	}
	// Deleting again is idempotent; B's copies are B's own and remain.
	if err := ciDelete(t, a, id); err != nil {
		t.Errorf("deleting a deleted image: %v", err)
	}
	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{})); len(got) != 2 || !slices.Contains(got, copyID) {
		t.Errorf("B's images after A deleted the source: %v", got)
	}
	_, err = a.DescribeImageAssociations(ctx(t), &workspaces.DescribeImageAssociationsInput{
		ImageId: aws.String(id), AssociatedResourceTypes: []types.ImageAssociatedResourceType{types.ImageAssociatedResourceTypeApplication},
	})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, id)
}

// TestImageCopyAcrossRegions: A copies from us-east-1 to eu-west-1, the copy
// is PENDING until the service clock has moved, a duplicate name is refused
// and the copy counts against the destination's quota.
func TestImageCopyAcrossRegions(t *testing.T) { forEachStore(t, imageCopyAcrossRegions) }

func imageCopyAcrossRegions(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick", "--image-quota", "2")
	east := srv.Client(t, accountA, usEast1)
	west := srv.Client(t, accountA, euWest1)
	srv.FreezeRounded(t)

	src := importImage(t, east, importInput("golden"))
	_, err := ciCopy(t, west, "golden", usEast1, src)
	wantAPIError(t, err, "ResourceUnavailableException", http.StatusBadRequest, "PENDING")
	srv.Advance(t, time.Hour)

	_, err = ciCopy(t, west, "x", usEast1, "wsi-000000000")
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, "wsi-000000000")
	_, err = ciCopy(t, west, "x", euWest1, src) // the source is not in eu-west-1
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)
	_, err = ciCopy(t, srv.Client(t, accountB, euWest1), "x", usEast1, src) // not shared with B
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)

	created := srv.Now(t)
	id, err := ciCopy(t, west, "golden", usEast1, src)
	if err != nil {
		t.Fatalf("CopyWorkspaceImage: %v", err)
	}
	img := catalogueImage(t, west, id)
	if img.State != types.WorkspaceImageStatePending || aws.ToString(img.OwnerAccountId) != accountA ||
		aws.ToString(img.Name) != "golden" || aws.ToString(img.Description) != "copied by the e2e suite" || !img.Created.Equal(created) {
		t.Errorf("the new copy: %+v", img)
	}
	if img.Updates != nil {
		t.Errorf("a PENDING copy shows Updates %+v", img.Updates)
	}
	// Not visible in the source Region, and not an import.
	if got := ciIDs(ciList(t, east, workspaces.DescribeWorkspaceImagesInput{})); !slices.Equal(got, []string{src}) {
		t.Errorf("us-east-1 images = %v", got)
	}
	_, err = west.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)

	srv.Advance(t, 9*time.Second)
	if st := catalogueImage(t, west, id).State; st != types.WorkspaceImageStatePending {
		t.Errorf("after 9 s the copy is %s, want PENDING (quick copies take 10 s)", st)
	}
	srv.Advance(t, time.Second)
	if st := catalogueImage(t, west, id).State; st != types.WorkspaceImageStateAvailable {
		t.Errorf("after 10 s the copy is %s, want AVAILABLE", st)
	}

	// The name is taken in the destination.
	_, err = ciCopy(t, west, "golden", usEast1, src)
	wantAPIError(t, err, "ResourceAlreadyExistsException", http.StatusBadRequest, "golden")

	// Copies count against eu-west-1's quota of 2, not us-east-1's.
	if _, err := ciCopy(t, west, "golden-2", usEast1, src); err != nil {
		t.Fatalf("second copy: %v", err)
	}
	_, err = ciCopy(t, west, "golden-3", usEast1, src)
	wantAPIError(t, err, "ResourceLimitExceededException", http.StatusBadRequest, euWest1)
	if _, err := ciCopy(t, east, "golden-east", usEast1, src); err != nil {
		t.Errorf("a copy within us-east-1, whose quota has room: %v", err)
	}
	// Deleting frees a place.
	if err := ciDelete(t, west, id); err != nil {
		t.Fatal(err)
	}
	if _, err := ciCopy(t, west, "golden-3", usEast1, src); err != nil {
		t.Errorf("a copy after deleting one: %v", err)
	}

	// A copy can be scripted to fail like an import.
	srv2 := store.start(t)
	c2 := srv2.Client(t, accountA, usEast1)
	base := importImage(t, c2, importInput("base"))
	failed, err := ciCopy(t, c2, "doomed", usEast1, base, tag("wsim:fail-at", "PENDING"))
	if err != nil {
		t.Fatal(err)
	}
	img = catalogueImage(t, c2, failed)
	if img.State != types.WorkspaceImageStateError || aws.ToString(img.ErrorCode) != "UnknownError" || len(img.ErrorDetails) != 1 {
		t.Errorf("a copy failing at PENDING: %+v", img)
	}
	srv2.AddFaultRule(t, map[string]any{"kind": "copy", "namePattern": "rule-*", "failAt": "PENDING", "errorCode": "InsufficientDiskSpace"})
	failed, err = ciCopy(t, c2, "rule-hit", usEast1, base)
	if err != nil {
		t.Fatal(err)
	}
	if img := catalogueImage(t, c2, failed); aws.ToString(img.ErrorCode) != "InsufficientDiskSpace" {
		t.Errorf("a copy matching a fault rule: %+v", img)
	}
	_, err = ciCopy(t, c2, "bad-tag", usEast1, base, tag("wsim:fail-at", "VALIDATING"))
	wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest, "VALIDATING")
}

// TestDescribeImagesOwnedAndShared walks owned and shared images with every
// page size: each once, owned first by id, then shared by id.
func TestDescribeImagesOwnedAndShared(t *testing.T) { forEachStore(t, describeImagesOwnedAndShared) }

func describeImagesOwnedAndShared(t *testing.T, store storeBackend) {
	srv := store.start(t)
	a := srv.Client(t, accountA, usEast1)
	b := srv.Client(t, accountB, usEast1)
	c := srv.Client(t, accountC, usEast1)
	var owned, shared []string
	for i := range 4 {
		owned = append(owned, importImage(t, b, importInput(fmt.Sprintf("b-%d", i))))
	}
	for i, owner := range []*workspaces.Client{a, c, a} {
		id := importImage(t, owner, importInput(fmt.Sprintf("shared-%d", i)))
		ciMustShare(t, owner, id, accountB, true)
		shared = append(shared, id)
	}
	importImage(t, a, importInput("not-shared"))
	slices.Sort(owned)
	slices.Sort(shared)
	all := append(slices.Clone(owned), shared...)

	for size := int32(1); size <= 8; size++ {
		for _, tc := range []struct {
			typ  types.ImageType
			want []string
		}{{"", all}, {types.ImageTypeOwned, owned}, {types.ImageTypeShared, shared}} {
			in := workspaces.DescribeWorkspaceImagesInput{MaxResults: aws.Int32(size), ImageType: tc.typ}
			if got := ciIDs(ciList(t, b, in)); !slices.Equal(got, tc.want) {
				t.Errorf("ImageType %q, MaxResults %d: %v, want %v", tc.typ, size, got, tc.want)
			}
			in.ImageIds = append(slices.Clone(all), "wsi-000000000")
			if got := ciIDs(ciList(t, b, in)); !slices.Equal(got, tc.want) {
				t.Errorf("ImageType %q, MaxResults %d, by ids: %v, want %v", tc.typ, size, got, tc.want)
			}
		}
	}
	_, err := b.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{NextToken: aws.String("not-a-token")})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest, "NextToken")

	// Permissions page by account id.
	id := importImage(t, a, importInput("widely-shared"))
	for _, acct := range []string{accountC, "000011112222", accountB} {
		ciMustShare(t, a, id, acct, true)
	}
	var got []string
	var token *string
	for range 10 {
		out, err := a.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{
			ImageId: aws.String(id), MaxResults: aws.Int32(1), NextToken: token,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ImagePermissions) > 1 {
			t.Errorf("a page of MaxResults 1 holds %d permissions", len(out.ImagePermissions))
		}
		for _, p := range out.ImagePermissions {
			got = append(got, aws.ToString(p.SharedAccountId))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if want := []string{"000011112222", accountB, accountC}; !slices.Equal(got, want) {
		t.Errorf("permissions one at a time: %v, want %v", got, want)
	}
}

// TestDeleteWorkspaceImage covers every answer of DeleteWorkspaceImage.
func TestDeleteWorkspaceImage(t *testing.T) { forEachStore(t, deleteWorkspaceImage) }

func deleteWorkspaceImage(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick", "--image-quota", "1")
	c := srv.Client(t, accountA, usEast1)
	srv.FreezeRounded(t)

	if err := ciDelete(t, c, "wsi-000000000"); err != nil {
		t.Errorf("deleting an unknown id: %v, want success", err)
	}
	id := importImage(t, c, importInput("golden"))
	wantAPIError(t, ciDelete(t, c, id), "InvalidResourceStateException", http.StatusBadRequest, "PENDING")
	srv.Advance(t, time.Hour)

	bundle, err := c.CreateWorkspaceBundle(ctx(t), &workspaces.CreateWorkspaceBundleInput{
		BundleName: aws.String("golden-bundle"), BundleDescription: aws.String("on golden"), ImageId: aws.String(id),
		ComputeType: &types.ComputeType{Name: types.ComputeStandard}, UserStorage: &types.UserStorage{Capacity: aws.String("50")},
	})
	if err != nil {
		t.Fatalf("CreateWorkspaceBundle: %v", err)
	}
	bundleID := aws.ToString(bundle.WorkspaceBundle.BundleId)
	wantAPIError(t, ciDelete(t, c, id), "ResourceAssociatedException", http.StatusBadRequest, bundleID)
	if _, err := c.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{BundleId: aws.String(bundleID)}); err != nil {
		t.Fatal(err)
	}
	if err := ciDelete(t, c, id); err != nil {
		t.Fatalf("deleting an unused image: %v", err)
	}
	// The name and the only place in the quota are free again.
	importImage(t, c, importInput("golden"))

	// An image that ended in ERROR can be deleted.
	srv.Advance(t, time.Hour)
	if err := ciDelete(t, c, ciIDs(ciList(t, c, workspaces.DescribeWorkspaceImagesInput{}))[0]); err != nil {
		t.Fatal(err)
	}
	failed := importImage(t, c, importInput("broken", tag("wsim:fail-at", "PENDING")))
	srv.Advance(t, time.Hour)
	if st := catalogueImage(t, c, failed).State; st != types.WorkspaceImageStateError {
		t.Fatalf("state %s, want ERROR", st)
	}
	if err := ciDelete(t, c, failed); err != nil {
		t.Errorf("deleting an ERROR image: %v", err)
	}
}

// TestCreateUpdatedWorkspaceImage: updates become available a month after an
// image got its components; the updated image is a new PENDING image.
func TestCreateUpdatedWorkspaceImage(t *testing.T) { forEachStore(t, createUpdatedWorkspaceImage) }

func createUpdatedWorkspaceImage(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick")
	c := srv.Client(t, accountA, usEast1)
	srv.FreezeRounded(t)
	src := importImage(t, c, importInput("golden"))
	update := func(name, srcID string) (string, error) {
		out, err := c.CreateUpdatedWorkspaceImage(ctx(t), &workspaces.CreateUpdatedWorkspaceImageInput{
			Name: aws.String(name), Description: aws.String("golden with the latest agent"), SourceImageId: aws.String(srcID),
			Tags: []types.Tag{tag("stage", "updated")},
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.ImageId), nil
	}
	if img := catalogueImage(t, c, src); img.Updates != nil {
		t.Errorf("a PENDING image shows Updates %+v", img.Updates)
	}
	_, err := update("golden-2", src)
	wantAPIError(t, err, "InvalidResourceStateException", http.StatusBadRequest, "PENDING")
	srv.Advance(t, time.Hour)

	img := catalogueImage(t, c, src)
	if img.Updates == nil || aws.ToBool(img.Updates.UpdateAvailable) || aws.ToString(img.Updates.Description) == "" {
		t.Errorf("a new image: Updates %+v, want UpdateAvailable false with a description", img.Updates)
	}
	_, err = update("golden-2", src)
	wantAPIError(t, err, "OperationNotSupportedException", http.StatusBadRequest, "No updates")
	_, err = update("golden-2", "wsi-000000000")
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)

	srv.Advance(t, ciUpdateInterval)
	img = catalogueImage(t, c, src)
	if img.Updates == nil || !aws.ToBool(img.Updates.UpdateAvailable) {
		t.Fatalf("after %s: Updates %+v, want UpdateAvailable true", ciUpdateInterval, img.Updates)
	}
	_, err = update("golden", src)
	wantAPIError(t, err, "ResourceAlreadyExistsException", http.StatusBadRequest, "golden")

	id, err := update("golden-2", src)
	if err != nil {
		t.Fatalf("CreateUpdatedWorkspaceImage: %v", err)
	}
	img = catalogueImage(t, c, id)
	if img.State != types.WorkspaceImageStatePending || aws.ToString(img.Description) != "golden with the latest agent" {
		t.Errorf("the updated image: %+v", img)
	}
	srv.Advance(t, 15*time.Second)
	img = catalogueImage(t, c, id)
	if img.State != types.WorkspaceImageStateAvailable || img.Updates == nil || aws.ToBool(img.Updates.UpdateAvailable) {
		t.Errorf("the updated image after 15 s: state %s, Updates %+v", img.State, img.Updates)
	}
	// The source is left as it was.
	if img := catalogueImage(t, c, src); !aws.ToBool(img.Updates.UpdateAvailable) {
		t.Errorf("the source lost its updates: %+v", img.Updates)
	}
}

// TestLegacyImportWorkspaceImage: the older BYOL path on the same engine.
func TestLegacyImportWorkspaceImage(t *testing.T) { forEachStore(t, legacyImportWorkspaceImage) }

func legacyImportWorkspaceImage(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick", "--image-quota", "3")
	c := srv.Client(t, accountA, usEast1)
	created := srv.FreezeRounded(t)

	out, err := c.ImportWorkspaceImage(ctx(t), ciLegacyInput("legacy", tag("team", "vdi")))
	if err != nil {
		t.Fatalf("ImportWorkspaceImage: %v", err)
	}
	id := aws.ToString(out.ImageId)
	img := catalogueImage(t, c, id)
	if img.State != types.WorkspaceImageStatePending || !img.Created.Equal(created) || img.RequiredTenancy != types.WorkspaceImageRequiredTenancyDedicated ||
		aws.ToString(img.Description) != "Windows 10 BYOL image" || img.OperatingSystem == nil || img.OperatingSystem.Type != types.OperatingSystemTypeWindows {
		t.Errorf("a new legacy import: %+v", img)
	}
	_, err = c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)
	srv.Advance(t, 19*time.Second)
	if st := catalogueImage(t, c, id).State; st != types.WorkspaceImageStatePending {
		t.Errorf("after 19 s: %s, want PENDING (quick legacy imports take 20 s)", st)
	}
	srv.Advance(t, time.Second)
	if st := catalogueImage(t, c, id).State; st != types.WorkspaceImageStateAvailable {
		t.Errorf("after 20 s: %s, want AVAILABLE", st)
	}
	tags, err := c.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
	if err != nil || len(tags.TagList) != 1 {
		t.Errorf("tags given at import: %+v, %v", tags, err)
	}

	_, err = c.ImportWorkspaceImage(ctx(t), ciLegacyInput("legacy"))
	wantAPIError(t, err, "ResourceAlreadyExistsException", http.StatusBadRequest, "legacy")

	// Failures from tags and from fault rules of kind legacy-import.
	out, err = c.ImportWorkspaceImage(ctx(t), ciLegacyInput("doomed", tag("wsim:fail-at", "PENDING")))
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(t, 10*time.Second)
	img = catalogueImage(t, c, aws.ToString(out.ImageId))
	if img.State != types.WorkspaceImageStateError || aws.ToString(img.ErrorCode) != "OSNotSupported" ||
		len(img.ErrorDetails) != 1 || aws.ToString(img.ErrorMessage) == "" {
		t.Errorf("a legacy import failing at PENDING: %+v", img)
	}
	srv.AddFaultRule(t, map[string]any{"kind": "legacy-import", "sourceId": "ami-0abcdef0123456789", "failAt": "PENDING", "errorCode": "AntiVirusInstalled"})
	in := ciLegacyInput("rule-hit")
	in.Ec2ImageId = aws.String("ami-0abcdef0123456789")
	out, err = c.ImportWorkspaceImage(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(t, time.Minute)
	if img := catalogueImage(t, c, aws.ToString(out.ImageId)); aws.ToString(img.ErrorCode) != "AntiVirusInstalled" {
		t.Errorf("a legacy import matching a fault rule: %+v", img)
	}
	// The quota of 3 is reached: legacy imports count like every image.
	_, err = c.ImportWorkspaceImage(ctx(t), ciLegacyInput("fourth"))
	wantAPIError(t, err, "ResourceLimitExceededException", http.StatusBadRequest)

	// What the model and the docs say of the members.
	srv2 := store.start(t)
	c2 := srv2.Client(t, accountA, usEast1)
	withApps := func(process types.WorkspaceImageIngestionProcess, apps []types.Application, tags ...types.Tag) error {
		in := ciLegacyInput(fmt.Sprintf("apps-%d", time.Now().UnixNano()), tags...)
		in.IngestionProcess, in.Applications = process, apps
		_, err := c2.ImportWorkspaceImage(ctx(t), in)
		return err
	}
	win11 := tag("wsim:os-version", "Windows_11")
	o16, o19 := types.ApplicationMicrosoftOffice2016, types.ApplicationMicrosoftOffice2019
	wantAPIError(t, withApps(types.WorkspaceImageIngestionProcessByolRegular, []types.Application{o16, o19}), "InvalidParameterValuesException", http.StatusBadRequest, "one application")
	wantAPIError(t, withApps(types.WorkspaceImageIngestionProcessByolRegularWsp, []types.Application{o16}, win11), "OperationNotSupportedException", http.StatusBadRequest, "Microsoft_Office_2019")
	wantAPIError(t, withApps(types.WorkspaceImageIngestionProcessByolGraphicsG4dnWsp, []types.Application{o19}, win11), "OperationNotSupportedException", http.StatusBadRequest, "GPU")
	wantAPIError(t, withApps(types.WorkspaceImageIngestionProcessByolRegular, nil, tag("wsim:os-version", "Windows_7")), "InvalidParameterValuesException", http.StatusBadRequest, "wsim:os-version")
	for _, ok := range []struct {
		p    types.WorkspaceImageIngestionProcess
		apps []types.Application
		tags []types.Tag
	}{
		{types.WorkspaceImageIngestionProcessByolRegularWsp, []types.Application{o19}, []types.Tag{win11}},
		{types.WorkspaceImageIngestionProcessByolRegularWsp, []types.Application{o16}, nil},
		{types.WorkspaceImageIngestionProcessByolGraphicsG4dnByop, nil, nil},
	} {
		if err := withApps(ok.p, ok.apps, ok.tags...); err != nil {
			t.Errorf("%s %v %v: %v", ok.p, ok.apps, ok.tags, err)
		}
	}
	status, hdr, body := srv2.Raw(t, targetPrefix+"ImportWorkspaceImage",
		`{"Ec2ImageId":"ami-0123456789abcdef0","IngestionProcess":"BYOL_ANYTHING","ImageName":"x","ImageDescription":"x"}`, nil)
	wantRawError(t, status, hdr, body, http.StatusBadRequest, "ValidationException", "ingestionProcess")
	status, hdr, body = srv2.Raw(t, targetPrefix+"ImportWorkspaceImage",
		`{"Ec2ImageId":"ami-123","IngestionProcess":"BYOL_REGULAR","ImageName":"x","ImageDescription":"x"}`, nil)
	wantRawError(t, status, hdr, body, http.StatusBadRequest, "ValidationException", "ec2ImageId")

	// Under the strict BYOL setting an account must be enabled first.
	strict := store.start(t, "--byol", "strict")
	_, err = strict.Client(t, accountA, usEast1).ImportWorkspaceImage(ctx(t), ciLegacyInput("strict"))
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest, "BYOL")
}

// TestShareNeedsBYOLAccount: under the strict setting a BYOL image can be
// shared only with an account enabled for BYOL.
func TestShareNeedsBYOLAccount(t *testing.T) { forEachStore(t, shareNeedsBYOLAccount) }

func shareNeedsBYOLAccount(t *testing.T, store storeBackend) {
	srv := store.start(t, "--byol", "strict")
	for _, acct := range []string{accountA, accountC} {
		if _, err := srv.Client(t, acct, usEast1).ModifyAccount(ctx(t), &workspaces.ModifyAccountInput{
			DedicatedTenancySupport: types.DedicatedTenancySupportEnumEnabled, DedicatedTenancyManagementCidrRange: aws.String("10.0.0.0/16"),
		}); err != nil {
			t.Fatalf("ModifyAccount: %v", err)
		}
	}
	a := srv.Client(t, accountA, usEast1)
	id := importImage(t, a, importInput("golden"))
	wantAPIError(t, ciShare(t, a, id, accountB, true), "InvalidParameterValuesException", http.StatusBadRequest, "BYOL", accountB)
	ciMustShare(t, a, id, accountC, true)
}

// TestDescribeImageAssociations covers its answers and its validation.
func TestDescribeImageAssociations(t *testing.T) { forEachStore(t, describeImageAssociations) }

func describeImageAssociations(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	id := importImage(t, c, importInput("golden"))
	app := []types.ImageAssociatedResourceType{types.ImageAssociatedResourceTypeApplication}
	out, err := c.DescribeImageAssociations(ctx(t), &workspaces.DescribeImageAssociationsInput{ImageId: aws.String(id), AssociatedResourceTypes: app})
	if err != nil || out.Associations == nil || len(out.Associations) != 0 {
		t.Errorf("an owned image: %+v, %v; want an empty list", out, err)
	}
	_, err = srv.Client(t, accountB, usEast1).DescribeImageAssociations(ctx(t), &workspaces.DescribeImageAssociationsInput{ImageId: aws.String(id), AssociatedResourceTypes: app})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, id)
	status, hdr, body := srv.Raw(t, targetPrefix+"DescribeImageAssociations",
		fmt.Sprintf(`{"ImageId":%q,"AssociatedResourceTypes":["BUNDLE"]}`, id), authHeader(accountA, usEast1))
	wantRawError(t, status, hdr, body, http.StatusBadRequest, "ValidationException", "associatedResourceTypes")
}
