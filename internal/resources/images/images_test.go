package images_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/resources/images"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	acctC   = "777788889999"
	region1 = "us-east-1"
	region2 = "eu-west-1"
)

type imageHarness struct {
	*servicetest.Harness
}

// newImageHarness is the service harness, with helpers for images.
func newImageHarness(t *testing.T, mutate ...func(*service.Config)) *imageHarness {
	t.Helper()
	return &imageHarness{servicetest.New(t, mutate...)}
}

var as = servicetest.As

// importImage starts a legacy import and lets it finish.
func (h *imageHarness) importImage(account, region, name string) string {
	h.T.Helper()
	id := h.startImport(account, region, name)
	h.Real.Advance(time.Hour)
	return id
}

func (h *imageHarness) startImport(account, region, name string, tags ...api.Tag) string {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpImportWorkspaceImage, as(account, region), &api.ImportWorkspaceImageInput{
		Ec2ImageId: api.String("ami-0123456789abcdef0"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
		ImageName: api.String(name), ImageDescription: api.String("test image"), Tags: tags,
	})
	if err != nil {
		h.T.Fatalf("ImportWorkspaceImage(%s): %v", name, err)
	}
	return *out.ImageId
}

func (h *imageHarness) share(owner, region, id, grantee string, allow bool) error {
	_, err := servicetest.Call(h.Svc, api.OpUpdateWorkspaceImagePermission, as(owner, region), &api.UpdateWorkspaceImagePermissionInput{
		ImageId: api.String(id), SharedAccountId: api.String(grantee), AllowCopyImage: api.Bool(allow),
	})
	return err
}

func (h *imageHarness) mustShare(owner, region, id, grantee string, allow bool) {
	h.T.Helper()
	if err := h.share(owner, region, id, grantee, allow); err != nil {
		h.T.Fatalf("UpdateWorkspaceImagePermission(%s, %s, %v): %v", id, grantee, allow, err)
	}
}

func (h *imageHarness) describe(account, region string, in *api.DescribeWorkspaceImagesInput) *api.DescribeWorkspaceImagesOutput {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceImages, as(account, region), in)
	if err != nil {
		h.T.Fatalf("DescribeWorkspaceImages: %v", err)
	}
	return out
}

// walk pages through DescribeWorkspaceImages and returns the ids in order.
func (h *imageHarness) walk(account, region string, in api.DescribeWorkspaceImagesInput) []string {
	h.T.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			h.T.Fatal("more than 100 pages")
		}
		out := h.describe(account, region, &in)
		if in.MaxResults != nil && len(out.Images) > int(*in.MaxResults) {
			h.T.Fatalf("page of %d images, MaxResults %d", len(out.Images), *in.MaxResults)
		}
		for _, img := range out.Images {
			ids = append(ids, *img.ImageId)
		}
		if out.NextToken == nil {
			return ids
		}
		in.NextToken = out.NextToken
	}
}

var wantAPICode = servicetest.WantCode

// TestDescribePagination walks owned and shared images with every page size
// and filter: each image exactly once, owned first by id, then shared by id.
func TestDescribePagination(t *testing.T) {
	h := newImageHarness(t)
	var owned, shared []string
	for i := range 7 {
		owned = append(owned, h.importImage(acctB, region1, fmt.Sprintf("own-%d", i)))
	}
	for i := range 5 {
		id := h.importImage(acctA, region1, fmt.Sprintf("theirs-%d", i))
		h.mustShare(acctA, region1, id, acctB, true)
		shared = append(shared, id)
	}
	// Images of A that are not shared, and B's images elsewhere, stay out.
	h.importImage(acctA, region1, "private")
	h.importImage(acctB, region2, "other-region")
	slices.Sort(owned)
	slices.Sort(shared)

	for _, typ := range []string{"", api.ImageTypeOwned, api.ImageTypeShared} {
		want := map[string][]string{"": append(slices.Clone(owned), shared...), api.ImageTypeOwned: owned, api.ImageTypeShared: shared}[typ]
		for size := int32(1); size <= 13; size++ {
			in := api.DescribeWorkspaceImagesInput{MaxResults: api.Int32(size)}
			if typ != "" {
				in.ImageType = api.String(typ)
			}
			if got := h.walk(acctB, region1, in); !slices.Equal(got, want) {
				t.Errorf("type %q, page size %d: walked %v, want %v", typ, size, got, want)
			}
			// The same with ImageIds naming them all, plus unknown ids.
			in.ImageIds = append(slices.Clone(owned), shared...)
			in.ImageIds = append(in.ImageIds, "wsi-000000000", shared[0])
			if got := h.walk(acctB, region1, in); !slices.Equal(got, want) {
				t.Errorf("type %q, page size %d, by ids: walked %v, want %v", typ, size, got, want)
			}
		}
	}

	// Shared images show their owner; only owned images show Updates.
	out := h.describe(acctB, region1, &api.DescribeWorkspaceImagesInput{ImageIds: []string{owned[0], shared[0]}})
	if len(out.Images) != 2 || *out.Images[0].OwnerAccountId != acctB || *out.Images[1].OwnerAccountId != acctA {
		t.Fatalf("owners: %+v", out.Images)
	}
	if out.Images[0].Updates == nil || out.Images[1].Updates != nil {
		t.Errorf("Updates: owned %+v, shared %+v", out.Images[0].Updates, out.Images[1].Updates)
	}
}

