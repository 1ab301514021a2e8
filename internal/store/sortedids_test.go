package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedIDs runs random inserts, updates, deletes and walks against a
// map, at sizes around the chunk size and well past it.
func TestSortedIDs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ops, ids int
	}{
		{"few ids", 200, 10},
		{"one chunk", 2000, idChunkMax},
		{"many chunks", 20000, 8 * idChunkMax},
		{"mostly deletes", 5000, 3 * idChunkMax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.ops)))
			var s sortedIDs[int]
			model := map[string]int{}
			for op := range tc.ops {
				id := fmt.Sprintf("id-%05d", rng.IntN(tc.ids))
				switch r := rng.IntN(10); {
				case r < 5 || tc.name == "mostly deletes" && op < tc.ops/2:
					_, had := model[id]
					if added := s.Set(id, op); added == had {
						t.Fatalf("Set(%s) added=%v, model had it: %v", id, added, had)
					}
					model[id] = op
				case r < 8 || tc.name == "mostly deletes":
					_, had := model[id]
					if got := s.Delete(id); got != had {
						t.Fatalf("Delete(%s) = %v, model had it: %v", id, got, had)
					}
					delete(model, id)
				default:
					v, ok := s.Get(id)
					if mv, mok := model[id]; ok != mok || v != mv {
						t.Fatalf("Get(%s) = %d, %v; model %d, %v", id, v, ok, mv, mok)
					}
				}
				if s.Len() != len(model) {
					t.Fatalf("Len %d, model %d", s.Len(), len(model))
				}
			}
			want := slices.Sorted(func(yield func(string) bool) {
				for id := range model {
					if !yield(id) {
						return
					}
				}
			})
			for _, after := range []string{"", "id-", want[0], want[len(want)/2], want[len(want)-1], "id-99999", "zzz"} {
				var got []string
				s.Ascend(after, func(id string, v int) bool {
					if v != model[id] {
						t.Fatalf("Ascend: %s has %d, model %d", id, v, model[id])
					}
					got = append(got, id)
					return true
				})
				i, found := slices.BinarySearch(want, after)
				if found {
					i++
				}
				if !slices.Equal(got, want[i:]) {
					t.Fatalf("Ascend(%q): %d ids, want %d", after, len(got), len(want[i:]))
				}
			}
			// Stopping early stops.
			n := 0
			s.Ascend("", func(string, int) bool { n++; return n < 3 })
			if want := min(3, len(model)); n != want {
				t.Errorf("Ascend stopped after %d calls, want %d", n, want)
			}
			for _, c := range s.chunks {
				if len(c.ids) == 0 || len(c.ids) > idChunkMax || len(c.ids) != len(c.vals) {
					t.Fatalf("chunk of %d ids, %d values (max %d)", len(c.ids), len(c.vals), idChunkMax)
				}
			}
		})
	}
}

// BenchmarkSortedIDsInsert inserts into a scope that already holds n ids:
// the cost must not grow with n.
func BenchmarkSortedIDsInsert(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var s sortedIDs[struct{}]
			rng := rand.New(rand.NewPCG(1, 2))
			for s.Len() < n {
				s.Set(fmt.Sprintf("wsi-%09d", rng.IntN(1e9)), struct{}{})
			}
			ids := make([]string, 4096)
			for i := range ids {
				ids[i] = fmt.Sprintf("wsi-%09d", rng.IntN(1e9))
			}
			i := 0
			for b.Loop() {
				id := ids[i%len(ids)]
				s.Set(id, struct{}{})
				s.Delete(id)
				i++
			}
		})
	}
}
