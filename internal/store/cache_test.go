package store

import (
	"bytes"
	"testing"
)

func cacheRec(id string, body string) *Record {
	return &Record{Key: Key{Account: "111122223333", Region: "us-east-1", Kind: "image", ID: id}, Body: []byte(body)}
}

// none marks a key the cache knows has no record.
const none = "\x00none"

func TestReadCache(t *testing.T) {
	a, b := cacheRec("a", "A1"), cacheRec("b", "B1")
	costA := recordCost(a.Key, a)
	tests := []struct {
		name string
		max  int64
		run  func(c *readCache)
		want map[string]string // ID -> cached body, or none: known to have no record; absent: not cached
	}{
		{
			name: "fill at the current generation caches",
			max:  1 << 20,
			run:  func(c *readCache) { c.fill(a, c.generation()) },
			want: map[string]string{"a": "A1"},
		},
		{
			name: "fill after a write was applied is refused",
			max:  1 << 20,
			run: func(c *readCache) {
				gen := c.generation()
				c.apply(map[Key]*Record{b.Key: cloneRecord(b)})
				c.fill(a, gen)
			},
			want: map[string]string{"b": "B1"},
		},
		{
			name: "apply replaces and deletes",
			max:  1 << 20,
			run: func(c *readCache) {
				c.fill(a, c.generation())
				c.fill(b, c.generation())
				c.apply(map[Key]*Record{a.Key: cacheRec("a", "A2"), b.Key: nil})
			},
			want: map[string]string{"a": "A2", "b": none},
		},
		{
			name: "a key read as absent is known to be absent until a write",
			max:  1 << 20,
			run: func(c *readCache) {
				c.fillAbsent(a.Key, c.generation())
				c.fillAbsent(b.Key, c.generation())
				c.apply(map[Key]*Record{b.Key: cacheRec("b", "B2")})
			},
			want: map[string]string{"a": none, "b": "B2"},
		},
		{
			name: "absence read before a write was applied is refused",
			max:  1 << 20,
			run: func(c *readCache) {
				gen := c.generation()
				c.apply(map[Key]*Record{b.Key: cacheRec("b", "B2")})
				c.fillAbsent(a.Key, gen)
			},
			want: map[string]string{"b": "B2"},
		},
		{
			name: "applying nothing leaves the generation, so fills still land",
			max:  1 << 20,
			run: func(c *readCache) {
				gen := c.generation()
				c.apply(nil)
				c.fill(a, gen)
			},
			want: map[string]string{"a": "A1"},
		},
		{
			name: "forget drops the keys and refuses fills begun before it",
			max:  1 << 20,
			run: func(c *readCache) {
				c.fill(a, c.generation())
				gen := c.generation()
				c.forget(map[Key]*Record{a.Key: cacheRec("a", "A2")})
				c.fill(b, gen)
			},
			want: map[string]string{},
		},
		{
			name: "a record over the budget is not cached and drops its older value",
			max:  costA + 10,
			run: func(c *readCache) {
				c.fill(a, c.generation())
				c.apply(map[Key]*Record{a.Key: cacheRec("a", string(make([]byte, 100)))})
			},
			want: map[string]string{},
		},
		{
			name: "the budget is in bytes: two fit, the third evicts one",
			max:  2 * costA,
			run: func(c *readCache) {
				c.fill(a, c.generation())
				c.fill(b, c.generation())
				c.get(a.Key) // used, so b goes first
				c.fill(cacheRec("c", "C1"), c.generation())
			},
			want: map[string]string{"a": "A1", "c": "C1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newReadCache(tt.max, 1<<20)
			tt.run(c)
			for _, id := range []string{"a", "b", "c"} {
				k := cacheRec(id, "").Key
				r, ok := c.get(k)
				want, wantOK := tt.want[id]
				if ok != wantOK || (ok && (r == nil) != (want == none)) || (r != nil && string(r.Body) != want) {
					t.Errorf("get(%s) = %v, %v; want %q, %v", id, r, ok, want, wantOK)
				}
			}
			if got := c.recs.Bytes(); got > tt.max {
				t.Errorf("cache holds %d bytes, over its budget %d", got, tt.max)
			}
		})
	}
}

func TestReadCacheCopies(t *testing.T) {
	c := newReadCache(1<<20, 1<<20)
	r := cacheRec("a", "A1")
	c.fill(r, c.generation())
	r.Body[0] = 'x' // the filler's copy is its own
	got, _ := c.get(r.Key)
	if !bytes.Equal(got.Body, []byte("A1")) {
		t.Fatalf("fill kept the caller's record: %s", got.Body)
	}
	got.Body[0] = 'y' // and so is the reader's
	if again, _ := c.get(r.Key); !bytes.Equal(again.Body, []byte("A1")) {
		t.Fatalf("get returned the cache's own record: %s", again.Body)
	}
}

func TestRecordCost(t *testing.T) {
	r := &Record{Key: Key{Account: "1234", Region: "rr", Kind: "k", ID: "i"}, Name: "nm", Body: []byte("body!")}
	if got, want := recordCost(r.Key, r), int64(4+2+1+1+2+5+recordOverhead); got != want {
		t.Fatalf("recordCost = %d, want %d", got, want)
	}
}