func TestSharingRules(t *testing.T) {
	h := newImageHarness(t)
	id := h.importImage(acctA, region1, "base")

	wantAPICode(t, h.share(acctA, region1, id, acctA, true), "InvalidParameterValuesException", "your own account")
	wantAPICode(t, h.share(acctA, region1, "wsi-000000000", acctB, true), "ResourceNotFoundException")
	wantAPICode(t, h.share(acctA, region2, id, acctB, true), "ResourceNotFoundException") // another Region
	wantAPICode(t, h.share(acctA, region1, id, acctB, false), "InvalidParameterValuesException", "not shared")

	pending := h.startImport(acctA, region1, "pending")
	wantAPICode(t, h.share(acctA, region1, pending, acctB, true), "ResourceUnavailableException", "PENDING")

	h.mustShare(acctA, region1, id, acctB, true)
	h.mustShare(acctA, region1, id, acctB, true) // idempotent
	h.mustShare(acctA, region1, id, acctC, true)
	// B can't reshare, unshare, delete or read the permissions of A's image.
	wantAPICode(t, h.share(acctB, region1, id, acctC, true), "AccessDeniedException", acctA)
	wantAPICode(t, h.share(acctB, region1, id, acctB, false), "InvalidParameterValuesException")
	_, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceImagePermissions, as(acctB, region1), &api.DescribeWorkspaceImagePermissionsInput{ImageId: api.String(id)})
	wantAPICode(t, err, "AccessDeniedException")
	_, err = servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, as(acctB, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(id)})
	wantAPICode(t, err, "AccessDeniedException")

	perms := func(max int32) []string {
		var got []string
		in := &api.DescribeWorkspaceImagePermissionsInput{ImageId: api.String(id), MaxResults: api.Int32(max)}
		for {
			out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceImagePermissions, as(acctA, region1), in)
			if err != nil {
				t.Fatal(err)
			}
			if *out.ImageId != id {
				t.Errorf("ImageId = %s", *out.ImageId)
			}
			for _, p := range out.ImagePermissions {
				got = append(got, *p.SharedAccountId)
			}
			if out.NextToken == nil {
				return got
			}
			in.NextToken = out.NextToken
		}
	}
	for _, max := range []int32{1, 2, 25} {
		if got := perms(max); !slices.Equal(got, []string{acctB, acctC}) {
			t.Errorf("permissions with MaxResults %d = %v", max, got)
		}
	}

	// Deleting waits for unsharing; unsharing is immediate.
	_, err = servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, as(acctA, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(id)})
	wantAPICode(t, err, "ResourceAssociatedException", "Unshare", acctB, acctC)
	h.mustShare(acctA, region1, id, acctB, false)
	h.mustShare(acctA, region1, id, acctC, false)
	if got := h.walk(acctB, region1, api.DescribeWorkspaceImagesInput{}); len(got) != 0 {
		t.Errorf("B still sees %v after unsharing", got)
	}
	if got := perms(25); len(got) != 0 {
		t.Errorf("permissions after unsharing: %v", got)
	}
	if _, err := servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, as(acctA, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(id)}); err != nil {
		t.Fatal(err)
	}
}

