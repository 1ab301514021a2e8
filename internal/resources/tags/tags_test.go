package tags_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
	"github.com/wsim/wsim/internal/store"
)

// availableImage imports an image and lets it complete.
func availableImage(t *testing.T, s *service.Service, ctx context.Context, name string) string {
	t.Helper()
	out, err := servicetest.Call(s, api.OpImportCustomWorkspaceImage, ctx, &api.ImportCustomWorkspaceImageInput{
		ImageName: api.String(name), ImageDescription: api.String("d"), ComputeType: api.String("BASE"),
		Protocol: api.String("DCV"), ImageSource: &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: api.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/x"),
		Platform:                       api.String("WINDOWS"), OsVersion: api.String("Windows_10"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Clock().Advance(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	return *out.ImageId
}

func TestConcurrentTagChangesAreAllKept(t *testing.T) {
	h := servicetest.New(t)
	h.Freeze()
	s, ctx := h.Svc, servicetest.As("111122223333", "us-east-1")
	img := availableImage(t, s, ctx, "img")
	b, err := servicetest.Call(s, api.OpCreateWorkspaceBundle, ctx, &api.CreateWorkspaceBundleInput{
		BundleName: api.String("b"), BundleDescription: api.String("d"), ImageId: api.String(img),
		ComputeType: &api.ComputeType{Name: api.String("STANDARD")}, UserStorage: &api.UserStorage{Capacity: api.String("50")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{img, *b.WorkspaceBundle.BundleId} {
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				in := &api.CreateTagsInput{ResourceId: api.String(id), Tags: []api.Tag{{Key: api.String(fmt.Sprintf("k%02d", i)), Value: api.String("v")}}}
				for {
					_, err := servicetest.Call(s, api.OpCreateTags, ctx, in)
					if err == nil || !errors.Is(err, store.ErrConflict) {
						if err != nil {
							t.Error(err)
						}
						return
					}
				}
			})
		}
		wg.Wait()
		out, err := servicetest.Call(s, api.OpDescribeTags, ctx, &api.DescribeTagsInput{ResourceId: api.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TagList) != 40 {
			t.Errorf("%s has %d tags after 40 concurrent CreateTags, want 40", id, len(out.TagList))
		}
	}
}
