package images

import (
	"context"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// CopyWorkspaceImage copies an image from SourceRegion (which may be the
// caller's own Region) into the caller's Region, as a new image the caller
// owns. The source is one of the caller's images there, or one shared with
// the caller there: sharing always grants the copy permission. The copy goes
// PENDING → AVAILABLE on its own plan and takes a place in the destination's
// quota from the start.
func (s *Service) CopyWorkspaceImage(ctx context.Context, in *api.CopyWorkspaceImageInput) (*api.CopyWorkspaceImageOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	srcID, srcRegion := *in.SourceImageId, *in.SourceRegion
	src, err := records.VisibleImage(ctx, s.env.DB, req.Account, srcRegion, srcID)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, kit.NotFound(srcID, "The source image %s could not be found in %s: it is neither yours nor shared with you there.", srcID, srcRegion)
	}
	if !src.Available(req.Now) {
		return nil, &api.ResourceUnavailableException{ResourceId: api.String(srcID), Message: fmt.Sprintf(
			"The source image %s is %s; only AVAILABLE images can be copied.", srcID, src.State(req.Now))}
	}
	failure, err := s.env.ScriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindCopy, Account: req.Account, Region: req.Region, Name: *in.Name, SourceID: srcID,
	})
	if err != nil {
		return nil, err
	}
	img := s.env.NewImage(req, *in.Name, api.ToString(in.Description), pipeline.KindCopy, failure, tags)
	img.ComponentsAt = componentsAt(src.Image, req.Now)
	img.Copy = &records.ImageCopy{SourceImageID: srcID, SourceRegion: srcRegion, SourceOwner: src.Account}
	if err := records.Images.Create(ctx, s.env.DB, img, nil); err != nil {
		return nil, err
	}
	return &api.CopyWorkspaceImageOutput{ImageId: api.String(img.ID)}, nil
}

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

// componentsAt is when the image got its WorkSpaces components: stored for
// copies, otherwise when its own plan finished.
func componentsAt(img *records.Image, now time.Time) time.Time {
	if !img.ComponentsAt.IsZero() {
		return img.ComponentsAt
	}
	return img.Plan.At(now).LastUpdated
}

// updateAvailable reports whether an AVAILABLE image has components older
// than UpdateInterval at now.
func updateAvailable(img *records.Image, now time.Time) bool {
	return img.Available(now) && now.Sub(componentsAt(img, now)) >= UpdateInterval
}

// The two Updates members an AVAILABLE image can have; shared by every
// answer, never written.
var (
	yes, no              = true, false
	updatesAvailableText = updatesAvailable
	updatesNoneText      = updatesNone
	withUpdates          = api.UpdateResult{UpdateAvailable: &yes, Description: &updatesAvailableText}
	withoutUpdates       = api.UpdateResult{UpdateAvailable: &no, Description: &updatesNoneText}
)

// updates is the Updates member of an image in state st: absent until the
// image is AVAILABLE, since nothing can be updated before.
func updates(img *records.Image, st pipeline.Status, now time.Time) *api.UpdateResult {
	if !st.Done || st.Failed {
		return nil
	}
	if updateAvailable(img, now) {
		return &withUpdates
	}
	return &withoutUpdates
}

// CreateUpdatedWorkspaceImage creates a new image from one the caller owns,
// with the latest WorkSpaces components and drivers. The source must be
// AVAILABLE and have updates available; it is left as it is.
func (s *Service) CreateUpdatedWorkspaceImage(ctx context.Context, in *api.CreateUpdatedWorkspaceImageInput) (*api.CreateUpdatedWorkspaceImageOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	srcID := *in.SourceImageId
	src, err := visible(ctx, s.env.DB, req.Account, req.Region, srcID)
	if err != nil {
		return nil, err
	}
	if !src.Owned {
		return nil, notOwner(src.Image, "create an updated image from it")
	}
	if !src.Available(req.Now) {
		return nil, &api.InvalidResourceStateException{Message: fmt.Sprintf(
			"The image %s is %s; an updated image can only be created from an AVAILABLE image.", srcID, src.State(req.Now))}
	}
	if !updateAvailable(src.Image, req.Now) {
		return nil, &api.OperationNotSupportedException{Message: fmt.Sprintf(
			"No updates are available for the image %s: it has the latest WorkSpaces components and drivers. DescribeWorkspaceImages shows Updates.UpdateAvailable true when there are.", srcID)}
	}
	failure, err := s.env.ScriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindUpdate, Account: req.Account, Region: req.Region, Name: *in.Name, SourceID: srcID,
	})
	if err != nil {
		return nil, err
	}
	img := s.env.NewImage(req, *in.Name, *in.Description, pipeline.KindUpdate, failure, tags)
	img.Update = &records.ImageUpdate{SourceImageID: srcID}
	if err := records.Images.Create(ctx, s.env.DB, img, nil); err != nil {
		return nil, err
	}
	return &api.CreateUpdatedWorkspaceImageOutput{ImageId: api.String(img.ID)}, nil
}
