package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/wsim/wsim/internal/store"
)

// decodeCache keeps decoded record bodies, so that the hot describe paths
// don't decode the same JSON again and again. An entry is used only while the
// stored body is byte for byte the one it was decoded from, so it can never
// be stale, whatever the store and however many replicas write to it.
type decodeCache struct {
	mu  sync.RWMutex
	m   map[store.Key]decodedBody
	max int
}

type decodedBody struct {
	body  []byte
	value any
}

func newDecodeCache(max int) *decodeCache {
	return &decodeCache{m: make(map[store.Key]decodedBody), max: max}
}

func (c *decodeCache) lookup(rec *store.Record) (any, bool) {
	c.mu.RLock()
	d, ok := c.m[rec.Key]
	c.mu.RUnlock()
	if !ok || !bytes.Equal(d.body, rec.Body) {
		return nil, false
	}
	return d.value, true
}

func (c *decodeCache) remember(rec *store.Record, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[rec.Key]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[rec.Key] = decodedBody{body: rec.Body, value: v}
}

// decodeShared decodes rec's body into a *T that may be shared with other
// readers: callers must treat it as read-only.
func decodeShared[T any](c *decodeCache, rec *store.Record) (*T, error) {
	if v, ok := c.lookup(rec); ok {
		if t, ok := v.(*T); ok {
			return t, nil
		}
	}
	t := new(T)
	if err := json.Unmarshal(rec.Body, t); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", rec.Kind, rec.ID, err)
	}
	c.remember(rec, t)
	return t, nil
}

// readShared reads the record at k for display: nil when it doesn't exist.
// The value is shared; never modify it.
func readShared[T any](ctx context.Context, s *Service, k store.Key) (*T, error) {
	rec, err := s.store.Get(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError(err)
	}
	return decodeShared[T](s.decoded, rec)
}
