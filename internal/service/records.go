package service

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// Store kinds of the records this package keeps.
const (
	kindImage = "image"
	// kindImageShare mirrors a grant of UpdateWorkspaceImagePermission in the
	// grantee's scope, so the images shared with an account are one List.
	kindImageShare = "image-share"
	// kindBundleRecord is part B's bundle kind; images read it only to refuse
	// deleting an image a bundle uses.
	kindBundleRecord = "bundle"
	kindSetting      = "setting"
)

// getter is what both a store.Store and a store.Tx offer for reading one record.
type getter interface {
	Get(context.Context, store.Key) (*store.Record, error)
}

// loadJSON reads the record at k into v; found is false for a missing record.
func loadJSON(ctx context.Context, st getter, k store.Key, v any) (rec *store.Record, found bool, err error) {
	rec, err = st.Get(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeError(err)
	}
	if err := json.Unmarshal(rec.Body, v); err != nil {
		return nil, false, fmt.Errorf("decode %s/%s: %w", k.Kind, k.ID, err)
	}
	return rec, true, nil
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by n random characters of [0-9a-z], the form
// of WorkSpaces resource ids (wsi-ten5h0y19).
func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		// 252 = 7*36 keeps the distribution uniform enough for ids; the
		// rejected bytes would only matter for cryptographic use.
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// scriptedFailure returns how a new long-running operation is scripted to
// fail: from its wsim:fail-at tags, else from the first fault rule matching
// subject, else nil.
func (s *Service) scriptedFailure(ctx context.Context, tags []api.Tag, subject pipeline.Subject) (*pipeline.Failure, error) {
	failure, err := pipeline.ParseFailureTags(subject.Kind, tagMap(tags))
	if err != nil {
		return nil, invalidParameter("%v", err)
	}
	if failure != nil {
		return failure, nil
	}
	rules, err := s.FaultRules(ctx)
	if err != nil {
		return nil, err
	}
	return pipeline.MatchFailure(rules, subject), nil
}
