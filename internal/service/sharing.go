package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/store"
)

// imageShare is the mirror of one grant, kept in the grantee's scope under
// the image's id so that "the images shared with me" is a List there.
type imageShare struct {
	ImageID string    `json:"imageId"`
	Owner   string    `json:"owner"`
	Region  string    `json:"region"`
	Shared  time.Time `json:"shared"`
}

func imageShareKey(grantee, region, id string) store.Key {
	return store.Key{Account: grantee, Region: region, Kind: kindImageShare, ID: id}
}

// UpdateWorkspaceImagePermission shares an image with one account in the same
// Region (AllowCopyImage true) or unshares it (false). The grant is written on
// the image and mirrored in the grantee's scope in one transaction, so it
// takes effect, both ways, at once.
func (s *Service) UpdateWorkspaceImagePermission(ctx context.Context, in *api.UpdateWorkspaceImagePermissionInput) (*api.UpdateWorkspaceImagePermissionOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	id, grantee, allow := *in.ImageId, *in.SharedAccountId, *in.AllowCopyImage
	if grantee == req.account {
		return nil, invalidParameter("You can't share the image %s with your own account %s: an account always has access to its own images.", id, grantee)
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		ref, err := visibleImage(ctx, tx, req.account, req.region, id)
		if err != nil {
			return err
		}
		if ref == nil {
			return imageNotFound(id)
		}
		img := &ref.img
		if !ref.owned {
			return notOwner(img, "share or unshare it")
		}
		i, shared := slices.BinarySearch(img.SharedWith, grantee)
		if allow {
			if !img.available(req.now) {
				return &api.ResourceUnavailableException{ResourceId: api.String(id), Message: fmt.Sprintf(
					"The image %s is %s; only AVAILABLE images can be shared.", id, imageState(img.Plan.At(req.now)))}
			}
			if shared {
				return nil
			}
			// Every image wsim holds is a BYOL image, and those can be
			// shared only with accounts enabled for BYOL.
			byol, err := s.byolStateOf(ctx, tx, request{account: grantee, region: img.Region, now: req.now})
			if err != nil {
				return err
			}
			if !byol.enabled {
				return invalidParameter("The image %s is a BYOL image, and BYOL images can be shared only with accounts enabled for BYOL; account %s is not enabled for BYOL in %s.", id, grantee, img.Region)
			}
			img.SharedWith = slices.Insert(img.SharedWith, i, grantee)
			body, err := json.Marshal(imageShare{ImageID: id, Owner: img.Owner, Region: img.Region, Shared: req.now})
			if err != nil {
				return err
			}
			err = tx.Insert(ctx, &store.Record{Key: imageShareKey(grantee, img.Region, id), Created: req.now, Body: body}, 0)
			if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return err
			}
		} else {
			if !shared {
				return invalidParameter("The image %s is not shared with account %s, so there is no permission to revoke.", id, grantee)
			}
			img.SharedWith = slices.Delete(img.SharedWith, i, i+1)
			if err := tx.Delete(ctx, imageShareKey(grantee, img.Region, id)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return putImage(ctx, tx, ref.rec, img)
	})
	if err != nil {
		return nil, storeError(err)
	}
	return &api.UpdateWorkspaceImagePermissionOutput{}, nil
}

// putImage writes img back over rec, the record it was read from.
func putImage(ctx context.Context, tx store.Tx, rec *store.Record, img *image) error {
	body, err := json.Marshal(img)
	if err != nil {
		return err
	}
	rec.Body = body
	return tx.Put(ctx, rec)
}

// DescribeWorkspaceImagePermissions lists the accounts an image the caller
// owns is shared with, by account id, a page at a time.
func (s *Service) DescribeWorkspaceImagePermissions(ctx context.Context, in *api.DescribeWorkspaceImagePermissionsInput) (*api.DescribeWorkspaceImagePermissionsOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	id := *in.ImageId
	ref, err := visibleImage(ctx, s.store, req.account, req.region, id)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, imageNotFound(id)
	}
	if !ref.owned {
		return nil, notOwner(&ref.img, "see whom it is shared with")
	}
	limit := int(api.ToInt32(in.MaxResults, 25))
	out := &api.DescribeWorkspaceImagePermissionsOutput{ImageId: api.String(id), ImagePermissions: []api.ImagePermission{}}
	for _, acct := range ref.img.SharedWith {
		if acct <= after {
			continue
		}
		if len(out.ImagePermissions) == limit {
			out.NextToken = encodeToken(*out.ImagePermissions[limit-1].SharedAccountId)
			break
		}
		out.ImagePermissions = append(out.ImagePermissions, api.ImagePermission{SharedAccountId: api.String(acct)})
	}
	return out, nil
}
