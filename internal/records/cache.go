package records

import (
	"bytes"

	"github.com/wsim/wsim/internal/cache"
	"github.com/wsim/wsim/internal/store"
)

// decodeCache keeps decoded record bodies so that the read paths don't
// decode the same JSON again and again. An entry is used only while the
// stored body is byte for byte the one it was decoded from, so it can never
// be stale, whatever the store and however many replicas write to it.
type decodeCache struct {
	c *cache.Cache[store.Key, decoded]
}

type decoded struct {
	body  []byte
	value any
}

// decodedCost estimates the memory of an entry: the body it was decoded
// from, the decoded value (Go values of JSON documents take about twice
// their text), the answer it may keep (at most maxAnswer of the body) and
// the key.
func decodedCost(k store.Key, d decoded) int64 {
	return int64(3*len(d.body) + maxAnswer(len(d.body)) + len(k.Account) + len(k.Region) + len(k.Kind) + len(k.ID) + 256)
}

func newDecodeCache(maxBytes int64) *decodeCache {
	return &decodeCache{c: cache.New(maxBytes, decodedCost)}
}

func (c *decodeCache) lookup(rec *store.Record) (any, bool) {
	d, ok := c.c.Get(rec.Key)
	if !ok || !bytes.Equal(d.body, rec.Body) {
		return nil, false
	}
	return d.value, true
}

func (c *decodeCache) remember(rec *store.Record, v any) {
	c.c.Put(rec.Key, decoded{body: rec.Body, value: v})
}
