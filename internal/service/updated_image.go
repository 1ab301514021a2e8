package service

import (
	"context"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

// UpdateInterval is how long after an image got its WorkSpaces components
// and drivers wsim reports newer ones as available. AWS publishes no
// schedule; a monthly release train is plausible and easy to reach by
// advancing the service clock.
const UpdateInterval = 30 * 24 * time.Hour

// The Updates.Description sentences; UpdateDescription allows only
// [a-zA-Z0-9_./() -].
const (
	updatesAvailable = "Updated WorkSpaces components and drivers are available. Use CreateUpdatedWorkspaceImage to create an updated image."
	updatesNone      = "The image has the latest WorkSpaces components and drivers."
)

// imageUpdate remembers which image an updated image was made from.
type imageUpdate struct {
	SourceImageID string `json:"sourceImageId"`
}

// componentsAt is when the image got its WorkSpaces components: stored for
// copies, otherwise when its own plan finished.
func (img *image) componentsAt(now time.Time) time.Time {
	if !img.ComponentsAt.IsZero() {
		return img.ComponentsAt
	}
	return img.Plan.At(now).LastUpdated
}

// updateAvailable reports whether an AVAILABLE image has components older
// than UpdateInterval at now.
func (img *image) updateAvailable(now time.Time) bool {
	return img.available(now) && now.Sub(img.componentsAt(now)) >= UpdateInterval
}

// updates is the Updates member of an image in state st: absent until the
// image is AVAILABLE, since nothing can be updated before.
func (img *image) updates(st pipeline.Status, now time.Time) *api.UpdateResult {
	if !st.Done || st.Failed {
		return nil
	}
	if img.updateAvailable(now) {
		return &api.UpdateResult{UpdateAvailable: api.Bool(true), Description: api.String(updatesAvailable)}
	}
	return &api.UpdateResult{UpdateAvailable: api.Bool(false), Description: api.String(updatesNone)}
}

// CreateUpdatedWorkspaceImage creates a new image from one the caller owns,
// with the latest WorkSpaces components and drivers. The source must be
// AVAILABLE and have updates available; it is left as it is.
func (s *Service) CreateUpdatedWorkspaceImage(ctx context.Context, in *api.CreateUpdatedWorkspaceImageInput) (*api.CreateUpdatedWorkspaceImageOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	srcID := *in.SourceImageId
	src, err := visibleImage(ctx, s.store, req.account, req.region, srcID)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, imageNotFound(srcID)
	}
	if !src.owned {
		return nil, notOwner(&src.img, "create an updated image from it")
	}
	if !src.img.available(req.now) {
		return nil, &api.InvalidResourceStateException{Message: fmt.Sprintf(
			"The image %s is %s; an updated image can only be created from an AVAILABLE image.", srcID, imageState(src.img.Plan.At(req.now)))}
	}
	if !src.img.updateAvailable(req.now) {
		return nil, &api.OperationNotSupportedException{Message: fmt.Sprintf(
			"No updates are available for the image %s: it has the latest WorkSpaces components and drivers. DescribeWorkspaceImages shows Updates.UpdateAvailable true when there are.", srcID)}
	}
	failure, err := s.scriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindUpdate, Account: req.account, Region: req.region, Name: *in.Name, SourceID: srcID,
	})
	if err != nil {
		return nil, err
	}
	img := &image{
		Name:        *in.Name,
		Description: *in.Description,
		Owner:       req.account,
		Region:      req.region,
		Created:     req.now,
		Plan:        s.cfg.Profile.Plan(pipeline.KindUpdate, req.now, failure),
		Tags:        tags,
		Update:      &imageUpdate{SourceImageID: srcID},
	}
	if err := s.insertImage(ctx, img); err != nil {
		return nil, err
	}
	return &api.CreateUpdatedWorkspaceImageOutput{ImageId: api.String(img.ID)}, nil
}
