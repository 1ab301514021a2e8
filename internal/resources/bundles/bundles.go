// Package bundles is custom WorkSpaces bundles (create, describe, update,
// delete) and the public bundles AWS provides (records.PublicBundles).
package bundles

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// Service implements the bundle operations.
type Service struct{ env *kit.Env }

// New returns the bundle operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the bundle operations to r.
func (s *Service) Register(r *api.Registry) {
	api.Handle(r, api.OpCreateWorkspaceBundle, s.CreateWorkspaceBundle)
	api.Handle(r, api.OpDescribeWorkspaceBundles, s.DescribeWorkspaceBundles)
	api.Handle(r, api.OpUpdateWorkspaceBundle, s.UpdateWorkspaceBundle)
	api.Handle(r, api.OpDeleteWorkspaceBundle, s.DeleteWorkspaceBundle)
}

// bundlePage is how many bundles a page of DescribeWorkspaceBundles holds;
// the API has no MaxResults and AWS publishes no page size.
const bundlePage = 25

// AmazonOwner is the Owner filter that selects the public bundles AWS
// provides, as the API reference spells it.
const AmazonOwner = "AMAZON"

// amazonOwnerShown is the Owner those bundles carry in answers: AWS's real
// answers spell it "Amazon" (the AWS CLI's describe-workspace-bundles
// example output, and the Terraform provider's acceptance test of the
// aws_workspaces_bundle data source, which runs against AWS).
const amazonOwnerShown = "Amazon"

// Values the answers point to; shared by every answer, never written.
var (
	amazonOwner     = amazonOwnerShown
	stateAvailable  = api.WorkspaceBundleStateAvailable
	bundleRegular   = api.BundleTypeRegular
	publicBundleAt  = api.Timestamp{Time: records.PublicBundleTime}
	publicBundleAPI = publicBundlesAPI()
)

// publicBundlesAPI is every public bundle as DescribeWorkspaceBundles shows
// it, made once: they are data that never changes, so every answer shares
// them.
func publicBundlesAPI() []api.WorkspaceBundle {
	out := make([]api.WorkspaceBundle, len(records.PublicBundles))
	for i := range records.PublicBundles {
		b := &records.PublicBundles[i]
		out[i] = api.WorkspaceBundle{
			BundleId:        &b.ID,
			Name:            &b.Name,
			Owner:           &amazonOwner,
			Description:     &b.Description,
			ImageId:         &b.ImageID,
			RootStorage:     &api.RootStorage{Capacity: &b.RootCapacity},
			UserStorage:     &api.UserStorage{Capacity: &b.UserCapacity},
			ComputeType:     &api.ComputeType{Name: &b.ComputeType},
			CreationTime:    &publicBundleAt,
			LastUpdatedTime: &publicBundleAt,
			State:           &stateAvailable,
			BundleType:      &bundleRegular,
		}
		// Nothing in them ever changes, so each is encoded once for all
		// the pages that list it.
		out[i].Encoded = out[i].AppendJSON(nil)
	}
	return out
}

// publicToAPI is the public bundle with the id as DescribeWorkspaceBundles
// shows it.
func publicToAPI(id string) (api.WorkspaceBundle, bool) {
	for i := range publicBundleAPI {
		if *publicBundleAPI[i].BundleId == id {
			return publicBundleAPI[i], true
		}
	}
	return api.WorkspaceBundle{}, false
}

// bundleView holds what toAPI's answer points to that the record does not
// hold as such.
type bundleView struct {
	root             api.RootStorage
	user             api.UserStorage
	compute          api.ComputeType
	created, updated api.Timestamp
}

// answerKey is what a custom bundle's answer depends on besides its
// record: nothing, since toAPI reads every member from the record (its
// state is always AVAILABLE) and the caller can only be its owner.
const answerKey = ""

// toAPI is the bundle as DescribeWorkspaceBundles shows it, pointing into b
// (which no reader changes) and v: a page of 25 bundles made some 350
// allocations for its answer's fields when each had its own. A custom
// bundle is AVAILABLE from its creation: it only names an image that is
// already AVAILABLE (an image never leaves that state) and a hardware
// choice.
func toAPI(b *records.Bundle, v *bundleView) api.WorkspaceBundle {
	v.root.Capacity, v.user.Capacity, v.compute.Name = &b.RootCapacity, &b.UserCapacity, &b.ComputeType
	v.created.Time, v.updated.Time = b.Created, b.LastUpdated
	out := api.WorkspaceBundle{
		BundleId:        &b.ID,
		Name:            &b.Name,
		Owner:           &b.Account,
		ImageId:         &b.ImageID,
		RootStorage:     &v.root,
		UserStorage:     &v.user,
		ComputeType:     &v.compute,
		CreationTime:    &v.created,
		LastUpdatedTime: &v.updated,
		State:           &stateAvailable,
		BundleType:      &bundleRegular,
	}
	if b.Description != "" {
		out.Description = &b.Description
	}
	return out
}

// defaultRootCapacity is the root volume of a bundle created without
// RootStorage: the smallest the console offers.
const defaultRootCapacity = "80"