func TestShareNeedsBYOLGrantee(t *testing.T) {
	h := newImageHarness(t, func(c *service.Config) { c.BYOL = service.BYOLStrict })
	// A enables BYOL so it can import; B does not.
	if _, err := servicetest.Call(h.Svc, api.OpModifyAccount, as(acctA, region1), &api.ModifyAccountInput{
		DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String("10.0.0.0/16"),
	}); err != nil {
		t.Fatal(err)
	}
	h.Real.Advance(time.Hour)
	id := h.importImage(acctA, region1, "base")
	wantAPICode(t, h.share(acctA, region1, id, acctB, true), "InvalidParameterValuesException", "BYOL")
}

func TestDeleteImage(t *testing.T) {
	h := newImageHarness(t, func(c *service.Config) { c.ImageQuota = 1 })
	del := func(id string) error {
		_, err := servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, as(acctA, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(id)})
		return err
	}
	if err := del("wsi-000000000"); err != nil {
		t.Errorf("deleting an unknown id: %v, want success", err)
	}
	id := h.startImport(acctA, region1, "base")
	wantAPICode(t, del(id), "InvalidResourceStateException", "PENDING")
	h.Real.Advance(time.Hour)

	// A bundle on the image blocks deleting it.
	if _, err := servicetest.Call(h.Svc, api.OpCreateWorkspaceBundle, as(acctA, region1), &api.CreateWorkspaceBundleInput{
		BundleName: api.String("b1"), BundleDescription: api.String("d"), ImageId: api.String(id),
		ComputeType: &api.ComputeType{Name: api.String(api.ComputeStandard)}, UserStorage: &api.UserStorage{Capacity: api.String("50")},
	}); err != nil {
		t.Fatalf("CreateWorkspaceBundle: %v", err)
	}
	wantAPICode(t, del(id), "ResourceAssociatedException", "bundle")
	recs, err := records.Bundles.List(context.Background(), h.Svc.Records(), acctA, region1)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	if _, err := servicetest.Call(h.Svc, api.OpDeleteWorkspaceBundle, as(acctA, region1), &api.DeleteWorkspaceBundleInput{BundleId: api.String(recs[0].ID)}); err != nil {
		t.Fatal(err)
	}
	if err := del(id); err != nil {
		t.Fatal(err)
	}
	// The name and the only quota slot are free again.
	h.importImage(acctA, region1, "base")

	// An ERROR image can be deleted.
	h2 := newImageHarness(t)
	failed := h2.startImport(acctA, region1, "broken", api.Tag{Key: api.String(pipeline.TagFailAt), Value: api.String("PENDING")})
	h2.Real.Advance(time.Hour)
	if _, err := servicetest.Call(h2.Svc, api.OpDeleteWorkspaceImage, as(acctA, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(failed)}); err != nil {
		t.Errorf("deleting an ERROR image: %v", err)
	}
}

