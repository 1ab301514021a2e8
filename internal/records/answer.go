package records

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
)

// answerSlot keeps the answer last made from one decoded value that the
// decode cache shares between readers: the JSON of the API item an
// operation showed for it, so that a page of records writes bytes it has
// already made instead of encoding every record again. It lives and dies
// with the decoded value, which is replaced whenever the stored body
// changes, so an answer never outlives the values it was made from.
type answerSlot struct {
	// owner is the Meta the slot was made for. A copy of the record (a
	// struct copy a caller may change) carries the same pointer but not the
	// same address, and keeps nothing.
	owner *Meta
	// limit bounds the answers kept, which the decode cache counts in an
	// entry's cost (decodedCost) without seeing them.
	limit int
	kept  atomic.Pointer[answer]
}

type answer struct {
	key  string
	json []byte
}

// maxAnswer is the largest answer kept for a record decoded from a body of
// n bytes; decodedCost counts an entry as holding one that large.
func maxAnswer(n int) int { return n + 512 }

func (m *Meta) slot() *answerSlot {
	if s := m.answers; s != nil && s.owner == m {
		return s
	}
	return nil
}

// KeepsAnswers reports whether the value can keep an answer: whether it is
// one the decode cache shares, so that encoding an answer ahead for
// KeepAnswer is worth it.
func (m *Meta) KeepsAnswers() bool { return m.slot() != nil }

// Answer returns the answer KeepAnswer kept under key for this very value,
// or nil: when none was kept, the one kept was made under another key, or
// the value was not read through the decode cache (a value read in a
// transaction, which may be changed and written back, keeps nothing).
//
// The key is everything the answer depends on that the stored record does
// not fix: what is computed from the clock or depends on the caller. A key
// that leaves out something the answer depends on answers stale values.
func (m *Meta) Answer(key string) []byte {
	s := m.slot()
	if s == nil {
		return nil
	}
	if a := s.kept.Load(); a != nil && a.key == key {
		return a.json
	}
	return nil
}

// KeepAnswer keeps enc, the JSON of the answer made from this value under
// key, for Answer; it replaces the answer kept before. enc must not be
// changed afterwards: readers write it as it is. It does nothing for a value
// that keeps no answers, or when enc is larger than the value's slot allows.
func (m *Meta) KeepAnswer(key string, enc []byte) {
	s := m.slot()
	if s == nil || len(enc) > s.limit {
		return
	}
	// The key is cloned so that callers can build it in a buffer of their
	// own, which then need not escape.
	s.kept.Store(&answer{key: strings.Clone(key), json: enc})
}

// Encoded returns the JSON of item, the API item an operation made from the
// shared value whose Meta is m, for the item's Encoded: the answer m kept
// under key, or else item encoded now and kept under key. It returns nil
// for a value that keeps no answers, whose item is encoded as usual. item's
// own Encoded must be nil.
func Encoded[I interface{ AppendJSON([]byte) []byte }](m *Meta, key string, item I) []byte {
	if enc := m.Answer(key); enc != nil {
		return enc
	}
	if !m.KeepsAnswers() {
		return nil
	}
	// The answer is encoded into a scratch buffer and copied out at its
	// size, so that what is kept holds no spare capacity.
	buf := scratch.Get().(*[]byte)
	b := item.AppendJSON((*buf)[:0])
	enc := bytes.Clone(b)
	if cap(b) <= 64<<10 {
		// A buffer grown by a rare huge answer is left to the collector.
		*buf = b[:0]
		scratch.Put(buf)
	}
	m.KeepAnswer(key, enc)
	return enc
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
