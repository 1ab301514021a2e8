package service

import (
	"context"
	"fmt"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

// imageCopy remembers where a copy came from.
type imageCopy struct {
	SourceImageID string `json:"sourceImageId"`
	SourceRegion  string `json:"sourceRegion"`
	SourceOwner   string `json:"sourceOwner"`
}

// CopyWorkspaceImage copies an image from SourceRegion (which may be the
// caller's own Region) into the caller's Region, as a new image the caller
// owns. The source is one of the caller's images there, or one shared with
// the caller there: sharing always grants the copy permission. The copy goes
// PENDING → AVAILABLE on its own plan and takes a place in the destination's
// quota from the start.
func (s *Service) CopyWorkspaceImage(ctx context.Context, in *api.CopyWorkspaceImageInput) (*api.CopyWorkspaceImageOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	srcID, srcRegion := *in.SourceImageId, *in.SourceRegion
	src, err := visibleImage(ctx, s.store, req.account, srcRegion, srcID)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, notFound(srcID, "The source image %s could not be found in %s: it is neither yours nor shared with you there.", srcID, srcRegion)
	}
	if !src.img.available(req.now) {
		return nil, &api.ResourceUnavailableException{ResourceId: api.String(srcID), Message: fmt.Sprintf(
			"The source image %s is %s; only AVAILABLE images can be copied.", srcID, imageState(src.img.Plan.At(req.now)))}
	}
	failure, err := s.scriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindCopy, Account: req.account, Region: req.region, Name: *in.Name, SourceID: srcID,
	})
	if err != nil {
		return nil, err
	}
	img := &image{
		Name:         *in.Name,
		Description:  api.ToString(in.Description),
		Owner:        req.account,
		Region:       req.region,
		Created:      req.now,
		Plan:         s.cfg.Profile.Plan(pipeline.KindCopy, req.now, failure),
		Tags:         tags,
		ComponentsAt: src.img.componentsAt(req.now),
		Copy:         &imageCopy{SourceImageID: srcID, SourceRegion: srcRegion, SourceOwner: src.img.Owner},
	}
	if err := s.insertImage(ctx, img); err != nil {
		return nil, err
	}
	return &api.CopyWorkspaceImageOutput{ImageId: api.String(img.ID)}, nil
}
