package service

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// image is the stored form of a WorkSpaces image. Its state is never stored:
// it is Plan.At(now), so it moves with the service clock alone.
type image struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Owner       string        `json:"owner"`
	Region      string        `json:"region"`
	Created     time.Time     `json:"created"`
	Plan        pipeline.Plan `json:"plan"`
	Tags        []api.Tag     `json:"tags,omitempty"`
	// CustomImport is set for images made by ImportCustomWorkspaceImage.
	CustomImport *customImport `json:"customImport,omitempty"`
}

type customImport struct {
	ComputeType                    string                    `json:"computeType"`
	Protocol                       string                    `json:"protocol"`
	Platform                       string                    `json:"platform"`
	OsVersion                      string                    `json:"osVersion"`
	InfrastructureConfigurationArn string                    `json:"infrastructureConfigurationArn"`
	Source                         api.ImageSourceIdentifier `json:"source"`
}

func imageKey(account, region, id string) store.Key {
	return store.Key{Account: account, Region: region, Kind: kindImage, ID: id}
}

// builderInstanceID is the EC2 instance the import builds on: derived from the
// image id so that every replica names the same instance.
func (img *image) builderInstanceID() string {
	sum := sha256.Sum256([]byte("builder/" + img.Owner + "/" + img.Region + "/" + img.ID))
	return "i-" + hex.EncodeToString(sum[:])[:17]
}

// imageState is the catalogue's view of a pipeline status.
func imageState(st pipeline.Status) string {
	switch {
	case st.Failed:
		return api.WorkspaceImageStateError
	case st.Done:
		return api.WorkspaceImageStateAvailable
	default:
		return api.WorkspaceImageStatePending
	}
}

func (img *image) toAPI(now time.Time) api.WorkspaceImage {
	st := img.Plan.At(now)
	out := api.WorkspaceImage{
		ImageId:         api.String(img.ID),
		Name:            api.String(img.Name),
		OperatingSystem: &api.OperatingSystem{Type: api.String(api.OperatingSystemTypeWindows)},
		State:           api.String(imageState(st)),
		RequiredTenancy: api.String(api.WorkspaceImageRequiredTenancyDedicated),
		Created:         api.NewTimestamp(img.Created),
		OwnerAccountId:  api.String(img.Owner),
	}
	if img.Description != "" {
		out.Description = api.String(img.Description)
	}
	if st.Failed {
		out.ErrorCode = api.String(st.ErrorCode)
		out.ErrorMessage = api.String(st.ErrorMessage)
		out.ErrorDetails = []api.ErrorDetails{{ErrorCode: api.String(st.ErrorCode), ErrorMessage: api.String(st.ErrorMessage)}}
	}
	return out
}

// DescribeWorkspaceImages lists the caller's images in the Region, by id
// order, a page at a time.
func (s *Service) DescribeWorkspaceImages(ctx context.Context, in *api.DescribeWorkspaceImagesInput) (*api.DescribeWorkspaceImagesOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	limit := int(api.ToInt32(in.MaxResults, 25))
	out := &api.DescribeWorkspaceImagesOutput{Images: []api.WorkspaceImage{}}
	imageType := api.ToString(in.ImageType)
	if imageType == api.ImageTypeShared {
		return out, nil
	}
	if len(in.ImageIds) > 0 {
		after, err := decodeToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		for _, id := range in.ImageIds {
			if id <= after {
				continue
			}
			var img image
			_, found, err := loadJSON(ctx, s.store, imageKey(req.account, req.region, id), &img)
			if err != nil {
				return nil, err
			}
			if found {
				out.Images = append(out.Images, img.toAPI(req.now))
			}
		}
		return out, nil
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	recs, err := s.store.List(ctx, store.Scope{Account: req.account, Region: req.region, Kind: kindImage}, after, limit+1)
	if err != nil {
		return nil, storeError(err)
	}
	for i, rec := range recs {
		if i == limit {
			out.NextToken = encodeToken(recs[i-1].ID)
			break
		}
		var img image
		if err := json.Unmarshal(rec.Body, &img); err != nil {
			return nil, fmt.Errorf("decode image %s: %w", rec.ID, err)
		}
		out.Images = append(out.Images, img.toAPI(req.now))
	}
	return out, nil
}

// Pagination tokens are opaque to clients: the last id of the page, encoded.
func encodeToken(lastID string) *string {
	return api.String(base64.RawURLEncoding.EncodeToString([]byte("v1:" + lastID)))
}

func decodeToken(tok *string) (string, error) {
	if tok == nil {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || len(raw) < 3 || string(raw[:3]) != "v1:" {
		return "", &api.Error{Code: "ValidationException", Status: 400, Message: "The NextToken is not valid: pass the NextToken of the previous response unchanged."}
	}
	return string(raw[3:]), nil
}
