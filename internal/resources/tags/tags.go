// Package tags is CreateTags, DeleteTags and DescribeTags on every taggable
// resource kind (package records says which kinds are).
package tags

import (
	"context"
	"fmt"
	"slices"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// Service implements the tag operations.
type Service struct{ env *kit.Env }

// New returns the tag operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the tag operations to r.
func (s *Service) Register(r *api.Registry) {
	api.Handle(r, api.OpCreateTags, s.CreateTags)
	api.Handle(r, api.OpDeleteTags, s.DeleteTags)
	api.Handle(r, api.OpDescribeTags, s.DescribeTags)
}

func resourceNotFound(id string) error {
	return kit.NotFound(id, "The resource %s could not be found in this account and Region.", id)
}

// change applies fn to the caller's resource's tags in one transaction.
func (s *Service) change(ctx context.Context, id string, fn func([]api.Tag) ([]api.Tag, error)) error {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return err
	}
	found, err := records.ChangeTags(ctx, s.env.DB, req.Account, req.Region, id, req.Now, fn)
	if err == nil && !found {
		err = resourceNotFound(id)
	}
	return err
}

// CreateTags adds tags to a resource, replacing the value of keys it
// already has; the result may hold at most kit.MaxTags tags.
func (s *Service) CreateTags(ctx context.Context, in *api.CreateTagsInput) (*api.CreateTagsOutput, error) {
	add, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.change(ctx, *in.ResourceId, func(tags []api.Tag) ([]api.Tag, error) {
		for _, t := range add {
			i := slices.IndexFunc(tags, func(have api.Tag) bool { return *have.Key == *t.Key })
			if i < 0 {
				tags = append(tags, t)
			} else {
				tags[i].Value = t.Value
			}
		}
		if len(tags) > kit.MaxTags {
			return nil, &api.ResourceLimitExceededException{Message: fmt.Sprintf(
				"The resource %s would have %d tags; a resource can have at most %d.", *in.ResourceId, len(tags), kit.MaxTags)}
		}
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateTagsOutput{}, nil
}

// DeleteTags removes the tags with the given keys; keys the resource does
// not have are ignored.
func (s *Service) DeleteTags(ctx context.Context, in *api.DeleteTagsInput) (*api.DeleteTagsOutput, error) {
	for _, k := range in.TagKeys {
		if err := kit.CheckTagKey(k); err != nil {
			return nil, err
		}
	}
	err := s.change(ctx, *in.ResourceId, func(tags []api.Tag) ([]api.Tag, error) {
		kept := tags[:0]
		for _, t := range tags {
			if !slices.Contains(in.TagKeys, *t.Key) {
				kept = append(kept, t)
			}
		}
		return kept, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteTagsOutput{}, nil
}

// DescribeTags returns a resource's tags in the order they were first added.
func (s *Service) DescribeTags(ctx context.Context, in *api.DescribeTagsInput) (*api.DescribeTagsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	tags, found, err := records.Tags(ctx, s.env.DB, req.Account, req.Region, *in.ResourceId, req.Now)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, resourceNotFound(*in.ResourceId)
	}
	if tags == nil {
		tags = []api.Tag{}
	}
	return &api.DescribeTagsOutput{TagList: tags}, nil
}
