package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/store"
)

// taggableKinds maps a resource id prefix to the store kind that holds such
// resources. Every record of these kinds keeps its tags in a top-level
// "tags" array of api.Tag, so a new taggable kind needs only a line here.
// Ids of kinds wsim does not hold yet (directories d-, WorkSpaces ws-, IP
// groups wsipg-, connection aliases wsca-, pools wspool-) find nothing.
var taggableKinds = []struct{ prefix, kind string }{
	{"wsi-", kindImage},
	{"wsb-", kindBundleRecord},
}

// taggableKey is where the caller's resource id lives: only resources of
// the caller's account and Region are taggable, so an image shared with the
// caller is not found (its tags are its owner's).
func taggableKey(req request, id string) (store.Key, bool) {
	for _, t := range taggableKinds {
		if strings.HasPrefix(id, t.prefix) {
			return store.Key{Account: req.account, Region: req.region, Kind: t.kind, ID: id}, true
		}
	}
	return store.Key{}, false
}

func resourceNotFound(id string) error {
	return notFound(id, "The resource %s could not be found in this account and Region.", id)
}

// tagsOf reads the "tags" member of a record body, keeping every other
// member as it is.
func tagsOf(rec *store.Record) (map[string]json.RawMessage, []api.Tag, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		return nil, nil, fmt.Errorf("decode %s/%s: %w", rec.Kind, rec.ID, err)
	}
	var tags []api.Tag
	if raw, ok := body["tags"]; ok {
		if err := json.Unmarshal(raw, &tags); err != nil {
			return nil, nil, fmt.Errorf("decode tags of %s/%s: %w", rec.Kind, rec.ID, err)
		}
	}
	return body, tags, nil
}

// changeTags applies fn to the resource's tags in one transaction: a
// read-modify-write whose Put carries the version it read, so concurrent
// tag changes never lose one another.
func (s *Service) changeTags(ctx context.Context, id string, fn func([]api.Tag) ([]api.Tag, error)) error {
	req, err := s.begin(ctx)
	if err != nil {
		return err
	}
	key, ok := taggableKey(req, id)
	if !ok {
		return resourceNotFound(id)
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		rec, found, err := loadJSON(ctx, tx, key, &json.RawMessage{})
		if err != nil {
			return err
		}
		if !found {
			return resourceNotFound(id)
		}
		body, tags, err := tagsOf(rec)
		if err != nil {
			return err
		}
		if tags, err = fn(tags); err != nil {
			return err
		}
		if len(tags) == 0 {
			delete(body, "tags")
		} else if body["tags"], err = json.Marshal(tags); err != nil {
			return err
		}
		if rec.Body, err = json.Marshal(body); err != nil {
			return err
		}
		return tx.Put(ctx, rec)
	})
	if err != nil {
		return storeError(err)
	}
	return nil
}

// CreateTags adds tags to a resource, replacing the value of keys it
// already has; the result may hold at most MaxTags tags.
func (s *Service) CreateTags(ctx context.Context, in *api.CreateTagsInput) (*api.CreateTagsOutput, error) {
	add, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.changeTags(ctx, *in.ResourceId, func(tags []api.Tag) ([]api.Tag, error) {
		for _, t := range add {
			i := indexTag(tags, *t.Key)
			if i < 0 {
				tags = append(tags, t)
			} else {
				tags[i].Value = t.Value
			}
		}
		if len(tags) > MaxTags {
			return nil, &api.ResourceLimitExceededException{Message: fmt.Sprintf(
				"The resource %s would have %d tags; a resource can have at most %d.", *in.ResourceId, len(tags), MaxTags)}
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
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, invalidParameter("The tag key %s is not valid: keys beginning with aws: are reserved for AWS use.", k)
		}
	}
	err := s.changeTags(ctx, *in.ResourceId, func(tags []api.Tag) ([]api.Tag, error) {
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
	req, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	key, ok := taggableKey(req, *in.ResourceId)
	if !ok {
		return nil, resourceNotFound(*in.ResourceId)
	}
	rec, found, err := loadJSON(ctx, s.store, key, &json.RawMessage{})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, resourceNotFound(*in.ResourceId)
	}
	_, tags, err := tagsOf(rec)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []api.Tag{}
	}
	return &api.DescribeTagsOutput{TagList: tags}, nil
}

func indexTag(tags []api.Tag, key string) int {
	for i, t := range tags {
		if *t.Key == key {
			return i
		}
	}
	return -1
}