var wholeGB = regexp.MustCompile(`^[1-9][0-9]{0,3}$`)

// checkStorage applies the volume sizes the WorkSpaces Administration Guide
// allows: a root volume of 80 GB with a user volume of 10, 50 or 100 GB, or
// a root volume of 175 to 2000 GB with a user volume of 100 to 2000 GB.
func checkStorage(root, user string) error {
	if !wholeGB.MatchString(root) {
		return kit.InvalidParameter("The root volume capacity %q is not valid: give a whole number of GB, such as 80.", root)
	}
	if !wholeGB.MatchString(user) {
		return kit.InvalidParameter("The user volume capacity %q is not valid: give a whole number of GB, such as 50.", user)
	}
	r, _ := strconv.Atoi(root)
	u, _ := strconv.Atoi(user)
	switch {
	case r == 80 && (u == 10 || u == 50 || u == 100):
		return nil
	case r >= 175 && r <= 2000 && u >= 100 && u <= 2000:
		return nil
	}
	return kit.InvalidParameter("The volume sizes root %d GB and user %d GB are not a valid combination: use a root volume of 80 GB "+
		"with a user volume of 10, 50 or 100 GB, or a root volume of 175-2000 GB with a user volume of 100-2000 GB.", r, u)
}

// usableImage is the image if the caller may build a bundle on it: its own,
// or one shared with it, and AVAILABLE.
func usableImage(ctx context.Context, tx *records.Tx, req kit.Request, id string) (*records.ImageRef, error) {
	ref, err := records.VisibleImage(ctx, tx, req.Account, req.Region, id)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, records.Images.NotFound(id)
	}
	if !ref.Available(req.Now) {
		return nil, &api.ResourceUnavailableException{ResourceId: api.String(id), Message: fmt.Sprintf(
			"The image %s is %s; a bundle can only be built on an AVAILABLE image.", id, ref.State(req.Now))}
	}
	return ref, nil
}

// CreateWorkspaceBundle creates a custom bundle on an AVAILABLE image that
// the caller owns or that is shared with it.
func (s *Service) CreateWorkspaceBundle(ctx context.Context, in *api.CreateWorkspaceBundleInput) (*api.CreateWorkspaceBundleOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if in.ComputeType.Name == nil {
		return nil, kit.InvalidParameter("ComputeType.Name is required: give the compute type of the bundle, such as STANDARD.")
	}
	root := defaultRootCapacity
	if in.RootStorage != nil {
		root = *in.RootStorage.Capacity
	}
	if err := checkStorage(root, *in.UserStorage.Capacity); err != nil {
		return nil, err
	}
	b := &records.Bundle{
		Meta:        records.Meta{Account: req.Account, Region: req.Region, Name: *in.BundleName, Created: req.Now},
		Description: *in.BundleDescription, ImageID: *in.ImageId,
		ComputeType: *in.ComputeType.Name, RootCapacity: root, UserCapacity: *in.UserStorage.Capacity,
		LastUpdated: req.Now, Tags: tags,
	}
	err = records.Bundles.Create(ctx, s.env.DB, b, func(tx *records.Tx) error {
		ref, err := usableImage(ctx, tx, req, b.ImageID)
		if err != nil {
			return err
		}
		b.ImageOwner = ref.Account
		return nil
	})
	if err != nil {
		return nil, err
	}
	wb := toAPI(b, new(bundleView))
	return &api.CreateWorkspaceBundleOutput{WorkspaceBundle: &wb}, nil
}

// DescribeWorkspaceBundles lists the caller's custom bundles in the Region
// (Owner absent or the caller's account id), the public ones (Owner AMAZON),
// or the bundles with the given ids among both.
func (s *Service) DescribeWorkspaceBundles(ctx context.Context, in *api.DescribeWorkspaceBundlesInput) (*api.DescribeWorkspaceBundlesOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.BundleIds) > 0 && in.Owner != nil {
		return nil, kit.InvalidParameter("BundleIds and Owner can't be combined: filter by bundle id or by owner, not both.")
	}
	out := &api.DescribeWorkspaceBundlesOutput{Bundles: []api.WorkspaceBundle{}}
	if len(in.BundleIds) > 0 {
		if _, _, err := records.DecodeToken(in.NextToken, records.Bundles.Name); err != nil {
			return nil, err
		}
		// At most 25 ids: one page, in id order like the listings.
		ids := slices.Clone(in.BundleIds)
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			if pb, ok := publicToAPI(id); ok {
				out.Bundles = append(out.Bundles, pb)
				continue
			}
			b, err := records.Bundles.Find(ctx, s.env.DB, req.Account, req.Region, id)
			if err != nil {
				return nil, err
			}
			if b != nil {
				out.Bundles = append(out.Bundles, toAPI(b, new(bundleView)))
				item := &out.Bundles[len(out.Bundles)-1]
				item.Encoded = records.Encoded(&b.Meta, answerKey, item)
			}
		}
		return out, nil
	}
	switch owner := api.ToString(in.Owner); owner {
	case AmazonOwner:
		const list = "public-bundles"
		_, after, err := records.DecodeToken(in.NextToken, list)
		if err != nil {
			return nil, err
		}
		out.Bundles = make([]api.WorkspaceBundle, 0, bundlePage)
		for _, pb := range publicBundleAPI {
			if *pb.BundleId <= after {
				continue
			}
			if len(out.Bundles) == bundlePage {
				out.NextToken = records.EncodeToken(list, *out.Bundles[len(out.Bundles)-1].BundleId)
				break
			}
			out.Bundles = append(out.Bundles, pb)
		}
		return out, nil
	case "", req.Account:
	default:
		return nil, kit.InvalidParameter("The owner %s is not valid: specify AMAZON for the public bundles, or leave Owner out for your own bundles.", owner)
	}
	bundles, next, err := records.Bundles.Page(ctx, s.env.DB, req.Account, req.Region, in.NextToken, bundlePage)
	if err != nil {
		return nil, err
	}
	out.Bundles = make([]api.WorkspaceBundle, len(bundles))
	views := make([]bundleView, len(bundles))
	for i, b := range bundles {
		out.Bundles[i] = toAPI(b, &views[i])
		out.Bundles[i].Encoded = records.Encoded(&b.Meta, answerKey, &out.Bundles[i])
	}
	out.NextToken = next
	return out, nil
}

