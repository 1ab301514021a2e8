package workspaces

import (
	"context"
	"fmt"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// CreateWorkspaceImage captures an AVAILABLE WorkSpace into a new image of
// the caller's catalogue. The image is PENDING, then AVAILABLE (or ERROR
// when scripted to fail, by the image's own tags or a fault rule of kind
// workspace-image), and takes a place in the image quota and its name from
// the start; the WorkSpace is SUSPENDED for exactly as long, then AVAILABLE
// again.
func (s *Service) CreateWorkspaceImage(ctx context.Context, in *api.CreateWorkspaceImageInput) (*api.CreateWorkspaceImageOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	wsID := *in.WorkspaceId
	failure, err := s.env.ScriptedFailure(ctx, tags, pipeline.Subject{
		Kind: records.KindWorkspaceImage, Account: req.Account, Region: req.Region, Name: *in.Name, SourceID: wsID,
	})
	if err != nil {
		return nil, err
	}
	img := s.env.NewImage(req, *in.Name, *in.Description, records.KindWorkspaceImage, failure, tags)
	sc, err := s.script(ctx, req)
	if err != nil {
		return nil, err
	}
	osType := api.OperatingSystemTypeWindows
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		w, err := getLive(ctx, tx, req, wsID)
		if err != nil {
			return err
		}
		v := look(w, req.Now)
		if !v.st.Done || v.state != api.WorkspaceStateAvailable {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The WorkSpace %s is %s; an image can be created only from an AVAILABLE WorkSpace.", wsID, v.state)}
		}
		if v.inFlight != nil {
			return &api.OperationNotSupportedException{Message: fmt.Sprintf(
				"The WorkSpace %s is being modified (%s); create the image once the modification ends.", wsID, v.inFlight.Resource)}
		}
		if isLinux(v.props.OperatingSystem) {
			osType = api.OperatingSystemTypeLinux
		}
		img.Workspace = &records.ImageFromWorkspace{WorkspaceID: wsID, SourceImageID: w.ImageID, BYOL: w.BYOL, OSType: osType}
		if err := records.Images.Insert(ctx, tx, img); err != nil {
			return err
		}
		// The WorkSpace is SUSPENDED until the image is done, successfully
		// or not.
		end := img.Plan.End()
		if _, at, ok := img.Plan.FailsAt(); ok {
			end = at
		}
		wsFailure, err := sc.failure(w, KindCapture)
		if err != nil {
			return err
		}
		h, err := w.History.Append(pipeline.Plan{
			Kind: KindCapture, Start: req.Now, Final: api.WorkspaceStateAvailable, Failure: wsFailure,
			Stages: []pipeline.Stage{{State: api.WorkspaceStateSuspended, Duration: end.Sub(req.Now)}},
		})
		if err != nil {
			return err
		}

		w.History, w.CapturingImage = h, img.ID
		return records.Workspaces.Put(ctx, tx, w)
	})
	if err != nil {
		return nil, err
	}
	tenancy := api.WorkspaceImageRequiredTenancyDefault
	if img.BYOL() {
		tenancy = api.WorkspaceImageRequiredTenancyDedicated
	}
	out := &api.CreateWorkspaceImageOutput{
		ImageId:         api.String(img.ID),
		Name:            api.String(img.Name),
		OperatingSystem: &api.OperatingSystem{Type: api.String(osType)},
		State:           api.String(api.WorkspaceImageStatePending),
		RequiredTenancy: api.String(tenancy),
		Created:         api.NewTimestamp(img.Created),
		OwnerAccountId:  api.String(img.Account),
	}
	if img.Description != "" {
		out.Description = api.String(img.Description)
	}
	return out, nil
}
