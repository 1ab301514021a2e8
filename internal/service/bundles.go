package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/store"
)

// bundle is the stored form of a custom WorkSpaces bundle, a record of kind
// kindBundleRecord named by its bundle name. DeleteWorkspaceImage reads the
// "imageId" field of these records, and the tag operations the "tags" field.
type bundle struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Owner       string `json:"owner"`
	Region      string `json:"region"`
	ImageID     string `json:"imageId"`
	// ImageOwner is the account owning the image: the bundle's owner, or the
	// account that shared the image with it.
	ImageOwner   string    `json:"imageOwner"`
	ComputeType  string    `json:"computeType"`
	RootCapacity string    `json:"rootCapacity"`
	UserCapacity string    `json:"userCapacity"`
	Created      time.Time `json:"created"`
	LastUpdated  time.Time `json:"lastUpdated"`
	Tags         []api.Tag `json:"tags,omitempty"`
}

func bundleKey(account, region, id string) store.Key {
	return store.Key{Account: account, Region: region, Kind: kindBundleRecord, ID: id}
}

// bundlePage is how many bundles a page of DescribeWorkspaceBundles holds;
// the API has no MaxResults and AWS publishes no page size.
const bundlePage = 25

// AmazonOwner is the Owner of the public bundles AWS provides.
const AmazonOwner = "AMAZON"

// amazonBundles are wsim's stand-ins for the public bundles, the same in
// every Region, so that code listing Owner AMAZON finds something to pick
// from. Their ids and image ids are wsim's own, not those of AWS.
var amazonBundles = []api.WorkspaceBundle{
	publicBundle("wsb-amzn00001", "Value with Windows Server 2022", "1 vCPU, 2 GiB memory", api.ComputeValue, "80", "10"),
	publicBundle("wsb-amzn00002", "Standard with Windows Server 2022", "2 vCPU, 4 GiB memory", api.ComputeStandard, "80", "50"),
	publicBundle("wsb-amzn00003", "Performance with Windows Server 2022", "2 vCPU, 8 GiB memory", api.ComputePerformance, "80", "100"),
	publicBundle("wsb-amzn00004", "Power with Windows Server 2022", "4 vCPU, 16 GiB memory", api.ComputePower, "175", "100"),
	publicBundle("wsb-amzn00005", "PowerPro with Windows Server 2022", "8 vCPU, 32 GiB memory", api.ComputePowerpro, "175", "100"),
	publicBundle("wsb-amzn00006", "Standard with Amazon Linux 2", "2 vCPU, 4 GiB memory", api.ComputeStandard, "80", "50"),
}

// publicBundleTime is the CreationTime and LastUpdatedTime of every public
// bundle: a fixed instant, so that listings are reproducible.
var publicBundleTime = time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)

func publicBundle(id, name, desc, compute, root, user string) api.WorkspaceBundle {
	return api.WorkspaceBundle{
		BundleId:        api.String(id),
		Name:            api.String(name),
		Owner:           api.String(AmazonOwner),
		Description:     api.String(name + ", " + desc),
		ImageId:         api.String("wsi-amzn" + id[len(id)-5:]),
		RootStorage:     &api.RootStorage{Capacity: api.String(root)},
		UserStorage:     &api.UserStorage{Capacity: api.String(user)},
		ComputeType:     &api.ComputeType{Name: api.String(compute)},
		CreationTime:    api.NewTimestamp(publicBundleTime),
		LastUpdatedTime: api.NewTimestamp(publicBundleTime),
		State:           api.String(api.WorkspaceBundleStateAvailable),
		BundleType:      api.String(api.BundleTypeRegular),
	}
}

func amazonBundle(id string) (api.WorkspaceBundle, bool) {
	for _, b := range amazonBundles {
		if *b.BundleId == id {
			return b, true
		}
	}
	return api.WorkspaceBundle{}, false
}

