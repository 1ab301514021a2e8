package records

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

// Image is a WorkSpaces image. Its state is never stored: it is Plan.At(now),
// so it moves with the service clock alone. Meta.Account is its owner.
type Image struct {
	Meta
	Description string        `json:"description,omitempty"`
	Plan        pipeline.Plan `json:"plan"`
	Tags        []api.Tag     `json:"tags,omitempty"`
	// SharedWith lists, in ascending order, the accounts the image is shared
	// with in its Region. Each has an ImageShare in its own account, written
	// in the same transaction.
	SharedWith []string `json:"sharedWith,omitempty"`
	// ComponentsAt is when the image last received the WorkSpaces components
	// and drivers; zero means when its own plan finished. Copies inherit it
	// from their source, because copying installs nothing.
	ComponentsAt time.Time `json:"componentsAt,omitzero"`
	// Exactly one of these says how the image was made.
	CustomImport *CustomImport       `json:"customImport,omitempty"`
	LegacyImport *LegacyImport       `json:"legacyImport,omitempty"`
	Copy         *ImageCopy          `json:"copy,omitempty"`
	Update       *ImageUpdate        `json:"update,omitempty"`
	Workspace    *ImageFromWorkspace `json:"workspace,omitempty"`
}

// CustomImport is what ImportCustomWorkspaceImage was given.
type CustomImport struct {
	ComputeType                    string                    `json:"computeType"`
	Protocol                       string                    `json:"protocol"`
	Platform                       string                    `json:"platform"`
	OsVersion                      string                    `json:"osVersion"`
	InfrastructureConfigurationArn string                    `json:"infrastructureConfigurationArn"`
	Source                         api.ImageSourceIdentifier `json:"source"`
	// BuilderInstanceID is the EC2 instance the import builds on, fixed at
	// creation; empty in records written before it was stored. Read it
	// with Image.BuilderInstance.
	BuilderInstanceID string `json:"builderInstanceId,omitempty"`
}

// BuilderInstance is the EC2 instance a custom import builds on: derived
// from the image's account, Region and id so that every replica names the
// same instance, and stored at creation.
func (img *Image) BuilderInstance() string {
	if img.CustomImport != nil && img.CustomImport.BuilderInstanceID != "" {
		return img.CustomImport.BuilderInstanceID
	}
	return deriveBuilderInstance(img)
}

func deriveBuilderInstance(img *Image) string {
	sum := sha256.Sum256([]byte("builder/" + img.Account + "/" + img.Region + "/" + img.ID))
	return "i-" + hex.EncodeToString(sum[:])[:17]
}

// LegacyImport is what ImportWorkspaceImage was given.
type LegacyImport struct {
	Ec2ImageID       string   `json:"ec2ImageId"`
	IngestionProcess string   `json:"ingestionProcess"`
	Applications     []string `json:"applications,omitempty"`
	OsVersion        string   `json:"osVersion"`
}

// ImageCopy remembers where a copy came from.
type ImageCopy struct {
	SourceImageID string `json:"sourceImageId"`
	SourceRegion  string `json:"sourceRegion"`
	SourceOwner   string `json:"sourceOwner"`
}

// ImageUpdate remembers which image an updated image was made from.
type ImageUpdate struct {
	SourceImageID string `json:"sourceImageId"`
}

// KindWorkspaceImage is the lifecycle of an image made from a WorkSpace by
// CreateWorkspaceImage (declared by package workspaces).
const KindWorkspaceImage pipeline.Kind = "workspace-image"

// ImageFromWorkspace remembers which WorkSpace an image was made from, and
// whether that WorkSpace ran a BYOL image, which the new image stays.
type ImageFromWorkspace struct {
	WorkspaceID   string `json:"workspaceId"`
	SourceImageID string `json:"sourceImageId"`
	BYOL          bool   `json:"byol,omitempty"`
	// OSType is the OperatingSystemType of the WorkSpace (WINDOWS, LINUX).
	OSType string `json:"osType,omitempty"`
}

// BYOL reports whether the image is a BYOL image: imported, or made from a
// WorkSpace that ran one. Such images launch only into DEDICATED
// directories.
func (img *Image) BYOL() bool {
	return img.CustomImport != nil || img.LegacyImport != nil || (img.Workspace != nil && img.Workspace.BYOL)
}

// ImageShare is the mirror of one grant, in the grantee's account and the
// image's Region, under the image's id.
type ImageShare struct {
	Meta
	Owner  string    `json:"owner"`
	Shared time.Time `json:"shared"`
}

// ImageState is the catalogue's name for a pipeline status.
func ImageState(st pipeline.Status) string {
	switch {
	case st.Failed:
		return api.WorkspaceImageStateError
	case st.Done:
		return api.WorkspaceImageStateAvailable
	default:
		return api.WorkspaceImageStatePending
	}
}

// State is the image's WorkspaceImageState at now.
func (img *Image) State(now time.Time) string { return ImageState(img.Plan.At(now)) }

// Available reports whether the image is AVAILABLE at now.
func (img *Image) Available(now time.Time) bool {
	st := img.Plan.At(now)
	return st.Done && !st.Failed
}

// ImageRef is an image as one caller may see it.
type ImageRef struct {
	*Image
	// Owned is false for an image another account shared with the caller.
	Owned bool
}

// VisibleImage finds id in region as account sees it: its own image, or one
// another account shared with it there. It returns nil when there is neither.
func VisibleImage(ctx context.Context, r Reader, account, region, id string) (*ImageRef, error) {
	img, err := Images.Find(ctx, r, account, region, id)
	if err != nil || img != nil {
		if img == nil {
			return nil, err
		}
		return &ImageRef{Image: img, Owned: true}, nil
	}
	sh, err := ImageShares.Find(ctx, r, account, region, id)
	if err != nil || sh == nil {
		return nil, err
	}
	img, err = Images.Find(ctx, r, sh.Owner, region, id)
	if err != nil || img == nil {
		// A grant is removed with its image in one transaction, so this
		// only happens to a store edited by hand; treat it as unshared.
		return nil, err
	}
	return &ImageRef{Image: img, Owned: false}, nil
}
