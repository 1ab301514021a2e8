package workspaces_test

import (
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

func (h *harness) capture(id, name string, tags ...api.Tag) (*api.CreateWorkspaceImageOutput, error) {
	return servicetest.Call(h.Svc, api.OpCreateWorkspaceImage, as(acctA, region1), &api.CreateWorkspaceImageInput{
		Name: api.String(name), Description: api.String("from " + id), WorkspaceId: api.String(id), Tags: tags})
}

func (h *harness) imageState(id string) string {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceImages, as(acctA, region1), &api.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 1 {
		h.T.Fatalf("DescribeWorkspaceImages: %v %+v", err, out)
	}
	return *out.Images[0].State
}

func TestCreateWorkspaceImageSuspendsTheWorkspace(t *testing.T) {
	h := newHarness(t)
	id := h.launchAvailable("u", "AUTO_STOP")
	out, err := h.capture(id, "golden")
	if err != nil {
		t.Fatal(err)
	}
	if *out.State != "PENDING" || *out.RequiredTenancy != "DEFAULT" || *out.OwnerAccountId != acctA || *out.Name != "golden" || *out.OperatingSystem.Type != "WINDOWS" {
		t.Fatalf("%+v", out)
	}
	img := *out.ImageId
	for _, c := range []struct {
		after     time.Duration
		ws, image string
	}{
		{0, "SUSPENDED", "PENDING"},
		{9 * time.Second, "SUSPENDED", "PENDING"},
		{time.Second, "AVAILABLE", "AVAILABLE"},
	} {
		h.Advance(c.after)
		if got, gotImg := h.state(id), h.imageState(img); got != c.ws || gotImg != c.image {
			t.Fatalf("after %s: WorkSpace %s image %s, want %s %s", c.after, got, gotImg, c.ws, c.image)
		}
	}
	// The image is in the catalogue: its name is taken, a bundle can use it.
	_, err = h.capture(id, "golden")
	servicetest.WantCode(t, err, "ResourceAlreadyExistsException")
	b, err := servicetest.Call(h.Svc, api.OpCreateWorkspaceBundle, as(acctA, region1), &api.CreateWorkspaceBundleInput{
		BundleName: api.String("golden-bundle"), BundleDescription: api.String("golden"), ImageId: api.String(img),
		ComputeType: &api.ComputeType{Name: api.String("VALUE")}, UserStorage: &api.UserStorage{Capacity: api.String("10")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Not BYOL: it launches into a SHARED directory.
	nid := h.launch(acctA, region1, req(dirB, "v", *b.WorkspaceBundle.BundleId))
	// The bundle and the image can't be deleted while a WorkSpace uses them.
	_, err = servicetest.Call(h.Svc, api.OpDeleteWorkspaceBundle, as(acctA, region1), &api.DeleteWorkspaceBundleInput{BundleId: b.WorkspaceBundle.BundleId})
	servicetest.WantCode(t, err, "ResourceAssociatedException", nid)
	h.terminate(nid)
	h.Advance(5 * time.Second)
	if _, err := servicetest.Call(h.Svc, api.OpDeleteWorkspaceBundle, as(acctA, region1), &api.DeleteWorkspaceBundleInput{BundleId: b.WorkspaceBundle.BundleId}); err != nil {
		t.Fatalf("once the WorkSpace is gone: %v", err)
	}
	if _, err := servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, as(acctA, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(img)}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteImageRefusedWhileAWorkspaceRunsIt(t *testing.T) {
	h := newHarness(t)
	bundle := h.byolBundle()
	id := h.launch(acctA, region1, req(dirDed, "u", bundle))
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceBundles, as(acctA, region1), &api.DescribeWorkspaceBundlesInput{BundleIds: []string{bundle}})
	if err != nil {
		t.Fatal(err)
	}
	old := *out.Bundles[0].ImageId
	// The bundle moves to another image; the WorkSpace keeps running the old one.
	other, err := servicetest.Call(h.Svc, api.OpImportWorkspaceImage, as(acctA, region1), &api.ImportWorkspaceImageInput{
		Ec2ImageId: api.String("ami-0123456789abcdef1"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
		ImageName: api.String("other"), ImageDescription: api.String("other"),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Advance(time.Hour)
	if _, err := servicetest.Call(h.Svc, api.OpUpdateWorkspaceBundle, as(acctA, region1), &api.UpdateWorkspaceBundleInput{
		BundleId: api.String(bundle), ImageId: other.ImageId}); err != nil {
		t.Fatal(err)
	}
	_, err = servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, as(acctA, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(old)})
	servicetest.WantCode(t, err, "ResourceAssociatedException", id)
	h.terminate(id)
	h.Advance(5 * time.Second)
	if _, err := servicetest.Call(h.Svc, api.OpDeleteWorkspaceImage, as(acctA, region1), &api.DeleteWorkspaceImageInput{ImageId: api.String(old)}); err != nil {
		t.Fatalf("once the WorkSpace is gone: %v", err)
	}
}

func TestCreateWorkspaceImageRefuses(t *testing.T) {
	h := newHarness(t, func(c *service.Config) { c.ImageQuota = 2 })
	id := h.launchAvailable("u", "AUTO_STOP")
	pending := h.launch(acctA, region1, req(dirA, "p", publicBundle.ID))
	_, err := h.capture(pending, "x1")
	servicetest.WantCode(t, err, "InvalidResourceStateException", "PENDING")
	_, err = h.capture("ws-000000000", "x2")
	servicetest.WantCode(t, err, "ResourceNotFoundException")
	if _, err := h.capture(id, "first"); err != nil {
		t.Fatal(err)
	}
	_, err = h.capture(id, "second")
	servicetest.WantCode(t, err, "InvalidResourceStateException", "SUSPENDED")
	// A SUSPENDED WorkSpace can't be terminated.
	if f := h.terminate(id); len(f) != 1 || *f[0].ErrorCode != "InvalidResourceState" {
		t.Fatalf("%+v", f)
	}
	h.Advance(10 * time.Second)
	if _, err := h.capture(id, "second"); err != nil {
		t.Fatal(err)
	}
	h.Advance(10 * time.Second)
	_, err = h.capture(id, "third")
	servicetest.WantCode(t, err, "ResourceLimitExceededException")
	if h.state(id) != "AVAILABLE" {
		t.Errorf("a refused capture suspended the WorkSpace: %s", h.state(id))
	}
}

func TestCreateWorkspaceImageScriptedFailure(t *testing.T) {
	h := newHarness(t)
	id := h.launchAvailable("u", "AUTO_STOP")
	out, err := h.capture(id, "doomed", api.Tag{Key: api.String(pipeline.TagFailAt), Value: api.String("PENDING")})
	if err != nil {
		t.Fatal(err)
	}
	h.Advance(5 * time.Second)
	if h.imageState(*out.ImageId) != "ERROR" || h.state(id) != "AVAILABLE" {
		t.Fatalf("image %s WorkSpace %s", h.imageState(*out.ImageId), h.state(id))
	}
}