// toAPI is the bundle as DescribeWorkspaceBundles shows it. A custom bundle
// is AVAILABLE from its creation: it only names an image that is already
// AVAILABLE (an image never leaves that state) and a hardware choice.
func (b *bundle) toAPI() api.WorkspaceBundle {
	out := api.WorkspaceBundle{
		BundleId:        api.String(b.ID),
		Name:            api.String(b.Name),
		Owner:           api.String(b.Owner),
		ImageId:         api.String(b.ImageID),
		RootStorage:     &api.RootStorage{Capacity: api.String(b.RootCapacity)},
		UserStorage:     &api.UserStorage{Capacity: api.String(b.UserCapacity)},
		ComputeType:     &api.ComputeType{Name: api.String(b.ComputeType)},
		CreationTime:    api.NewTimestamp(b.Created),
		LastUpdatedTime: api.NewTimestamp(b.LastUpdated),
		State:           api.String(api.WorkspaceBundleStateAvailable),
		BundleType:      api.String(api.BundleTypeRegular),
	}
	if b.Description != "" {
		out.Description = api.String(b.Description)
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
		return invalidParameter("The root volume capacity %q is not valid: give a whole number of GB, such as 80.", root)
	}
	if !wholeGB.MatchString(user) {
		return invalidParameter("The user volume capacity %q is not valid: give a whole number of GB, such as 50.", user)
	}
	r, _ := strconv.Atoi(root)
	u, _ := strconv.Atoi(user)
	switch {
	case r == 80 && (u == 10 || u == 50 || u == 100):
		return nil
	case r >= 175 && r <= 2000 && u >= 100 && u <= 2000:
		return nil
	}
	return invalidParameter("The volume sizes root %d GB and user %d GB are not a valid combination: use a root volume of 80 GB "+
		"with a user volume of 10, 50 or 100 GB, or a root volume of 175-2000 GB with a user volume of 100-2000 GB.", r, u)
}

// usableImage is the image id if the caller may build a bundle on it: its
// own, or one shared with it, and AVAILABLE.
func usableImage(ctx context.Context, tx store.Tx, req request, id string) (*imageRef, error) {
	ref, err := visibleImage(ctx, tx, req.account, req.region, id)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, imageNotFound(id)
	}
	if !ref.img.available(req.now) {
		return nil, &api.ResourceUnavailableException{ResourceId: api.String(id), Message: fmt.Sprintf(
			"The image %s is %s; a bundle can only be built on an AVAILABLE image.", id, imageState(ref.img.Plan.At(req.now)))}
	}
	return ref, nil
}

// CreateWorkspaceBundle creates a custom bundle on an AVAILABLE image that
// the caller owns or that is shared with it.
func (s *Service) CreateWorkspaceBundle(ctx context.Context, in *api.CreateWorkspaceBundleInput) (*api.CreateWorkspaceBundleOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if in.ComputeType.Name == nil {
		return nil, invalidParameter("ComputeType.Name is required: give the compute type of the bundle, such as STANDARD.")
	}
	root := defaultRootCapacity
	if in.RootStorage != nil {
		root = *in.RootStorage.Capacity
	}
	if err := checkStorage(root, *in.UserStorage.Capacity); err != nil {
		return nil, err
	}
	b := &bundle{
		Name: *in.BundleName, Description: *in.BundleDescription,
		Owner: req.account, Region: req.region, ImageID: *in.ImageId,
		ComputeType: *in.ComputeType.Name, RootCapacity: root, UserCapacity: *in.UserStorage.Capacity,
		Created: req.now, LastUpdated: req.now, Tags: tags,
	}
	for attempt := 0; ; attempt++ {
		b.ID = newID("wsb-", 9)
		err = s.store.Update(ctx, func(tx store.Tx) error {
			ref, err := usableImage(ctx, tx, req, b.ImageID)
			if err != nil {
				return err
			}
			b.ImageOwner = ref.img.Owner
			body, err := json.Marshal(b)
			if err != nil {
				return err
			}
			rec := &store.Record{Key: bundleKey(req.account, req.region, b.ID), Name: b.Name, Created: req.now, Body: body}
			return tx.Insert(ctx, rec, s.cfg.BundleQuota)
		})
		switch {
		case err == nil:
			wb := b.toAPI()
			return &api.CreateWorkspaceBundleOutput{WorkspaceBundle: &wb}, nil
		case errors.Is(err, store.ErrAlreadyExists) && attempt < 5:
			continue // an id collision: draw another
		case errors.Is(err, store.ErrNameTaken):
			return nil, &api.ResourceAlreadyExistsException{Message: fmt.Sprintf("A bundle with the name %s already exists in this account and Region.", b.Name)}
		case errors.Is(err, store.ErrLimitExceeded):
			return nil, &api.ResourceLimitExceededException{Message: fmt.Sprintf(
				"Your account has reached its limit of %d bundles in %s. Delete bundles you no longer need.", s.cfg.BundleQuota, req.region)}
		default:
			return nil, storeError(err)
		}
	}
}

