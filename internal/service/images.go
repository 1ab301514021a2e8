package service

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	// SharedWith lists, in ascending order, the accounts the image is shared
	// with in its Region. Each has a mirror record (kindImageShare) in its
	// own scope, written in the same transaction.
	SharedWith []string `json:"sharedWith,omitempty"`
	// ComponentsAt is when the image last received the WorkSpaces components
	// and drivers; zero means when its own plan finished. Copies inherit it
	// from their source, because copying installs nothing.
	ComponentsAt time.Time `json:"componentsAt,omitzero"`
	// Exactly one of these says how the image was made.
	CustomImport *customImport `json:"customImport,omitempty"`
	LegacyImport *legacyImport `json:"legacyImport,omitempty"`
	Copy         *imageCopy    `json:"copy,omitempty"`
	Update       *imageUpdate  `json:"update,omitempty"`
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

// available reports whether the image is AVAILABLE at now.
func (img *image) available(now time.Time) bool {
	st := img.Plan.At(now)
	return st.Done && !st.Failed
}

// toAPI is the image as its owner sees it in DescribeWorkspaceImages.
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
		Updates:         img.updates(st, now),
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

// sharedAPI is the image as an account it is shared with sees it: the same,
// with the owner's account id and original creation date, but without
// Updates, which only the owner can act on.
func (img *image) sharedAPI(now time.Time) api.WorkspaceImage {
	out := img.toAPI(now)
	out.Updates = nil
	return out
}

// imageRef is an image as one caller may see it.
type imageRef struct {
	img   image
	rec   *store.Record
	owned bool // false: shared with the caller by img.Owner
}

// visibleImage finds id in region as account sees it: its own image, or one
// another account shared with it there. It returns nil when there is neither.
func visibleImage(ctx context.Context, g getter, account, region, id string) (*imageRef, error) {
	ref := &imageRef{owned: true}
	rec, found, err := loadJSON(ctx, g, imageKey(account, region, id), &ref.img)
	if err != nil || found {
		ref.rec = rec
		return ref, err
	}
	var sh imageShare
	_, found, err = loadJSON(ctx, g, imageShareKey(account, region, id), &sh)
	if err != nil || !found {
		return nil, err
	}
	ref = &imageRef{owned: false}
	rec, found, err = loadJSON(ctx, g, imageKey(sh.Owner, region, id), &ref.img)
	if err != nil || !found {
		// A grant is removed with its image in one transaction, so this
		// only happens to a store edited by hand; treat it as unshared.
		return nil, err
	}
	ref.rec = rec
	return ref, nil
}

// notOwner is the answer to an owner-only operation on an image that another
// account shared with the caller.
func notOwner(img *image, what string) error {
	return &api.AccessDeniedException{Message: fmt.Sprintf(
		"The image %s is owned by account %s and shared with your account; only its owner can %s. Copy it into your account with CopyWorkspaceImage to get an image of your own.",
		img.ID, img.Owner, what)}
}

// Which half of the catalogue a page position is in: the caller's own images
// come first, then the images shared with it.
const (
	phaseOwned  = "o"
	phaseShared = "s"
)

// imagePage is where the next page of DescribeWorkspaceImages starts: after
// image id `after` of phase.
type imagePage struct {
	phase, after string
}

// covers reports whether the image (phase, id) is at or before p, that is
// on an earlier page.
func (p imagePage) covers(phase, id string) bool {
	if p.phase != phase {
		return phase == phaseOwned // p is in the shared phase: every owned image is behind it
	}
	return id <= p.after
}

