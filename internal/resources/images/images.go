// Package images is the WorkSpaces image catalogue: the BYOL imports (the
// custom pipeline and the older ImportWorkspaceImage), copies, updated
// images, sharing, listing and deleting, and the image pipelines the
// dashboard shows.
package images

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// Service implements the image operations.
type Service struct{ env *kit.Env }

// New returns the image operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the image operations to r.
func (s *Service) Register(r *api.Registry) {
	api.Handle(r, api.OpImportCustomWorkspaceImage, s.ImportCustomWorkspaceImage)
	api.Handle(r, api.OpDescribeCustomWorkspaceImageImport, s.DescribeCustomWorkspaceImageImport)
	api.Handle(r, api.OpImportWorkspaceImage, s.ImportWorkspaceImage)
	api.Handle(r, api.OpCopyWorkspaceImage, s.CopyWorkspaceImage)
	api.Handle(r, api.OpCreateUpdatedWorkspaceImage, s.CreateUpdatedWorkspaceImage)
	api.Handle(r, api.OpDescribeWorkspaceImages, s.DescribeWorkspaceImages)
	api.Handle(r, api.OpDeleteWorkspaceImage, s.DeleteWorkspaceImage)
	api.Handle(r, api.OpDescribeImageAssociations, s.DescribeImageAssociations)
	api.Handle(r, api.OpUpdateWorkspaceImagePermission, s.UpdateWorkspaceImagePermission)
	api.Handle(r, api.OpDescribeWorkspaceImagePermissions, s.DescribeWorkspaceImagePermissions)
}

// imageView holds what toAPI's answer points to.
type imageView struct {
	id, name, osType, state, tenancy, account, description string
	os                                                     api.OperatingSystem
	created                                                api.Timestamp
}

// toAPI is the image as its owner sees it in DescribeWorkspaceImages,
// pointing into v.
func toAPI(img *records.Image, now time.Time, v *imageView) api.WorkspaceImage {
	st := img.Plan.At(now)
	osType, tenancy := api.OperatingSystemTypeWindows, api.WorkspaceImageRequiredTenancyDedicated
	if w := img.Workspace; w != nil {
		// An image made from a WorkSpace is BYOL only if the WorkSpace ran
		// a BYOL image.
		if w.OSType != "" {
			osType = w.OSType
		}
		if !w.BYOL {
			tenancy = api.WorkspaceImageRequiredTenancyDefault
		}
	}
	// The answer's fields point into v instead of one allocation each: a
	// page of 25 images made some 200 allocations for them alone.
	*v = imageView{
		id: img.ID, name: img.Name, osType: osType, state: records.ImageState(st), tenancy: tenancy,
		account: img.Account, description: img.Description, created: api.Timestamp{Time: img.Created},
	}
	v.os.Type = &v.osType
	out := api.WorkspaceImage{
		ImageId:         &v.id,
		Name:            &v.name,
		OperatingSystem: &v.os,
		State:           &v.state,
		RequiredTenancy: &v.tenancy,
		Created:         &v.created,
		OwnerAccountId:  &v.account,
		Updates:         updates(img, st, now),
	}
	if img.Description != "" {
		out.Description = &v.description
	}
	if st.Failed {
		out.ErrorCode = api.String(st.ErrorCode)
		out.ErrorMessage = api.String(st.ErrorMessage)
		out.ErrorDetails = []api.ErrorDetails{{ErrorCode: api.String(st.ErrorCode), ErrorMessage: api.String(st.ErrorMessage)}}
	}
	return out
}

// refAPI is the image as the caller sees it: an account it is shared with
// sees the owner's account id and original creation date, but not Updates,
// which only the owner can act on.
func refAPI(ref *records.ImageRef, now time.Time, v *imageView) api.WorkspaceImage {
	out := toAPI(ref.Image, now, v)
	if !ref.Owned {
		out.Updates = nil
	}
	return out
}