// ownBundle reads a bundle of the caller for an owner-only operation.
func ownBundle(ctx context.Context, tx *records.Tx, req kit.Request, id, what string) (*records.Bundle, error) {
	if _, ok := records.FindPublicBundle(id); ok {
		return nil, &api.AccessDeniedException{Message: fmt.Sprintf(
			"The bundle %s is a public bundle owned by AMAZON; only custom bundles of your account can be %s.", id, what)}
	}
	return records.Bundles.Get(ctx, tx, req.Account, req.Region, id)
}

// UpdateWorkspaceBundle switches a custom bundle to another image, under the
// same rules as creating one.
func (s *Service) UpdateWorkspaceBundle(ctx context.Context, in *api.UpdateWorkspaceBundleInput) (*api.UpdateWorkspaceBundleOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if in.BundleId == nil {
		return nil, kit.InvalidParameter("BundleId is required: give the bundle to update.")
	}
	if in.ImageId == nil {
		return nil, kit.InvalidParameter("ImageId is required: give the image the bundle should use.")
	}
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		b, err := ownBundle(ctx, tx, req, *in.BundleId, "updated")
		if err != nil {
			return err
		}
		if b.ImageID == *in.ImageId {
			return nil
		}
		ref, err := usableImage(ctx, tx, req, *in.ImageId)
		if err != nil {
			return err
		}
		b.ImageID, b.ImageOwner, b.LastUpdated = ref.ID, ref.Account, req.Now
		return records.Bundles.Put(ctx, tx, b)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateWorkspaceBundleOutput{}, nil
}

// DeleteWorkspaceBundle deletes a custom bundle of the caller, which frees
// its name, its place in the quota and its image for deletion. A bundle
// that WorkSpaces were launched from can't be deleted while they exist.
func (s *Service) DeleteWorkspaceBundle(ctx context.Context, in *api.DeleteWorkspaceBundleInput) (*api.DeleteWorkspaceBundleOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if in.BundleId == nil {
		return nil, kit.InvalidParameter("BundleId is required: give the bundle to delete.")
	}
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		b, err := ownBundle(ctx, tx, req, *in.BundleId, "deleted")
		if err != nil {
			return err
		}
		users, err := records.LiveWorkspacesWhere(ctx, tx, req.Account, req.Region, req.Now, func(w *records.Workspace) bool { return w.BundleID == b.ID })
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return &api.ResourceAssociatedException{Message: fmt.Sprintf(
				"The bundle %s is used by WorkSpace(s) %s. Terminate those WorkSpaces or migrate them to another bundle, then delete the bundle.",
				b.ID, strings.Join(users, ", "))}
		}
		return records.Bundles.Delete(ctx, tx, b)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteWorkspaceBundleOutput{}, nil
}

// CatalogSources are the custom bundles, as the dashboard's catalogue lists
// them (the public bundles are the same everywhere and are left out).
func (s *Service) CatalogSources() []dashboard.CatalogSource {
	return []dashboard.CatalogSource{dashboard.KindCatalog(s.env.DB, "bundle", records.Bundles, bundleResource)}
}

func bundleResource(_ context.Context, b *records.Bundle, _ time.Time) (dashboard.Resource, error) {
	r := dashboard.Resource{
		Name: b.Name, Description: b.Description, State: api.WorkspaceBundleStateAvailable, Created: b.Created,
		Attributes: map[string]string{"computeType": b.ComputeType, "rootCapacity": b.RootCapacity, "userCapacity": b.UserCapacity},
		Relations:  []dashboard.Relation{{Type: dashboard.RelUsesImage, Account: b.ImageOwner, Region: b.Region, ID: b.ImageID}},
	}
	if len(b.Tags) > 0 {
		r.Tags = kit.TagMap(b.Tags)
	}
	return r, nil
}