// DescribeWorkspaceImages lists the images the caller owns in the Region and
// those other accounts shared with it there: owned ones first, then shared
// ones, each by id, a page at a time.
func (s *Service) DescribeWorkspaceImages(ctx context.Context, in *api.DescribeWorkspaceImagesInput) (*api.DescribeWorkspaceImagesOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	page, err := decodeImagePage(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := int(api.ToInt32(in.MaxResults, 25))
	imageType := api.ToString(in.ImageType)
	wantOwned, wantShared := imageType != api.ImageTypeShared, imageType != api.ImageTypeOwned

	var refs []*imageRef
	var next *string
	if len(in.ImageIds) > 0 {
		refs, next, err = s.imagesByID(ctx, req, in.ImageIds, wantOwned, wantShared, page, limit)
	} else {
		refs, next, err = s.listImages(ctx, req, wantOwned, wantShared, page, limit)
	}
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspaceImagesOutput{Images: make([]api.WorkspaceImage, 0, len(refs)), NextToken: next}
	for _, r := range refs {
		if r.owned {
			out.Images = append(out.Images, r.img.toAPI(req.now))
		} else {
			out.Images = append(out.Images, r.img.sharedAPI(req.now))
		}
	}
	return out, nil
}

// imagesByID looks up each requested id once, leaves out those the caller
// cannot see, and pages through the rest in the listing's order.
func (s *Service) imagesByID(ctx context.Context, req request, ids []string, wantOwned, wantShared bool, page imagePage, limit int) ([]*imageRef, *string, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var owned, shared []*imageRef
	for _, id := range ids {
		ref, err := visibleImage(ctx, s.store, req.account, req.region, id)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case ref == nil:
		case ref.owned && wantOwned:
			owned = append(owned, ref)
		case !ref.owned && wantShared:
			shared = append(shared, ref)
		}
	}
	var out []*imageRef
	for _, ref := range append(owned, shared...) {
		phase := phaseOwned
		if !ref.owned {
			phase = phaseShared
		}
		if page.covers(phase, ref.img.ID) {
			continue
		}
		if len(out) == limit {
			last := out[len(out)-1]
			return out, last.pageToken(), nil
		}
		out = append(out, ref)
	}
	return out, nil, nil
}

func (r *imageRef) pageToken() *string {
	if r.owned {
		return encodeImagePage(imagePage{phaseOwned, r.img.ID})
	}
	return encodeImagePage(imagePage{phaseShared, r.img.ID})
}

// listImages reads one page of the caller's images from the store: the owned
// phase from the caller's image scope, the shared phase from the grants
// mirrored into the caller's scope.
func (s *Service) listImages(ctx context.Context, req request, wantOwned, wantShared bool, page imagePage, limit int) ([]*imageRef, *string, error) {
	var out []*imageRef
	if page.phase == phaseOwned {
		if wantOwned {
			recs, err := s.store.List(ctx, store.Scope{Account: req.account, Region: req.region, Kind: kindImage}, page.after, limit+1)
			if err != nil {
				return nil, nil, storeError(err)
			}
			for _, rec := range recs {
				if len(out) == limit {
					return out, encodeImagePage(imagePage{phaseOwned, out[len(out)-1].img.ID}), nil
				}
				ref := &imageRef{rec: rec, owned: true}
				if err := json.Unmarshal(rec.Body, &ref.img); err != nil {
					return nil, nil, fmt.Errorf("decode image %s: %w", rec.ID, err)
				}
				out = append(out, ref)
			}
		}
		page = imagePage{phase: phaseShared}
	}
	if !wantShared {
		return out, nil, nil
	}
	scope := store.Scope{Account: req.account, Region: req.region, Kind: kindImageShare}
	after := page.after
	for {
		if len(out) == limit {
			more, err := s.store.List(ctx, scope, after, 1)
			if err != nil {
				return nil, nil, storeError(err)
			}
			if len(more) > 0 {
				return out, encodeImagePage(imagePage{phaseShared, after}), nil
			}
			return out, nil, nil
		}
		recs, err := s.store.List(ctx, scope, after, limit-len(out))
		if err != nil {
			return nil, nil, storeError(err)
		}
		if len(recs) == 0 {
			return out, nil, nil
		}
		for _, rec := range recs {
			after = rec.ID
			var sh imageShare
			if err := json.Unmarshal(rec.Body, &sh); err != nil {
				return nil, nil, fmt.Errorf("decode image share %s: %w", rec.ID, err)
			}
			ref := &imageRef{owned: false}
			imgRec, found, err := loadJSON(ctx, s.store, imageKey(sh.Owner, req.region, rec.ID), &ref.img)
			if err != nil {
				return nil, nil, err
			}
			// A grant is removed with its image in one transaction, so a
			// grant without an image is only seen in a store edited by hand.
			if found {
				ref.rec = imgRec
				out = append(out, ref)
			}
		}
	}
}