func TestCopyImage(t *testing.T) {
	h := newImageHarness(t, func(c *service.Config) { c.ImageQuota = 2 })
	src := h.importImage(acctA, region1, "base")
	cp := func(account, region, name, srcRegion, srcID string) (string, error) {
		out, err := servicetest.Call(h.Svc, api.OpCopyWorkspaceImage, as(account, region), &api.CopyWorkspaceImageInput{
			Name: api.String(name), SourceImageId: api.String(srcID), SourceRegion: api.String(srcRegion),
		})
		if err != nil {
			return "", err
		}
		return *out.ImageId, nil
	}
	_, err := cp(acctA, region2, "x", region1, "wsi-000000000")
	wantAPICode(t, err, "ResourceNotFoundException")
	_, err = cp(acctA, region2, "x", region2, src) // wrong source Region
	wantAPICode(t, err, "ResourceNotFoundException")
	_, err = cp(acctB, region1, "x", region1, src) // not shared with B
	wantAPICode(t, err, "ResourceNotFoundException")
	_, err = cp(acctA, region1, "base", region1, src) // same Region, same name
	wantAPICode(t, err, "ResourceAlreadyExistsException")

	id, err := cp(acctA, region2, "base", region1, src)
	if err != nil {
		t.Fatal(err)
	}
	img := h.describe(acctA, region2, &api.DescribeWorkspaceImagesInput{ImageIds: []string{id}}).Images[0]
	if *img.State != api.WorkspaceImageStatePending || *img.OwnerAccountId != acctA {
		t.Errorf("new copy: %+v", img)
	}
	// A pending copy can't be the source of another copy.
	_, err = cp(acctA, region1, "again", region2, id)
	wantAPICode(t, err, "ResourceUnavailableException", "PENDING")
	h.Real.Advance(10 * time.Second)
	if img := h.describe(acctA, region2, &api.DescribeWorkspaceImagesInput{ImageIds: []string{id}}).Images[0]; *img.State != api.WorkspaceImageStateAvailable {
		t.Errorf("copy after 10s: %s", *img.State)
	}
	stored, err := records.Images.Get(context.Background(), h.Svc.Records(), acctA, region2, id)
	if err != nil || stored.Copy == nil ||
		*stored.Copy != (records.ImageCopy{SourceImageID: src, SourceRegion: region1, SourceOwner: acctA}) {
		t.Errorf("the copy does not remember its source: %+v, %v", stored.Copy, err)
	}
	// The destination quota counts the copy.
	if _, err := cp(acctA, region2, "c2", region1, src); err != nil {
		t.Fatal(err)
	}
	_, err = cp(acctA, region2, "c3", region1, src)
	wantAPICode(t, err, "ResourceLimitExceededException")

	// Once shared, B copies A's image into its own account.
	h.mustShare(acctA, region1, src, acctB, true)
	bid, err := cp(acctB, region2, "from-a", region1, src)
	if err != nil {
		t.Fatal(err)
	}
	if img := h.describe(acctB, region2, &api.DescribeWorkspaceImagesInput{ImageIds: []string{bid}}).Images[0]; *img.OwnerAccountId != acctB {
		t.Errorf("B's copy is owned by %s", *img.OwnerAccountId)
	}
	h.mustShare(acctA, region1, src, acctB, false)
	_, err = cp(acctB, region2, "from-a-2", region1, src)
	wantAPICode(t, err, "ResourceNotFoundException")
}

