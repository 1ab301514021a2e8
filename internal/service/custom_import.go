package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// ImportCustomWorkspaceImage starts the BYOL import pipeline for a new image.
// Everything the import will do is decided here and stored in its plan:
// stage durations from the profile, and a failure from the wsim:fail-at tags
// or the first matching fault rule.
func (s *Service) ImportCustomWorkspaceImage(ctx context.Context, in *api.ImportCustomWorkspaceImageInput) (*api.ImportCustomWorkspaceImageOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.requireBYOL(ctx, req); err != nil {
		return nil, err
	}
	if *in.OsVersion == api.OSVersionWindows11 && *in.Protocol == api.CustomImageProtocolPcoip {
		return nil, &api.OperationNotSupportedException{Message: "Windows 11 does not support PCOIP protocol."}
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	failure, err := s.scriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindCustomImport, Account: req.account, Region: req.region,
		Name: *in.ImageName, SourceID: sourceID(in.ImageSource),
	})
	if err != nil {
		return nil, err
	}
	img := &image{
		Name:        *in.ImageName,
		Description: *in.ImageDescription,
		Owner:       req.account,
		Region:      req.region,
		Created:     req.now,
		Plan:        s.cfg.Profile.Plan(pipeline.KindCustomImport, req.now, failure),
		Tags:        tags,
		CustomImport: &customImport{
			ComputeType:                    *in.ComputeType,
			Protocol:                       *in.Protocol,
			Platform:                       *in.Platform,
			OsVersion:                      *in.OsVersion,
			InfrastructureConfigurationArn: *in.InfrastructureConfigurationArn,
			Source:                         *in.ImageSource,
		},
	}
	if err := s.insertImage(ctx, img); err != nil {
		return nil, err
	}
	return &api.ImportCustomWorkspaceImageOutput{
		ImageId: api.String(img.ID),
		State:   api.String(img.Plan.Stages[0].State),
	}, nil
}

// insertImage stores a new image under a fresh id, enforcing the name's
// uniqueness and the image quota in the same transaction.
func (s *Service) insertImage(ctx context.Context, img *image) error {
	for attempt := 0; ; attempt++ {
		img.ID = newID("wsi-", 9)
		body, err := json.Marshal(img)
		if err != nil {
			return err
		}
		rec := &store.Record{Key: imageKey(img.Owner, img.Region, img.ID), Name: img.Name, Created: img.Created, Body: body}
		err = s.store.Update(ctx, func(tx store.Tx) error { return tx.Insert(ctx, rec, s.cfg.ImageQuota) })
		switch {
		case err == nil:
			return nil
		case errors.Is(err, store.ErrAlreadyExists) && attempt < 5:
			continue // an id collision: draw another
		case errors.Is(err, store.ErrNameTaken):
			return &api.ResourceAlreadyExistsException{Message: fmt.Sprintf("An image with the name %s already exists in this account and Region.", img.Name)}
		case errors.Is(err, store.ErrLimitExceeded):
			return &api.ResourceLimitExceededException{Message: fmt.Sprintf("Your account has reached its limit of %d images in %s. Delete images you no longer need, or request a quota increase.", s.cfg.ImageQuota, img.Region)}
		default:
			return storeError(err)
		}
	}
}

// DescribeCustomWorkspaceImageImport reports where an import stands, computed
// from its plan and the service clock.
func (s *Service) DescribeCustomWorkspaceImageImport(ctx context.Context, in *api.DescribeCustomWorkspaceImageImportInput) (*api.DescribeCustomWorkspaceImageImportOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	img, err := readShared[image](ctx, s, imageKey(req.account, req.region, *in.ImageId))
	if err != nil {
		return nil, err
	}
	if img == nil || img.CustomImport == nil {
		return nil, notFound(*in.ImageId, "The image import %s could not be found.", *in.ImageId)
	}
	st := img.Plan.At(req.now)
	source := img.CustomImport.Source
	out := &api.DescribeCustomWorkspaceImageImportOutput{
		ImageId:                        api.String(img.ID),
		InfrastructureConfigurationArn: api.String(img.CustomImport.InfrastructureConfigurationArn),
		State:                          api.String(st.State),
		StateMessage:                   api.String(st.Message),
		ProgressPercentage:             api.Int32(int32(st.Progress)),
		Created:                        api.NewTimestamp(img.Created),
		LastUpdatedTime:                api.NewTimestamp(st.LastUpdated),
		ImageSource:                    &source,
	}
	if st.BuilderInstance {
		out.ImageBuilderInstanceId = api.String(img.builderInstanceID())
	}
	if st.Failed {
		out.ErrorDetails = []api.CustomWorkspaceImageImportErrorDetails{{
			ErrorCode: api.String(st.ErrorCode), ErrorMessage: api.String(st.ErrorMessage),
		}}
	}
	return out, nil
}

func sourceID(src *api.ImageSourceIdentifier) string {
	switch {
	case src.Ec2ImageId != nil:
		return *src.Ec2ImageId
	case src.Ec2ImportTaskId != nil:
		return *src.Ec2ImportTaskId
	case src.ImageBuildVersionArn != nil:
		return *src.ImageBuildVersionArn
	}
	return ""
}

// checkTags applies the rules the model cannot state: at most 50 tags, no
// reserved aws: prefix, no key twice.
func checkTags(tags []api.Tag) ([]api.Tag, error) {
	if len(tags) > MaxTags {
		return nil, &api.ResourceLimitExceededException{Message: fmt.Sprintf("A resource can have at most %d tags; %d were given.", MaxTags, len(tags))}
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		k := *t.Key
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, invalidParameter("The tag key %s is not valid: keys beginning with aws: are reserved for AWS use.", k)
		}
		if seen[k] {
			return nil, invalidParameter("The tag key %s appears more than once.", k)
		}
		seen[k] = true
	}
	return tags, nil
}

func tagMap(tags []api.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[*t.Key] = api.ToString(t.Value)
	}
	return m
}
