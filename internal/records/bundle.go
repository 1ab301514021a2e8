package records

import (
	"context"
	"time"

	"github.com/wsim/wsim/internal/api"
)

// Bundle is a custom WorkSpaces bundle. Meta.Name is the bundle name and
// Meta.Account its owner.
type Bundle struct {
	Meta
	Description string `json:"description"`
	ImageID     string `json:"imageId"`
	// ImageOwner is the account owning the image: the bundle's owner, or the
	// account that shared the image with it.
	ImageOwner   string    `json:"imageOwner"`
	ComputeType  string    `json:"computeType"`
	RootCapacity string    `json:"rootCapacity"`
	UserCapacity string    `json:"userCapacity"`
	LastUpdated  time.Time `json:"lastUpdated"`
	Tags         []api.Tag `json:"tags,omitempty"`
}

// BundlesUsing returns the ids of the bundles in the account and Region that
// are built on image id.
func BundlesUsing(ctx context.Context, r Reader, account, region, imageID string) ([]string, error) {
	bundles, err := Bundles.List(ctx, r, account, region)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, b := range bundles {
		if b.ImageID == imageID {
			ids = append(ids, b.ID)
		}
	}
	return ids, nil
}
