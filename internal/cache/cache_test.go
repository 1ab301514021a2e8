package cache

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// byLen costs a string value its length; keys are free.
func byLen(_ string, v string) int64 { return int64(len(v)) }

// op is one step of a scripted test: put, get, del or the final check.
type op struct {
	do   string // "put", "get", "del"
	k, v string
	// put: whether it cached; get: whether it hit (v is the wanted value).
	ok bool
}

func put(k, v string, ok bool) op { return op{do: "put", k: k, v: v, ok: ok} }
func get(k, v string) op          { return op{do: "get", k: k, v: v, ok: true} }
func miss(k string) op            { return op{do: "get", k: k} }
func del(k string) op             { return op{do: "del", k: k} }

func TestCache(t *testing.T) {
	tests := []struct {
		name      string
		max       int64
		ops       []op
		wantLen   int
		wantBytes int64
	}{
		{
			name:    "empty",
			max:     10,
			ops:     []op{miss("a")},
			wantLen: 0,
		},
		{
			name:      "put then get",
			max:       10,
			ops:       []op{put("a", "xx", true), get("a", "xx"), miss("b")},
			wantLen:   1,
			wantBytes: 2,
		},
		{
			name:      "put replaces, and the size follows",
			max:       10,
			ops:       []op{put("a", "xx", true), put("a", "yyyy", true), get("a", "yyyy")},
			wantLen:   1,
			wantBytes: 4,
		},
		{
			name:      "delete",
			max:       10,
			ops:       []op{put("a", "xx", true), put("b", "y", true), del("a"), miss("a"), get("b", "y"), del("zz")},
			wantLen:   1,
			wantBytes: 1,
		},
		{
			name: "deleting the entry under the hand moves the hand on",
			max:  3,
			ops: []op{put("a", "1", true), put("b", "1", true), put("c", "1", true), del("a"),
				put("d", "1", true), put("e", "1", true), miss("a"), miss("b"), get("c", "1"), get("d", "1"), get("e", "1")},
			wantLen:   3,
			wantBytes: 3,
		},
		{
			name:    "delete the only entry, then use the cache again",
			max:     10,
			ops:     []op{put("a", "xx", true), del("a"), miss("a"), put("b", "y", true), get("b", "y")},
			wantLen: 1, wantBytes: 1,
		},
		{
			name:      "exactly the budget fits",
			max:       4,
			ops:       []op{put("a", "xxxx", true), get("a", "xxxx")},
			wantLen:   1,
			wantBytes: 4,
		},
		{
			name:    "a value larger than the budget is not cached",
			max:     4,
			ops:     []op{put("a", "xxxxx", false), miss("a")},
			wantLen: 0,
		},
		{
			name:      "an oversized value drops the key's older value, evicting nothing else",
			max:       4,
			ops:       []op{put("a", "x", true), put("b", "y", true), put("a", "xxxxx", false), miss("a"), get("b", "y")},
			wantLen:   1,
			wantBytes: 1,
		},
		{
			name:    "zero budget stores nothing",
			max:     0,
			ops:     []op{put("a", "", false), miss("a")},
			wantLen: 0,
		},
		{
			name:      "over budget evicts the oldest unused entry",
			max:       3,
			ops:       []op{put("a", "1", true), put("b", "1", true), put("c", "1", true), put("d", "1", true), miss("a"), get("b", "1"), get("c", "1"), get("d", "1")},
			wantLen:   3,
			wantBytes: 3,
		},
		{
			name: "a used entry gets a second chance",
			max:  3,
			ops: []op{put("a", "1", true), put("b", "1", true), put("c", "1", true), get("a", "1"),
				put("d", "1", true), get("a", "1"), miss("b"), get("c", "1"), get("d", "1")},
			wantLen:   3,
			wantBytes: 3,
		},
		{
			name: "when every entry was used, the sweep comes round again",
			max:  3,
			ops: []op{put("a", "1", true), put("b", "1", true), put("c", "1", true),
				get("a", "1"), get("b", "1"), get("c", "1"), put("d", "1", true),
				miss("a"), get("b", "1"), get("c", "1"), get("d", "1")},
			wantLen:   3,
			wantBytes: 3,
		},
		{
			name: "a big value evicts as many as it needs",
			max:  4,
			ops: []op{put("a", "1", true), put("b", "1", true), put("c", "1", true), put("d", "1", true),
				put("e", "xxx", true), miss("a"), miss("b"), miss("c"), get("d", "1"), get("e", "xxx")},
			wantLen:   2,
			wantBytes: 4,
		},
		{
			name: "growing a value in place evicts others, never the value itself",
			max:  4,
			ops: []op{put("a", "1", true), put("b", "1", true), put("c", "1", true),
				get("a", "1"), get("b", "1"), get("c", "1"),
				put("b", "xxxx", true), miss("a"), get("b", "xxxx"), miss("c")},
			wantLen:   1,
			wantBytes: 4,
		},
		{
			name:      "empty values cost nothing but are cached",
			max:       1,
			ops:       []op{put("a", "", true), put("b", "", true), put("c", "x", true), get("a", ""), get("b", ""), get("c", "x")},
			wantLen:   3,
			wantBytes: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.max, byLen)
			for i, o := range tt.ops {
				switch o.do {
				case "put":
					if got := c.Put(o.k, o.v); got != o.ok {
						t.Fatalf("op %d: Put(%q, %q) = %v, want %v", i, o.k, o.v, got, o.ok)
					}
				case "get":
					v, ok := c.Get(o.k)
					if ok != o.ok || v != o.v {
						t.Fatalf("op %d: Get(%q) = %q, %v; want %q, %v", i, o.k, v, ok, o.v, o.ok)
					}
				case "del":
					c.Delete(o.k)
				}
				checkInvariants(t, c)
			}
			if got := c.Len(); got != tt.wantLen {
				t.Errorf("Len() = %d, want %d", got, tt.wantLen)
			}
			if got := c.Bytes(); got != tt.wantBytes {
				t.Errorf("Bytes() = %d, want %d", got, tt.wantBytes)
			}
		})
	}
}

