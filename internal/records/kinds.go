package records

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/wsim/wsim/internal/api"
)

// Every stored kind, declared once: its store name, ids, and the errors of
// a missing id, a taken name and a full quota. Quotas come from Config.
var (
	// Images are WorkSpaces images however they were made (imports,
	// copies, updated images), named uniquely per account and Region.
	Images = &Kind[Image, *Image]{
		Name: "image", Prefix: "wsi-", IDLen: 9,
		WithID: func(img *Image) {
			if img.CustomImport != nil {
				img.CustomImport.BuilderInstanceID = deriveBuilderInstance(img)
			}
		},
		NotFound: func(id string) error {
			return notFound(id, "The image %s could not be found in this account and Region.", id)
		},
		AlreadyExists: func(name string) error {
			return &api.ResourceAlreadyExistsException{Message: fmt.Sprintf("An image with the name %s already exists in this account and Region.", name)}
		},
		LimitExceeded: func(limit int, region string) error {
			return &api.ResourceLimitExceededException{Message: fmt.Sprintf("Your account has reached its limit of %d images in %s. Delete images you no longer need, or request a quota increase.", limit, region)}
		},
	}
	// ImageShares mirror a grant of UpdateWorkspaceImagePermission in the
	// grantee's account, under the image's id, so that the images shared
	// with an account are one listing there.
	ImageShares = &Kind[ImageShare, *ImageShare]{Name: "image-share"}
	// Bundles are custom WorkSpaces bundles, named uniquely per account and
	// Region.
	Bundles = &Kind[Bundle, *Bundle]{
		Name: "bundle", Prefix: "wsb-", IDLen: 9,
		NotFound: func(id string) error {
			return notFound(id, "The bundle %s could not be found in this account and Region.", id)
		},
		AlreadyExists: func(name string) error {
			return &api.ResourceAlreadyExistsException{Message: fmt.Sprintf("A bundle with the name %s already exists in this account and Region.", name)}
		},
		LimitExceeded: func(limit int, region string) error {
			return &api.ResourceLimitExceededException{Message: fmt.Sprintf(
				"Your account has reached its limit of %d bundles in %s. Delete bundles you no longer need.", limit, region)}
		},
	}
	// AccountModifications are the BYOL changes of an account in a Region,
	// with ids that sort newest first, so that listing a scope in id order
	// (the only order the store has) walks the history newest first.
	AccountModifications = &Kind[AccountModification, *AccountModification]{
		Name:  "account-modification",
		NewID: newestFirstID,
	}
)

func newestFirstID(start time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(math.MaxInt64-start.UnixNano()))
	return fmt.Sprintf("%x", b) + NewID("-", 6)
}

func notFound(id, format string, args ...any) error {
	return &api.ResourceNotFoundException{Message: fmt.Sprintf(format, args...), ResourceId: api.String(id)}
}