// DeleteWorkspaceImage deletes an image the caller owns, freeing its name and
// its place in the quota. An image still importing or copying can't be
// deleted, nor one that is shared or that a bundle uses. An id the caller
// has no image of succeeds, as deleting is idempotent (a wsim choice: the
// model lists no ResourceNotFoundException here).
func (s *Service) DeleteWorkspaceImage(ctx context.Context, in *api.DeleteWorkspaceImageInput) (*api.DeleteWorkspaceImageOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	id := *in.ImageId
	err = s.store.Update(ctx, func(tx store.Tx) error {
		ref, err := visibleImage(ctx, tx, req.account, req.region, id)
		if err != nil {
			return err
		}
		if ref == nil {
			return nil
		}
		img := &ref.img
		if !ref.owned {
			return notOwner(img, "delete it")
		}
		if !img.Plan.At(req.now).Done {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The image %s is %s and can't be deleted until it is AVAILABLE or ERROR.", id, api.WorkspaceImageStatePending)}
		}
		if n := len(img.SharedWith); n > 0 {
			return &api.ResourceAssociatedException{Message: fmt.Sprintf(
				"The image %s is shared with %d account(s) (%s). Unshare it first with UpdateWorkspaceImagePermission and AllowCopyImage false, then delete it.",
				id, n, strings.Join(img.SharedWith, ", "))}
		}
		bundles, err := bundlesUsing(ctx, tx, img.Owner, img.Region, id)
		if err != nil {
			return err
		}
		if len(bundles) > 0 {
			return &api.ResourceAssociatedException{Message: fmt.Sprintf(
				"The image %s is used by bundle(s) %s. Delete those bundles first, then delete the image.",
				id, strings.Join(bundles, ", "))}
		}
		return tx.Delete(ctx, ref.rec.Key)
	})
	if err != nil {
		return nil, storeError(err)
	}
	return &api.DeleteWorkspaceImageOutput{}, nil
}

// bundlesUsing returns the ids of the bundles in the account and Region that
// are built on image id.
func bundlesUsing(ctx context.Context, tx store.Tx, account, region, id string) ([]string, error) {
	recs, err := tx.List(ctx, store.Scope{Account: account, Region: region, Kind: kindBundleRecord}, "", 0)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, rec := range recs {
		var b struct {
			ImageID string `json:"imageId"`
		}
		if err := json.Unmarshal(rec.Body, &b); err != nil {
			return nil, fmt.Errorf("decode bundle %s: %w", rec.ID, err)
		}
		if b.ImageID == id {
			ids = append(ids, rec.ID)
		}
	}
	return ids, nil
}

// DescribeImageAssociations lists the applications associated with an image.
// wsim has no WorkSpaces applications yet, so an image the caller owns or
// that is shared with it has none; bundles are not an associated resource
// type the model allows here.
func (s *Service) DescribeImageAssociations(ctx context.Context, in *api.DescribeImageAssociationsInput) (*api.DescribeImageAssociationsOutput, error) {
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	ref, err := visibleImage(ctx, s.store, req.account, req.region, *in.ImageId)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, imageNotFound(*in.ImageId)
	}
	return &api.DescribeImageAssociationsOutput{Associations: []api.ImageResourceAssociation{}}, nil
}

func imageNotFound(id string) error {
	return notFound(id, "The image %s could not be found in this account and Region.", id)
}

// Page tokens of DescribeWorkspaceImages: the phase and the last image id of
// the page, encoded. "v1:<id>" tokens from earlier versions mean the owned
// phase.
func encodeImagePage(p imagePage) *string {
	return api.String(base64.RawURLEncoding.EncodeToString([]byte("i2:" + p.phase + ":" + p.after)))
}

func decodeImagePage(tok *string) (imagePage, error) {
	if tok == nil {
		return imagePage{phase: phaseOwned}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err == nil {
		s := string(raw)
		if id, ok := strings.CutPrefix(s, "v1:"); ok {
			return imagePage{phaseOwned, id}, nil
		}
		if rest, ok := strings.CutPrefix(s, "i2:"); ok {
			phase, after, ok := strings.Cut(rest, ":")
			if ok && (phase == phaseOwned || phase == phaseShared) {
				return imagePage{phase, after}, nil
			}
		}
	}
	return imagePage{}, invalidToken()
}

func invalidToken() error {
	return &api.Error{Code: "ValidationException", Status: 400, Message: "The NextToken is not valid: pass the NextToken of the previous response unchanged."}
}

// Pagination tokens of single-phase listings are opaque to clients: the last
// id of the page, encoded.
func encodeToken(lastID string) *string {
	return api.String(base64.RawURLEncoding.EncodeToString([]byte("v1:" + lastID)))
}

func decodeToken(tok *string) (string, error) {
	if tok == nil {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || len(raw) < 3 || string(raw[:3]) != "v1:" {
		return "", invalidToken()
	}
	return string(raw[3:]), nil
}