func TestUpdatedImage(t *testing.T) {
	h := newImageHarness(t)
	src := h.importImage(acctA, region1, "base")
	update := func(account, name, srcID string) (string, error) {
		out, err := servicetest.Call(h.Svc, api.OpCreateUpdatedWorkspaceImage, as(account, region1), &api.CreateUpdatedWorkspaceImageInput{
			Name: api.String(name), Description: api.String("updated"), SourceImageId: api.String(srcID),
		})
		if err != nil {
			return "", err
		}
		return *out.ImageId, nil
	}
	updates := func(id string) api.UpdateResult {
		t.Helper()
		img := h.describe(acctA, region1, &api.DescribeWorkspaceImagesInput{ImageIds: []string{id}}).Images[0]
		if img.Updates == nil {
			t.Fatalf("no Updates on %s (%s)", id, *img.State)
		}
		return *img.Updates
	}
	if u := updates(src); *u.UpdateAvailable {
		t.Errorf("a new image has updates: %+v", u)
	}
	_, err := update(acctA, "new", src)
	wantAPICode(t, err, "OperationNotSupportedException", "No updates")
	_, err = update(acctA, "new", "wsi-000000000")
	wantAPICode(t, err, "ResourceNotFoundException")

	h.Real.Advance(images.UpdateInterval)
	if u := updates(src); !*u.UpdateAvailable {
		t.Errorf("no updates after %s: %+v", images.UpdateInterval, u)
	}
	// A copy made now has the source's old components.
	out, err := servicetest.Call(h.Svc, api.OpCopyWorkspaceImage, as(acctA, region1), &api.CopyWorkspaceImageInput{
		Name: api.String("copy"), SourceImageId: api.String(src), SourceRegion: api.String(region1),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Real.Advance(time.Minute)
	if u := updates(*out.ImageId); !*u.UpdateAvailable {
		t.Errorf("a copy of an outdated image is up to date: %+v", u)
	}

	_, err = update(acctA, "base", src)
	wantAPICode(t, err, "ResourceAlreadyExistsException")
	h.mustShare(acctA, region1, src, acctB, true)
	_, err = update(acctB, "mine", src)
	wantAPICode(t, err, "AccessDeniedException")

	id, err := update(acctA, "new", src)
	if err != nil {
		t.Fatal(err)
	}
	img := h.describe(acctA, region1, &api.DescribeWorkspaceImagesInput{ImageIds: []string{id}}).Images[0]
	if *img.State != api.WorkspaceImageStatePending || img.Updates != nil {
		t.Errorf("new updated image: %+v", img)
	}
	_, err = update(acctA, "newer", id)
	wantAPICode(t, err, "InvalidResourceStateException", "PENDING")
	h.Real.Advance(15 * time.Second)
	if u := updates(id); *u.UpdateAvailable {
		t.Errorf("the updated image has updates: %+v", u)
	}
}

func TestImageAssociations(t *testing.T) {
	h := newImageHarness(t)
	id := h.importImage(acctA, region1, "base")
	assoc := func(account string) (*api.DescribeImageAssociationsOutput, error) {
		return servicetest.Call(h.Svc, api.OpDescribeImageAssociations, as(account, region1), &api.DescribeImageAssociationsInput{
			ImageId: api.String(id), AssociatedResourceTypes: []string{api.ImageAssociatedResourceTypeApplication},
		})
	}
	out, err := assoc(acctA)
	if err != nil || out.Associations == nil || len(out.Associations) != 0 {
		t.Errorf("owner: %+v, %v", out, err)
	}
	_, err = assoc(acctB)
	wantAPICode(t, err, "ResourceNotFoundException")
	h.mustShare(acctA, region1, id, acctB, true)
	if out, err := assoc(acctB); err != nil || len(out.Associations) != 0 {
		t.Errorf("grantee: %+v, %v", out, err)
	}
}

// TestBuilderInstanceFixedAtCreation: the builder instance an import reports
// is stored when the import is made, and a record written before it was
// stored reports the same instance.
func TestBuilderInstanceFixedAtCreation(t *testing.T) {
	h := newImageHarness(t)
	ctx := as(acctA, region1)
	out, err := servicetest.Call(h.Svc, api.OpImportCustomWorkspaceImage, ctx, &api.ImportCustomWorkspaceImageInput{
		ImageName: api.String("builder"), ImageDescription: api.String("d"), ComputeType: api.String("BASE"),
		Protocol: api.String("DCV"), ImageSource: &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: api.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/x"),
		Platform:                       api.String("WINDOWS"), OsVersion: api.String("Windows_10"),
	})
	if err != nil {
		t.Fatal(err)
	}
	db := h.Svc.Records()
	img, err := records.Images.Get(context.Background(), db, acctA, region1, *out.ImageId)
	if err != nil {
		t.Fatal(err)
	}
	stored := img.CustomImport.BuilderInstanceID
	if len(stored) != len("i-")+17 || stored[:2] != "i-" {
		t.Fatalf("stored builder instance %q, want i- and 17 hex digits", stored)
	}
	builder := func() string {
		t.Helper()
		for range 200 {
			d, err := servicetest.Call(h.Svc, api.OpDescribeCustomWorkspaceImageImport, ctx,
				&api.DescribeCustomWorkspaceImageImportInput{ImageId: out.ImageId})
			if err != nil {
				t.Fatal(err)
			}
			if d.ImageBuilderInstanceId != nil {
				return *d.ImageBuilderInstanceId
			}
			h.Real.Advance(time.Minute)
		}
		t.Fatal("no builder instance reported in 200 minutes")
		return ""
	}
	if got := builder(); got != stored {
		t.Errorf("described builder instance %q, stored %q", got, stored)
	}
	// A record from before the id was stored.
	if _, err := records.Images.Mutate(context.Background(), db, acctA, region1, *out.ImageId, func(_ *records.Tx, img *records.Image) error {
		img.CustomImport.BuilderInstanceID = ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := builder(); got != stored {
		t.Errorf("an old record's builder instance %q, want %q", got, stored)
	}
}
