package awsjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// encoding/json matches object keys to struct fields case-insensitively
// ({"imageid": ...} fills ImageId); AWS matches member names exactly and
// ignores every other key. exactMembers closes the gap without a second
// decoder: one pass over the body, guided by a per-type table of exact member
// names derived once from the json tags, finds the end of the top-level value
// and every key that sits where a structure is expected but names none of its
// members. Those keys are then blanked to "", which names no field under any
// folding, so encoding/json skips them as the unknown members they are (their
// values still go through its syntax check).
//
// The pass never reports errors itself: whenever the body is not something it
// understands, it gives up and the caller decodes the body as it came, so
// every syntax error keeps encoding/json's wording and offsets.

// members is the exact-name table of one Go type.
type members struct {
	kind   memberKind
	fields map[string]*members // structure: exact member names
	elem   *members            // list elements, map values
}

type memberKind uint8

const (
	opaque    memberKind = iota // no structure beneath: nothing to check
	structure                   // keys are member names
	list                        // each element is elem
	mapping                     // each value is elem; keys are free
)

var (
	opaqueMembers = &members{kind: opaque}
	membersByType sync.Map // reflect.Type → *members
	unmarshaler   = reflect.TypeFor[json.Unmarshaler]()
	textUnmarsh   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// membersOf returns the table of t, building it (and those of the types it
// contains) on first use.
func membersOf(t reflect.Type) *members {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if m, ok := membersByType.Load(t); ok {
		return m.(*members)
	}
	building := map[reflect.Type]*members{}
	m := buildMembers(t, building)
	for bt, bm := range building {
		membersByType.LoadOrStore(bt, bm)
	}
	return m
}

func buildMembers(t reflect.Type, building map[reflect.Type]*members) *members {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if m, ok := membersByType.Load(t); ok {
		return m.(*members)
	}
	if m, ok := building[t]; ok {
		return m // a recursive type: the table being built
	}
	// A type that decodes itself (api.Timestamp) is opaque, as it is to
	// encoding/json.
	if reflect.PointerTo(t).Implements(unmarshaler) || reflect.PointerTo(t).Implements(textUnmarsh) {
		return opaqueMembers
	}
	switch t.Kind() {
	case reflect.Struct:
		m := &members{kind: structure, fields: map[string]*members{}}
		building[t] = m
		addFields(m, t, building, 0)
		return m
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return opaqueMembers // a blob: base64 in a JSON string
		}
		return sized(t, list, building)
	case reflect.Map:
		return sized(t, mapping, building)
	}
	return opaqueMembers
}

// sized is the table of a list or map: opaque when its elements are.
func sized(t reflect.Type, kind memberKind, building map[reflect.Type]*members) *members {
	m := &members{kind: kind}
	building[t] = m
	if m.elem = buildMembers(t.Elem(), building); m.elem.kind == opaque {
		m.kind = opaque
	}
	return m
}

// addFields records the JSON names of t's fields as encoding/json derives them:
// the tag's name, else the field's; "-" is no member. Fields of untagged
// embedded structures are promoted, the first to claim a name at the
// shallowest depth keeping it (encoding/json's finer rules for ambiguous
// embedded names do not arise in the generated types).
func addFields(m *members, t reflect.Type, building map[reflect.Type]*members, depth int) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, taken := m.fields[name]; !taken {
			m.fields[name] = buildMembers(f.Type, building)
		}
	}
	if depth < 8 {
		for _, et := range embedded {
			addFields(m, et, building, depth+1)
		}
	}
}

// maxDepth is encoding/json's nesting limit; deeper bodies are left to it.
const maxDepth = 10000

// exactMembers scans the JSON value at the start of data as a value of the
// type m describes. It returns the end of that value and the spans of the keys
// to blank, or ok=false when it cannot make sense of data.
func exactMembers(data []byte, m *members) (end int, unknown []int, ok bool) {
	s := scanner{data: data}
	if !s.value(m, 0) {
		return 0, nil, false
	}
	return s.pos, s.unknown, true
}

type scanner struct {
	data    []byte
	pos     int
	unknown []int // start, end of each key to blank
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value at s.pos.
func (s *scanner) value(m *members, depth int) bool {
	s.space()
	if s.pos >= len(s.data) || depth > maxDepth {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{' && m.kind == structure:
		return s.object(m, depth)
	case c == '{' && m.kind == mapping:
		return s.object(m, depth)
	case c == '[' && m.kind == list:
		return s.array(m.elem, depth)
	}
	return s.skip()
}

// object scans an object that is a structure (keys checked) or a map (keys
// free).
func (s *scanner) object(m *members, depth int) bool {
	s.pos++ // {
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return true
	}
	for {
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return false
		}
		start := s.pos
		if !s.str() {
			return false
		}
		elem := m.elem
		if m.kind == structure {
			key := s.data[start+1 : s.pos-1]
			var known bool
			if bytes.IndexByte(key, '\\') >= 0 {
				var name string
				if json.Unmarshal(s.data[start:s.pos], &name) != nil {
					return false
				}
				elem, known = m.fields[name]
			} else {
				elem, known = m.fields[string(key)]
			}
			if !known {
				elem = opaqueMembers
				if len(key) > 0 && validKey(key) {
					s.unknown = append(s.unknown, start, s.pos)
				}
			}
		}
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		if !s.value(elem, depth+1) {
			return false
		}
		s.space()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array(elem *members, depth int) bool {
	s.pos++ // [
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	for {
		if !s.value(elem, depth+1) {
			return false
		}
		s.space()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return true
		default:
			return false
		}
	}
}

// validKey reports whether an unescaped key is a valid JSON string: only
// those are blanked, so that blanking never makes an invalid body valid.
func validKey(key []byte) bool {
	for _, c := range key {
		if c < 0x20 {
			return false
		}
	}
	return true
}

// str moves past the string at s.pos.
func (s *scanner) str() bool {
	start := s.pos + 1
	for i := start; ; i++ {
		j := bytes.IndexByte(s.data[i:], '"')
		if j < 0 {
			return false
		}
		i += j
		// The quote is escaped when an odd number of backslashes precede it.
		k := i
		for k > start && s.data[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 {
			s.pos = i + 1
			return true
		}
	}
}

// skip moves past one value whose content needs no checking: a scalar, or a
// container skipped without recursion.
func (s *scanner) skip() bool {
	depth := 0
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '"':
			if !s.str() {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			if depth++; depth > maxDepth {
				return false
			}
		case '}', ']':
			if depth == 0 {
				return true // the end of the enclosing value: a scalar ended
			}
			if depth--; depth == 0 {
				s.pos++
				return true
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return true
			}
		}
		s.pos++
	}
	return depth == 0
}