// answerKey is what the answer of an image depends on besides its record:
// whether the caller owns it, and the members toAPI computed from the
// clock (its state, its error, its Updates). Every other member is read
// from the record alone, the owner's account id and creation date included,
// which an account it is shared with sees too.
func answerKey(ref *records.ImageRef, item *api.WorkspaceImage) string {
	seen := "s"
	if ref.Owned {
		seen = "o"
	}
	switch u := item.Updates; {
	case u == nil:
	case *u.UpdateAvailable:
		seen += "u"
	default:
		seen += "n"
	}
	if item.ErrorCode == nil {
		return seen + *item.State
	}
	return seen + *item.State + "\x00" + *item.ErrorCode + "\x00" + *item.ErrorMessage
}

// notOwner is the answer to an owner-only operation on an image that another
// account shared with the caller.
func notOwner(img *records.Image, what string) error {
	return &api.AccessDeniedException{Message: fmt.Sprintf(
		"The image %s is owned by account %s and shared with your account; only its owner can %s. Copy it into your account with CopyWorkspaceImage to get an image of your own.",
		img.ID, img.Account, what)}
}

// visible finds an image the caller may see, or answers ResourceNotFound.
func visible(ctx context.Context, r records.Reader, account, region, id string) (*records.ImageRef, error) {
	ref, err := records.VisibleImage(ctx, r, account, region, id)
	if err == nil && ref == nil {
		err = records.Images.NotFound(id)
	}
	return ref, err
}

// The two phases of the catalogue's listing, as page tokens name them: the
// caller's own images come first, then the images shared with it.
var (
	phaseOwned  = records.Images.Name
	phaseShared = records.ImageShares.Name
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

func decodeImagePage(tok *string) (imagePage, error) {
	phase, after, err := records.DecodeToken(tok, phaseOwned, phaseShared)
	return imagePage{phase, after}, err
}

func (p imagePage) token() *string { return records.EncodeToken(p.phase, p.after) }

func phaseOf(ref *records.ImageRef) string {
	if ref.Owned {
		return phaseOwned
	}
	return phaseShared
}

// DescribeWorkspaceImages lists the images the caller owns in the Region and
// those other accounts shared with it there: owned ones first, then shared
// ones, each by id, a page at a time.
func (s *Service) DescribeWorkspaceImages(ctx context.Context, in *api.DescribeWorkspaceImagesInput) (*api.DescribeWorkspaceImagesOutput, error) {
	req, err := s.env.Begin(ctx)
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

	var refs []*records.ImageRef
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
	views := make([]imageView, len(refs))
	for i, r := range refs {
		out.Images = append(out.Images, refAPI(r, req.Now, &views[i]))
		item := &out.Images[len(out.Images)-1]
		item.Encoded = records.Encoded(&r.Image.Meta, answerKey(r, item), item)
	}
	return out, nil
}

// imagesByID looks up each requested id once, leaves out those the caller
// cannot see, and pages through the rest in the listing's order.
func (s *Service) imagesByID(ctx context.Context, req kit.Request, ids []string, wantOwned, wantShared bool, page imagePage, limit int) ([]*records.ImageRef, *string, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var owned, shared []*records.ImageRef
	for _, id := range ids {
		ref, err := records.VisibleImage(ctx, s.env.DB, req.Account, req.Region, id)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case ref == nil:
		case ref.Owned && wantOwned:
			owned = append(owned, ref)
		case !ref.Owned && wantShared:
			shared = append(shared, ref)
		}
	}
	var out []*records.ImageRef
	for _, ref := range append(owned, shared...) {
		if page.covers(phaseOf(ref), ref.ID) {
			continue
		}
		if len(out) == limit {
			last := out[len(out)-1]
			return out, imagePage{phaseOf(last), last.ID}.token(), nil
		}
		out = append(out, ref)
	}
	return out, nil, nil
}

