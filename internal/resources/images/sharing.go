package images

import (
	"context"
	"fmt"
	"slices"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// UpdateWorkspaceImagePermission shares an image with one account in the same
// Region (AllowCopyImage true) or unshares it (false). The grant is written on
// the image and mirrored in the grantee's account in one transaction, so it
// takes effect, both ways, at once.
func (s *Service) UpdateWorkspaceImagePermission(ctx context.Context, in *api.UpdateWorkspaceImagePermissionInput) (*api.UpdateWorkspaceImagePermissionOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	id, grantee, allow := *in.ImageId, *in.SharedAccountId, *in.AllowCopyImage
	if grantee == req.Account {
		return nil, kit.InvalidParameter("You can't share the image %s with your own account %s: an account always has access to its own images.", id, grantee)
	}
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		ref, err := visible(ctx, tx, req.Account, req.Region, id)
		if err != nil {
			return err
		}
		img := ref.Image
		if !ref.Owned {
			return notOwner(img, "share or unshare it")
		}
		i, shared := slices.BinarySearch(img.SharedWith, grantee)
		if allow {
			if !img.Available(req.Now) {
				return &api.ResourceUnavailableException{ResourceId: api.String(id), Message: fmt.Sprintf(
					"The image %s is %s; only AVAILABLE images can be shared.", id, img.State(req.Now))}
			}
			if shared {
				return nil
			}
			// Every image wsim holds is a BYOL image, and those can be
			// shared only with accounts enabled for BYOL.
			byol, err := s.env.DB.BYOL(ctx, tx, grantee, img.Region, req.Now)
			if err != nil {
				return err
			}
			if !byol.Enabled {
				return kit.InvalidParameter("The image %s is a BYOL image, and BYOL images can be shared only with accounts enabled for BYOL; account %s is not enabled for BYOL in %s.", id, grantee, img.Region)
			}
			img.SharedWith = slices.Insert(img.SharedWith, i, grantee)
			share := &records.ImageShare{
				Meta:  records.Meta{Account: grantee, Region: img.Region, ID: id, Created: req.Now},
				Owner: img.Account, Shared: req.Now,
			}
			if existing, err := records.ImageShares.Find(ctx, tx, grantee, img.Region, id); err != nil {
				return err
			} else if existing == nil {
				if err := records.ImageShares.Insert(ctx, tx, share); err != nil {
					return err
				}
			}
		} else {
			if !shared {
				return kit.InvalidParameter("The image %s is not shared with account %s, so there is no permission to revoke.", id, grantee)
			}
			img.SharedWith = slices.Delete(img.SharedWith, i, i+1)
			if err := records.ImageShares.DeleteID(ctx, tx, grantee, img.Region, id); err != nil {
				return err
			}
		}
		return records.Images.Put(ctx, tx, img)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateWorkspaceImagePermissionOutput{}, nil
}

// DescribeWorkspaceImagePermissions lists the accounts an image the caller
// owns is shared with, by account id, a page at a time.
func (s *Service) DescribeWorkspaceImagePermissions(ctx context.Context, in *api.DescribeWorkspaceImagePermissionsInput) (*api.DescribeWorkspaceImagePermissionsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	const list = "image-permissions"
	_, after, err := records.DecodeToken(in.NextToken, list)
	if err != nil {
		return nil, err
	}
	id := *in.ImageId
	ref, err := visible(ctx, s.env.DB, req.Account, req.Region, id)
	if err != nil {
		return nil, err
	}
	if !ref.Owned {
		return nil, notOwner(ref.Image, "see whom it is shared with")
	}
	limit := int(api.ToInt32(in.MaxResults, 25))
	out := &api.DescribeWorkspaceImagePermissionsOutput{ImageId: api.String(id), ImagePermissions: []api.ImagePermission{}}
	for _, acct := range ref.SharedWith {
		if acct <= after {
			continue
		}
		if len(out.ImagePermissions) == limit {
			out.NextToken = records.EncodeToken(list, *out.ImagePermissions[limit-1].SharedAccountId)
			break
		}
		out.ImagePermissions = append(out.ImagePermissions, api.ImagePermission{SharedAccountId: api.String(acct)})
	}
	return out, nil
}