func TestSizeSeesKeyAndValue(t *testing.T) {
	c := New(10, func(k string, v int) int64 { return int64(len(k) + v) })
	c.Put("abc", 2)
	if got := c.Bytes(); got != 5 {
		t.Fatalf("Bytes() = %d, want 5", got)
	}
	c.Put("neg", -100) // negative costs count as zero
	if got := c.Bytes(); got != 5 {
		t.Fatalf("after a negative cost, Bytes() = %d, want 5", got)
	}
}

// TestConcurrent hammers one cache from many goroutines; run it with -race.
// Values name their key, so a Get returning another key's value shows.
func TestConcurrent(t *testing.T) {
	const (
		goroutines = 16
		opsEach    = 5000
		keys       = 200
		max        = 1000
	)
	c := New(max, byLen)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range opsEach {
				k := strconv.Itoa(rng.IntN(keys))
				switch n := rng.IntN(10); {
				case n < 6:
					if v, ok := c.Get(k); ok && !strings.HasPrefix(v, k+":") {
						t.Errorf("Get(%q) = %q, another key's value", k, v)
						return
					}
				case n < 9:
					c.Put(k, k+":"+strings.Repeat("x", rng.IntN(40)))
				default:
					c.Delete(k)
				}
				if b := c.Bytes(); b > max {
					t.Errorf("Bytes() = %d, over the budget %d", b, max)
					return
				}
				_ = c.Len()
			}
		}()
	}
	wg.Wait()
	checkInvariants(t, c)
}

// checkInvariants checks that map, ring and byte count agree and that the
// cache is within its budget.
func checkInvariants[K comparable, V any](t *testing.T, c *Cache[K, V]) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes > max(c.max, 0) {
		t.Fatalf("bytes %d over the budget %d", c.bytes, c.max)
	}
	if c.hand == nil {
		if len(c.m) != 0 || c.bytes != 0 {
			t.Fatalf("empty ring, but %d entries of %d bytes in the map", len(c.m), c.bytes)
		}
		return
	}
	n, sum := 0, int64(0)
	for e := c.hand; ; {
		if e.next.prev != e {
			t.Fatalf("ring broken at %v", e.key)
		}
		if c.m[e.key] != e {
			t.Fatalf("ring entry %v is not the map's", e.key)
		}
		n++
		sum += e.size
		if e = e.next; e == c.hand {
			break
		}
		if n > len(c.m) {
			t.Fatalf("ring longer than the map's %d entries", len(c.m))
		}
	}
	if n != len(c.m) || sum != c.bytes {
		t.Fatalf("ring holds %d entries of %d bytes, map %d entries, count %d bytes", n, sum, len(c.m), c.bytes)
	}
}

func BenchmarkGet(b *testing.B) {
	c := New(1<<20, byLen)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
		c.Put(keys[i], strings.Repeat("x", 100))
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Get(keys[i%len(keys)])
			i++
		}
	})
}

// BenchmarkPutEvict puts ten times more than fits, so most Puts evict.
func BenchmarkPutEvict(b *testing.B) {
	const n = 10_000
	c := New(n/10*100, byLen)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(i)
	}
	v := strings.Repeat("x", 100)
	b.ResetTimer()
	for i := range b.N {
		c.Put(keys[i%n], v)
	}
}

func TestClear(t *testing.T) {
	c := New(10, byLen)
	c.Put("a", "xxx")
	c.Put("b", "yyyy")
	c.Clear()
	if _, ok := c.Get("a"); ok || c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("after Clear: len %d, bytes %d", c.Len(), c.Bytes())
	}
	// The ring starts afresh: filling past the budget evicts as usual.
	for i := range 5 {
		c.Put(strconv.Itoa(i), "xxx")
	}
	if c.Len() != 3 || c.Bytes() != 9 {
		t.Fatalf("refilled: len %d, bytes %d; want 3, 9", c.Len(), c.Bytes())
	}
}
