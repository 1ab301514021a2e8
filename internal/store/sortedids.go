package store

import (
	"slices"
	"strings"
)

// sortedIDs is the ids of one scope in order, each with a value, so that a
// page of List is found by binary search. The ids are kept in chunks of at
// most idChunkMax, so that an insert or a delete moves at most a chunk
// however many ids the scope holds: a flat slice moved the whole scope
// (160 KB of string headers at 10,000 ids) on every insert, which made an
// insert's cost grow with the account. The zero value is empty and ready.
type sortedIDs[V any] struct {
	chunks []*idChunk[V] // in order, none empty
	n      int
}

type idChunk[V any] struct {
	ids  []string
	vals []V
}

// idChunkMax bounds a chunk; a full chunk splits in two.
const idChunkMax = 256

// Len is the number of ids.
func (s *sortedIDs[V]) Len() int { return s.n }

// chunkFor is the index of the chunk that holds id or would: the first
// whose last id is not below id, else the last chunk. It is -1 when there
// are no chunks.
func (s *sortedIDs[V]) chunkFor(id string) int {
	i, _ := slices.BinarySearchFunc(s.chunks, id, func(c *idChunk[V], id string) int {
		return strings.Compare(c.ids[len(c.ids)-1], id)
	})
	return min(i, len(s.chunks)-1)
}

// Get returns id's value.
func (s *sortedIDs[V]) Get(id string) (v V, ok bool) {
	if ci := s.chunkFor(id); ci >= 0 {
		c := s.chunks[ci]
		if i, found := slices.BinarySearch(c.ids, id); found {
			return c.vals[i], true
		}
	}
	return v, false
}

// Set adds id with v, or replaces id's value, and reports whether id is new.
func (s *sortedIDs[V]) Set(id string, v V) (added bool) {
	ci := s.chunkFor(id)
	if ci < 0 {
		s.chunks = []*idChunk[V]{{ids: []string{id}, vals: []V{v}}}
		s.n = 1
		return true
	}
	c := s.chunks[ci]
	i, found := slices.BinarySearch(c.ids, id)
	if found {
		c.vals[i] = v
		return false
	}
	c.ids = slices.Insert(c.ids, i, id)
	c.vals = slices.Insert(c.vals, i, v)
	s.n++
	if len(c.ids) > idChunkMax {
		half := len(c.ids) / 2
		// The halves get slices of their own, so that appending to the
		// first never writes into the second.
		next := &idChunk[V]{ids: slices.Clone(c.ids[half:]), vals: slices.Clone(c.vals[half:])}
		c.ids, c.vals = slices.Clip(c.ids[:half]), slices.Clip(c.vals[:half])
		s.chunks = slices.Insert(s.chunks, ci+1, next)
	}
	return true
}

// Delete drops id and reports whether it was there.
func (s *sortedIDs[V]) Delete(id string) bool {
	ci := s.chunkFor(id)
	if ci < 0 {
		return false
	}
	c := s.chunks[ci]
	i, found := slices.BinarySearch(c.ids, id)
	if !found {
		return false
	}
	c.ids = slices.Delete(c.ids, i, i+1)
	c.vals = slices.Delete(c.vals, i, i+1)
	s.n--
	if len(c.ids) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
	}
	return true
}

// Ascend calls fn on the ids after afterID in order, with their values,
// until fn returns false. fn must not change s.
func (s *sortedIDs[V]) Ascend(afterID string, fn func(id string, v V) bool) {
	ci := s.chunkFor(afterID)
	if ci < 0 {
		return
	}
	i, found := slices.BinarySearch(s.chunks[ci].ids, afterID)
	if found {
		i++
	}
	for ; ci < len(s.chunks); ci, i = ci+1, 0 {
		c := s.chunks[ci]
		for ; i < len(c.ids); i++ {
			if !fn(c.ids[i], c.vals[i]) {
				return
			}
		}
	}
}