// DescribeWorkspaceBundles lists the caller's custom bundles in the Region
// (Owner absent or the caller's account id), the public ones (Owner AMAZON),
// or the bundles with the given ids among both.
func (s *Service) DescribeWorkspaceBundles(ctx context.Context, in *api.DescribeWorkspaceBundlesInput) (*api.DescribeWorkspaceBundlesOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.BundleIds) > 0 && in.Owner != nil {
		return nil, invalidParameter("BundleIds and Owner can't be combined: filter by bundle id or by owner, not both.")
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspaceBundlesOutput{Bundles: []api.WorkspaceBundle{}}
	if len(in.BundleIds) > 0 {
		// At most 25 ids: one page, in id order like the listings.
		ids := slices.Clone(in.BundleIds)
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			if pb, ok := amazonBundle(id); ok {
				out.Bundles = append(out.Bundles, pb)
				continue
			}
			var b bundle
			_, found, err := loadJSON(ctx, s.store, bundleKey(req.account, req.region, id), &b)
			if err != nil {
				return nil, err
			}
			if found {
				out.Bundles = append(out.Bundles, b.toAPI())
			}
		}
		return out, nil
	}
	switch owner := api.ToString(in.Owner); owner {
	case AmazonOwner:
		for _, pb := range amazonBundles {
			if *pb.BundleId <= after {
				continue
			}
			if len(out.Bundles) == bundlePage {
				out.NextToken = encodeToken(*out.Bundles[len(out.Bundles)-1].BundleId)
				break
			}
			out.Bundles = append(out.Bundles, pb)
		}
		return out, nil
	case "", req.account:
	default:
		return nil, invalidParameter("The owner %s is not valid: specify AMAZON for the public bundles, or leave Owner out for your own bundles.", owner)
	}
	recs, err := s.store.List(ctx, store.Scope{Account: req.account, Region: req.region, Kind: kindBundleRecord}, after, bundlePage+1)
	if err != nil {
		return nil, storeError(err)
	}
	for i, rec := range recs {
		if i == bundlePage {
			out.NextToken = encodeToken(recs[i-1].ID)
			break
		}
		var b bundle
		if err := json.Unmarshal(rec.Body, &b); err != nil {
			return nil, fmt.Errorf("decode bundle %s: %w", rec.ID, err)
		}
		out.Bundles = append(out.Bundles, b.toAPI())
	}
	return out, nil
}

// ownBundle loads a bundle of the caller for an owner-only operation.
func ownBundle(ctx context.Context, tx store.Tx, req request, id, what string) (*store.Record, *bundle, error) {
	if _, ok := amazonBundle(id); ok {
		return nil, nil, &api.AccessDeniedException{Message: fmt.Sprintf(
			"The bundle %s is a public bundle owned by AMAZON; only custom bundles of your account can be %s.", id, what)}
	}
	var b bundle
	rec, found, err := loadJSON(ctx, tx, bundleKey(req.account, req.region, id), &b)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, notFound(id, "The bundle %s could not be found in this account and Region.", id)
	}
	return rec, &b, nil
}

// UpdateWorkspaceBundle switches a custom bundle to another image, under the
// same rules as creating one.
func (s *Service) UpdateWorkspaceBundle(ctx context.Context, in *api.UpdateWorkspaceBundleInput) (*api.UpdateWorkspaceBundleOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if in.BundleId == nil {
		return nil, invalidParameter("BundleId is required: give the bundle to update.")
	}
	if in.ImageId == nil {
		return nil, invalidParameter("ImageId is required: give the image the bundle should use.")
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		rec, b, err := ownBundle(ctx, tx, req, *in.BundleId, "updated")
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
		b.ImageID, b.ImageOwner, b.LastUpdated = ref.img.ID, ref.img.Owner, req.now
		if rec.Body, err = json.Marshal(b); err != nil {
			return err
		}
		return tx.Put(ctx, rec)
	})
	if err != nil {
		return nil, storeError(err)
	}
	return &api.UpdateWorkspaceBundleOutput{}, nil
}

// DeleteWorkspaceBundle deletes a custom bundle of the caller, which frees
// its name, its place in the quota and its image for deletion.
func (s *Service) DeleteWorkspaceBundle(ctx context.Context, in *api.DeleteWorkspaceBundleInput) (*api.DeleteWorkspaceBundleOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if in.BundleId == nil {
		return nil, invalidParameter("BundleId is required: give the bundle to delete.")
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		rec, _, err := ownBundle(ctx, tx, req, *in.BundleId, "deleted")
		if err != nil {
			return err
		}
		return tx.Delete(ctx, rec.Key)
	})
	if err != nil {
		return nil, storeError(err)
	}
	return &api.DeleteWorkspaceBundleOutput{}, nil
}