// listImages reads one page of the caller's images: the owned phase from the
// caller's images, the shared phase from the grants mirrored into the
// caller's account.
func (s *Service) listImages(ctx context.Context, req kit.Request, wantOwned, wantShared bool, page imagePage, limit int) ([]*records.ImageRef, *string, error) {
	db := s.env.DB
	out := make([]*records.ImageRef, 0, limit)
	// The page's refs are made in one allocation; a page holds at most
	// limit of them.
	refs := make([]records.ImageRef, 0, limit)
	ref := func(img *records.Image, owned bool) *records.ImageRef {
		refs = append(refs, records.ImageRef{Image: img, Owned: owned})
		return &refs[len(refs)-1]
	}
	if page.phase == phaseOwned {
		if wantOwned {
			imgs, more, err := records.Images.After(ctx, db, req.Account, req.Region, page.after, limit)
			if err != nil {
				return nil, nil, err
			}
			for _, img := range imgs {
				out = append(out, ref(img, true))
			}
			if more {
				return out, imagePage{phaseOwned, out[len(out)-1].ID}.token(), nil
			}
		}
		page = imagePage{phase: phaseShared}
	}
	if !wantShared {
		return out, nil, nil
	}
	after := page.after
	for {
		if len(out) == limit {
			rest, _, err := records.ImageShares.After(ctx, db, req.Account, req.Region, after, 1)
			if err != nil || len(rest) == 0 {
				return out, nil, err
			}
			return out, imagePage{phaseShared, after}.token(), nil
		}
		shares, more, err := records.ImageShares.After(ctx, db, req.Account, req.Region, after, limit-len(out))
		if err != nil {
			return nil, nil, err
		}
		for _, sh := range shares {
			after = sh.ID
			img, err := records.Images.Find(ctx, db, sh.Owner, req.Region, sh.ID)
			if err != nil {
				return nil, nil, err
			}
			// A grant is removed with its image in one transaction, so a
			// grant without an image is only seen in a store edited by hand.
			if img != nil {
				out = append(out, ref(img, false))
			}
		}
		if !more {
			return out, nil, nil
		}
	}
}

// DeleteWorkspaceImage deletes an image the caller owns, freeing its name and
// its place in the quota. An image still importing or copying can't be
// deleted, nor one that is shared or that a bundle uses. An id the caller
// has no image of succeeds, as deleting is idempotent (a wsim choice: the
// model lists no ResourceNotFoundException here).
func (s *Service) DeleteWorkspaceImage(ctx context.Context, in *api.DeleteWorkspaceImageInput) (*api.DeleteWorkspaceImageOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	id := *in.ImageId
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		ref, err := records.VisibleImage(ctx, tx, req.Account, req.Region, id)
		if err != nil || ref == nil {
			return err
		}
		if !ref.Owned {
			return notOwner(ref.Image, "delete it")
		}
		if !ref.Plan.At(req.Now).Done {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The image %s is %s and can't be deleted until it is AVAILABLE or ERROR.", id, api.WorkspaceImageStatePending)}
		}
		if n := len(ref.SharedWith); n > 0 {
			return &api.ResourceAssociatedException{Message: fmt.Sprintf(
				"The image %s is shared with %d account(s) (%s). Unshare it first with UpdateWorkspaceImagePermission and AllowCopyImage false, then delete it.",
				id, n, strings.Join(ref.SharedWith, ", "))}
		}
		bundles, err := records.BundlesUsing(ctx, tx, ref.Account, ref.Region, id)
		if err != nil {
			return err
		}
		if len(bundles) > 0 {
			return &api.ResourceAssociatedException{Message: fmt.Sprintf(
				"The image %s is used by bundle(s) %s. Delete those bundles first, then delete the image.",
				id, strings.Join(bundles, ", "))}
		}
		users, err := records.LiveWorkspacesWhere(ctx, tx, ref.Account, ref.Region, req.Now, func(w *records.Workspace) bool { return w.ImageID == id })
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return &api.ResourceAssociatedException{Message: fmt.Sprintf(
				"The image %s is used by WorkSpace(s) %s. Terminate those WorkSpaces or migrate them to another bundle, then delete the image.",
				id, strings.Join(users, ", "))}
		}
		return records.Images.Delete(ctx, tx, ref.Image)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteWorkspaceImageOutput{}, nil
}

// DescribeImageAssociations lists the applications associated with an image.
// wsim has no WorkSpaces applications yet, so an image the caller owns or
// that is shared with it has none; bundles are not an associated resource
// type the model allows here.
func (s *Service) DescribeImageAssociations(ctx context.Context, in *api.DescribeImageAssociationsInput) (*api.DescribeImageAssociationsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := visible(ctx, s.env.DB, req.Account, req.Region, *in.ImageId); err != nil {
		return nil, err
	}
	return &api.DescribeImageAssociationsOutput{Associations: []api.ImageResourceAssociation{}}, nil
}

