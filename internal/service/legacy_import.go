package service

import (
	"context"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

// TagOSVersion tells wsim which Windows an ImportWorkspaceImage source AMI
// runs (Windows_10 or Windows_11), which only the real service can see by
// looking inside the AMI. Without it the AMI counts as Windows 10, where
// every Office choice is allowed.
const TagOSVersion = "wsim:os-version"

// legacyImport is what ImportWorkspaceImage was given.
type legacyImport struct {
	Ec2ImageID       string   `json:"ec2ImageId"`
	IngestionProcess string   `json:"ingestionProcess"`
	Applications     []string `json:"applications,omitempty"`
	OsVersion        string   `json:"osVersion"`
}

// ImportWorkspaceImage is the older BYOL import: an EC2 AMI becomes a
// WorkSpaces image through a single PENDING stage (at least 90 minutes at
// AWS) and ends AVAILABLE, or ERROR when scripted to fail. It shares the
// image quota and the name rule with every other image, and is not visible
// to DescribeCustomWorkspaceImageImport, which describes only the newer path.
func (s *Service) ImportWorkspaceImage(ctx context.Context, in *api.ImportWorkspaceImageInput) (*api.ImportWorkspaceImageOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.requireBYOL(ctx, req); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	osVersion, err := legacyOSVersion(tagMap(tags))
	if err != nil {
		return nil, err
	}
	if err := checkApplications(*in.IngestionProcess, in.Applications, osVersion); err != nil {
		return nil, err
	}
	failure, err := s.scriptedFailure(ctx, tags, pipeline.Subject{
		Kind: pipeline.KindLegacyImport, Account: req.account, Region: req.region, Name: *in.ImageName, SourceID: *in.Ec2ImageId,
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
		Plan:        s.cfg.Profile.Plan(pipeline.KindLegacyImport, req.now, failure),
		Tags:        tags,
		LegacyImport: &legacyImport{
			Ec2ImageID:       *in.Ec2ImageId,
			IngestionProcess: *in.IngestionProcess,
			Applications:     in.Applications,
			OsVersion:        osVersion,
		},
	}
	if err := s.insertImage(ctx, img); err != nil {
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
	return "", invalidParameter("The tag %s must be %s or %s, not %q.", TagOSVersion, api.OSVersionWindows10, api.OSVersionWindows11, v)
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
		return invalidParameter("Only one application can be subscribed to at this time; %d were given.", len(apps))
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
