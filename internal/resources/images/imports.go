package images

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// ImportCustomWorkspaceImage starts the BYOL import pipeline for a new image.
// Everything the import will do is decided here and stored in its plan:
// stage durations from the profile, and a failure from the wsim:fail-at tags
// or the first matching fault rule.
func (s *Service) ImportCustomWorkspaceImage(ctx context.Context, in *api.ImportCustomWorkspaceImageInput) (*api.ImportCustomWorkspaceImageOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.requireBYOL(ctx, req); err != nil {
		return nil, err
	}
	if *in.OsVersion == api.OSVersionWindows11 && *in.Protocol == api.CustomImageProtocolPcoip {
		return nil, &api.OperationNotSupportedException{Message: "Windows 11 does not support PCOIP protocol."}
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	failure, err := s.env.ScriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindCustomImport, Account: req.Account, Region: req.Region,
		Name: *in.ImageName, SourceID: sourceID(in.ImageSource),
	})
	if err != nil {
		return nil, err
	}
	img := s.env.NewImage(req, *in.ImageName, *in.ImageDescription, pipeline.KindCustomImport, failure, tags)
	img.CustomImport = &records.CustomImport{
		ComputeType:                    *in.ComputeType,
		Protocol:                       *in.Protocol,
		Platform:                       *in.Platform,
		OsVersion:                      *in.OsVersion,
		InfrastructureConfigurationArn: *in.InfrastructureConfigurationArn,
		Source:                         *in.ImageSource,
	}
	if err := records.Images.Create(ctx, s.env.DB, img, nil); err != nil {
		return nil, err
	}
	return &api.ImportCustomWorkspaceImageOutput{
		ImageId: api.String(img.ID),
		State:   api.String(img.Plan.Stages[0].State),
	}, nil
}

// DescribeCustomWorkspaceImageImport reports where an import stands, computed
// from its plan and the service clock.
func (s *Service) DescribeCustomWorkspaceImageImport(ctx context.Context, in *api.DescribeCustomWorkspaceImageImportInput) (*api.DescribeCustomWorkspaceImageImportOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	img, err := records.Images.Find(ctx, s.env.DB, req.Account, req.Region, *in.ImageId)
	if err != nil {
		return nil, err
	}
	if img == nil || img.CustomImport == nil {
		return nil, kit.NotFound(*in.ImageId, "The image import %s could not be found.", *in.ImageId)
	}
	st := img.Plan.At(req.Now)
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
		out.ImageBuilderInstanceId = api.String(img.BuilderInstance())
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

// requireBYOL refuses a BYOL import for an account that is not enabled for
// BYOL in the Region, which only happens with the strict setting.
func (s *Service) requireBYOL(ctx context.Context, req kit.Request) error {
	if s.env.DB.BYOLMode() != records.BYOLStrict {
		return nil
	}
	st, err := s.env.DB.BYOL(ctx, s.env.DB, req.Account, req.Region, req.Now)
	if err != nil || st.Enabled {
		return err
	}
	msg := fmt.Sprintf("Account %s is not enabled for BYOL in %s. Enable it with ModifyAccount "+
		"(DedicatedTenancySupport ENABLED and a /16 DedicatedTenancyManagementCidrRange) and wait until "+
		"DescribeAccountModifications shows the modification COMPLETED.", req.Account, req.Region)
	if st.Pending != nil {
		msg = fmt.Sprintf("Account %s is not enabled for BYOL in %s yet: the modification to %s started at %s is still PENDING.",
			req.Account, req.Region, st.Pending.CIDR, st.Pending.Plan.Start.UTC().Format(time.RFC3339))
	}
	return &api.AccessDeniedException{Message: msg}
}

// TagOSVersion tells wsim which Windows an ImportWorkspaceImage source AMI
// runs (Windows_10 or Windows_11), which only the real service can see by
// looking inside the AMI. Without it the AMI counts as Windows 10, where
// every Office choice is allowed.
const TagOSVersion = "wsim:os-version"

// ImportWorkspaceImage is the older BYOL import: an EC2 AMI becomes a
// WorkSpaces image through a single PENDING stage (at least 90 minutes at
// AWS) and ends AVAILABLE, or ERROR when scripted to fail. It shares the
// image quota and the name rule with every other image, and is not visible
// to DescribeCustomWorkspaceImageImport, which describes only the newer path.
func (s *Service) ImportWorkspaceImage(ctx context.Context, in *api.ImportWorkspaceImageInput) (*api.ImportWorkspaceImageOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.requireBYOL(ctx, req); err != nil {
		return nil, err
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	osVersion, err := legacyOSVersion(kit.TagMap(tags))
	if err != nil {
		return nil, err
	}
	if err := checkApplications(*in.IngestionProcess, in.Applications, osVersion); err != nil {
		return nil, err
	}
	failure, err := s.env.ScriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindLegacyImport, Account: req.Account, Region: req.Region, Name: *in.ImageName, SourceID: *in.Ec2ImageId,
	})
	if err != nil {
		return nil, err
	}
	img := s.env.NewImage(req, *in.ImageName, *in.ImageDescription, pipeline.KindLegacyImport, failure, tags)
	img.LegacyImport = &records.LegacyImport{
		Ec2ImageID:       *in.Ec2ImageId,
		IngestionProcess: *in.IngestionProcess,
		Applications:     in.Applications,
		OsVersion:        osVersion,
	}
	if err := records.Images.Create(ctx, s.env.DB, img, nil); err != nil {
		return nil, err
	}
	return &api.ImportWorkspaceImageOutput{ImageId: api.String(img.ID)}, nil
}

func legacyOSVersion(tags map[string]string) (string, error) {
	v, ok := tags[TagOSVersion]
	switch {
	case !ok:
		return api.OSVersionWindows10, nil
	case v == api.OSVersionWindows10 || v == api.OSVersionWindows11:
		return v, nil
	}
	return "", kit.InvalidParameter("The tag %s must be %s or %s, not %q.", TagOSVersion, api.OSVersionWindows10, api.OSVersionWindows11, v)
}

// checkApplications applies the documented rules of the Applications member:
// one item at most, and on Windows 11 DCV (ingestion processes ending in
// _WSP) only Microsoft_Office_2019 on non-GPU WorkSpaces and no Office at all
// on GPU ones.
func checkApplications(process string, apps []string, osVersion string) error {
	if len(apps) == 0 {
		return nil
	}
	if len(apps) > 1 {
		return kit.InvalidParameter("Only one application can be subscribed to at this time; %d were given.", len(apps))
	}
	if osVersion != api.OSVersionWindows11 || !strings.HasSuffix(process, "_WSP") {
		return nil
	}
	if process != api.WorkspaceImageIngestionProcessByolRegularWsp {
		return &api.OperationNotSupportedException{Message: "GPU DCV WorkSpaces with Windows 11 do not support Office installation during the image import. Import the image without Applications."}
	}
	if apps[0] != api.ApplicationMicrosoftOffice2019 {
		return &api.OperationNotSupportedException{Message: "Non-GPU DCV WorkSpaces with Windows 11 support only " + api.ApplicationMicrosoftOffice2019 + " during the image import; " + apps[0] + " is not supported."}
	}
	return nil
}