// Sources are the image pipelines: every image has one, however it was made.
func (s *Service) Sources() []dashboard.Source {
	kinds := []pipeline.Kind{pipeline.KindCustomImport, pipeline.KindLegacyImport, pipeline.KindCopy, pipeline.KindUpdate, records.KindWorkspaceImage}
	return []dashboard.Source{dashboard.KindSource(s.env.DB, records.Images, kinds, imagePipeline)}
}

func imagePipeline(img *records.Image, now time.Time) dashboard.Pipeline {
	st := img.Plan.At(now)
	state := records.ImageState(st)
	if img.CustomImport != nil {
		state = st.State
	}
	p := dashboard.New(img.Plan, now, state)
	p.Account, p.Region, p.ResourceID = img.Account, img.Region, img.ID
	p.Name, p.Description, p.Created = img.Name, img.Description, img.Created
	switch {
	case img.CustomImport != nil:
		p.Source = sourceID(&img.CustomImport.Source)
	case img.LegacyImport != nil:
		p.Source = img.LegacyImport.Ec2ImageID
	case img.Copy != nil:
		p.Source = img.Copy.SourceRegion + "/" + img.Copy.SourceImageID
	case img.Update != nil:
		p.Source = img.Update.SourceImageID
	case img.Workspace != nil:
		p.Source = img.Workspace.WorkspaceID
	}
	return p
}

// CatalogSources are the images and the images shared with each account, as
// the dashboard's catalogue lists them.
func (s *Service) CatalogSources() []dashboard.CatalogSource {
	return []dashboard.CatalogSource{
		dashboard.KindCatalog(s.env.DB, "image", records.Images, imageResource),
		dashboard.KindCatalog(s.env.DB, "image-share", records.ImageShares, s.shareResource),
	}
}

func imageResource(_ context.Context, img *records.Image, now time.Time) (dashboard.Resource, error) {
	r := dashboard.Resource{
		Name: img.Name, Description: img.Description, State: img.State(now), Created: img.Created,
		Tags: tagMap(img.Tags), Attributes: map[string]string{"origin": string(img.Plan.Kind)},
	}
	for _, acct := range img.SharedWith {
		r.Relations = append(r.Relations, dashboard.Relation{Type: dashboard.RelSharedWith, Account: acct})
	}
	switch {
	case img.Copy != nil:
		r.Relations = append(r.Relations, dashboard.Relation{Type: dashboard.RelCopyOf, Account: img.Copy.SourceOwner, Region: img.Copy.SourceRegion, ID: img.Copy.SourceImageID})
	case img.Update != nil:
		r.Relations = append(r.Relations, dashboard.Relation{Type: dashboard.RelUpdatedFrom, Account: img.Account, Region: img.Region, ID: img.Update.SourceImageID})
	case img.CustomImport != nil:
		r.Attributes["source"] = sourceID(&img.CustomImport.Source)
	case img.LegacyImport != nil:
		r.Attributes["source"] = img.LegacyImport.Ec2ImageID
	case img.Workspace != nil:
		r.Attributes["source"] = img.Workspace.WorkspaceID
	}
	if st := img.Plan.At(now); st.Done && !st.Failed && updateAvailable(img, now) {
		r.Attributes["updateAvailable"] = "true"
	}
	return r, nil
}

// shareResource is an image as the account it is shared with sees it.
func (s *Service) shareResource(ctx context.Context, sh *records.ImageShare, now time.Time) (dashboard.Resource, error) {
	r := dashboard.Resource{Created: sh.Shared, Relations: []dashboard.Relation{{Type: dashboard.RelSharedBy, Account: sh.Owner, Region: sh.Region, ID: sh.ID}}}
	img, err := records.Images.Find(ctx, s.env.DB, sh.Owner, sh.Region, sh.ID)
	if err != nil || img == nil {
		return r, err
	}
	r.Name, r.Description, r.State = img.Name, img.Description, img.State(now)
	return r, nil
}

func tagMap(tags []api.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	return kit.TagMap(tags)
}
