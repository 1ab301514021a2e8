// Package api is the WorkSpaces API as its service model defines it: the
// operation table, a Go type for every input, output and error shape, the
// enums, and validation of every constraint the model states.
//
// The zz_*.go files are generated from model/ by apigen; this file holds the
// hand-written runtime they rely on (timestamps, validation messages, the
// errors that are not in the model).
package api

//go:generate go run ./apigen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ModelSource names where the pinned model in model/ was taken from.
const ModelSource = "botocore 1.43.11 (data/workspaces/2015-04-08/service-2.json.gz)"

// Input is implemented by every operation input.
type Input interface {
	Validate() error
}

// Operation is one entry of the operation table.
type Operation struct {
	Name string
	// Errors are the error shapes the model lists for the operation.
	Errors    []string
	NewInput  func() Input
	NewOutput func() Output
}

// Output is implemented by every operation output.
type Output interface {
	// AppendJSON appends the output's JSON encoding, which is what
	// encoding/json would write for it, without reflection.
	AppendJSON(b []byte) []byte
}

// Timestamp is a model timestamp: epoch seconds on the wire, with fractions.
type Timestamp struct{ time.Time }

// NewTimestamp returns a timestamp pointer for t, the form members take.
func NewTimestamp(t time.Time) *Timestamp { return &Timestamp{t} }

// MarshalJSON writes epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return t.appendJSON(nil), nil
}

// UnmarshalJSON accepts a JSON number of epoch seconds and nothing else, as
// the AWS JSON protocol does.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("timestamp must be a number of epoch seconds, got %s", b)
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return nil
}

// String returns a pointer to s, the form optional members take.
func String(s string) *string { return &s }

// Int32 returns a pointer to i.
func Int32(i int32) *int32 { return &i }

// Bool returns a pointer to b.
func Bool(b bool) *bool { return &b }

// ToString dereferences p, giving "" for nil.
func ToString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ToInt32 dereferences p, giving def for nil.
func ToInt32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// APIError is an error that reaches the client as an AWS JSON error: its code
// becomes __type, its JSON fields the rest of the body.
type APIError interface {
	error
	ErrorCode() string
	HTTPStatus() int
}

// Error is an AWS error that the model does not define (ValidationException,
// SerializationException and the like), answered with a code and a message.
type Error struct {
	Code    string `json:"-"`
	Status  int    `json:"-"`
	Message string `json:"message"`
}

func (e *Error) Error() string     { return e.Code + ": " + e.Message }
func (e *Error) ErrorCode() string { return e.Code }
func (e *Error) HTTPStatus() int   { return e.Status }

// NotImplementedError answers an operation that the model defines and wsim
// does not implement yet. 501 is not retried by the AWS SDKs.
type NotImplementedError struct {
	Operation string
}

// MarshalJSON writes the message that names the operation.
func (e *NotImplementedError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Message string `json:"message"`
	}{e.Error()})
}

func (e *NotImplementedError) Error() string {
	return "wsim does not implement " + e.Operation + " yet"
}
func (e *NotImplementedError) ErrorCode() string { return "NotImplementedException" }
func (e *NotImplementedError) HTTPStatus() int   { return 501 }

// ValidationErrors collects constraint failures in the wording of the AWS
// service framework, e.g. "1 validation error detected: Value 'x' at
// 'imageName' failed to satisfy constraint: Member must satisfy regular
// expression pattern: ...".
//
// Whatever the input, the message stays small: echoed values and paths are
// cut to maxShownChars characters, a list or map of the wrong length is
// reported on its length alone, and only the first maxListedViolations
// violations (fewer if they are long) are spelled out; the count in "N
// validation errors detected" is always the true total, and "; and M more"
// says how many were left out.
type ValidationErrors struct {
	n    int      // violations found
	msgs []string // the first maxListedViolations of them
}

const (
	// maxShownChars bounds an echoed value or member path, in characters.
	maxShownChars = 128
	// maxListedViolations bounds how many violations a message spells out.
	maxListedViolations = 10
	// maxMessageBytes bounds the listed violations' share of a message as
	// JSON-encoded bytes; the first violation is listed whatever its size.
	maxMessageBytes = 3000
)

// Err returns nil when nothing failed, else a ValidationException.
func (v *ValidationErrors) Err() error {
	if v.n == 0 {
		return nil
	}
	noun := "errors"
	if v.n == 1 {
		noun = "error"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d validation %s detected: ", v.n, noun)
	listed, size := 0, jsonLen(b.String())
	for _, m := range v.msgs {
		if listed > 0 {
			if size += 2 + jsonLen(m); size > maxMessageBytes {
				break
			}
			b.WriteString("; ")
		} else {
			size += jsonLen(m)
		}
		b.WriteString(m)
		listed++
	}
	if listed < v.n {
		fmt.Fprintf(&b, "; and %d more", v.n-listed)
	}
	return &Error{Code: "ValidationException", Status: 400, Message: b.String()}
}

// listing counts one more violation and reports whether it is to be spelled
// out; past maxListedViolations a violation is only counted, so that a request
// with a million bad members costs no more than a counter. Every check calls it
// once per violation, before rendering anything.
func (v *ValidationErrors) listing() bool {
	v.n++
	return len(v.msgs) < maxListedViolations
}

// add spells out a violation; value is already rendered (quoted, or null).
func (v *ValidationErrors) add(value, path, constraint string) {
	v.msgs = append(v.msgs, "Value "+value+" at '"+shorten(path)+"' failed to satisfy constraint: "+constraint)
}

// quote renders a string value as messages echo it: quoted and shortened.
func quote(s string) string { return "'" + shorten(s) + "'" }

// shorten keeps s as it is up to maxShownChars characters and otherwise cuts
// it there, saying how long it was: "aaaa... (70000 characters)".
func shorten(s string) string {
	if len(s) <= maxShownChars {
		return s
	}
	chars, cut := 0, len(s)
	for i := range s {
		if chars == maxShownChars {
			cut = i
		}
		chars++
	}
	if chars <= maxShownChars {
		return s
	}
	return s[:cut] + "... (" + strconv.Itoa(chars) + " characters)"
}

// jsonLen is an upper bound of the length of s once encoding/json has escaped
// it in a string (without the quotes).
func jsonLen(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
			n += 2
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' || r == '\uFFFD':
			n += 6
		case r < 0x80:
			n++
		case r < 0x800:
			n += 2
		case r < 0x10000:
			n += 3
		default:
			n += 4
		}
	}
	return n
}

func (v *ValidationErrors) required(path string) {
	if v.listing() {
		v.add("null", path, "Member must not be null")
	}
}

// lengthOK reports whether n is within [minLen, maxLen]; -1 means unbounded.
func lengthOK(n, minLen, maxLen int) bool {
	return (minLen < 0 || n >= minLen) && (maxLen < 0 || n <= maxLen)
}

// length checks string and blob lengths; -1 means unbounded.
func (v *ValidationErrors) length(path, shown string, n, minLen, maxLen int) {
	if !lengthOK(n, minLen, maxLen) && v.listing() {
		v.add(quote(shown), path, lengthFailure(n, minLen, maxLen))
	}
}

// lengthFailure words the length constraint that n violates.
func lengthFailure(n, minLen, maxLen int) string {
	if minLen >= 0 && n < minLen {
		return "Member must have length greater than or equal to " + strconv.Itoa(minLen)
	}
	return "Member must have length less than or equal to " + strconv.Itoa(maxLen)
}

// listLength checks a list's length and reports whether its members are to be
// checked: a list of the wrong length is reported on its length alone, with
// its value summarised by listString, however many of its members are bad too.
func listLength[T any](v *ValidationErrors, path string, list []T, minLen, maxLen int) bool {
	if lengthOK(len(list), minLen, maxLen) {
		return true
	}
	if v.listing() {
		v.add("'"+listString(list)+"'", path, lengthFailure(len(list), minLen, maxLen))
	}
	return false
}

// mapLength is listLength for maps, which messages show as <map>.
func mapLength(v *ValidationErrors, path string, n, minLen, maxLen int) bool {
	if lengthOK(n, minLen, maxLen) {
		return true
	}
	if v.listing() {
		v.add("'<map>'", path, lengthFailure(n, minLen, maxLen))
	}
	return false
}

func (v *ValidationErrors) rangeCheck(path string, n, minVal, maxVal int64, hasMin, hasMax bool) {
	var constraint string
	switch {
	case hasMin && n < minVal:
		constraint = "Member must have value greater than or equal to "
		maxVal = minVal
	case hasMax && n > maxVal:
		constraint = "Member must have value less than or equal to "
	default:
		return
	}
	if v.listing() {
		v.add("'"+strconv.FormatInt(n, 10)+"'", path, constraint+strconv.FormatInt(maxVal, 10))
	}
}

// modelPattern is a model pattern compiled for Go; text is the model's own
// spelling, which is what messages quote.
type modelPattern struct {
	re   *regexp.Regexp
	text string
}

func (v *ValidationErrors) pattern(path, s string, p *modelPattern) {
	if !p.re.MatchString(s) && v.listing() {
		v.add(quote(s), path, "Member must satisfy regular expression pattern: "+p.text)
	}
}

func (v *ValidationErrors) enum(path, s string, values []string) {
	for _, allowed := range values {
		if s == allowed {
			return
		}
	}
	if v.listing() {
		v.add(quote(s), path, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
	}
}

func (v *ValidationErrors) union(path string, set ...bool) {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	if n != 1 && v.listing() {
		if path == "" {
			path = "input"
		}
		v.msgs = append(v.msgs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Union must have exactly one member set, but %d are set", shorten(path), n))
	}
}

func join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

// member names a list element the way the AWS framework does: 'tags.1.member'.
func member(path string, i int) string {
	return path + "." + strconv.Itoa(i+1) + ".member"
}

// mapKeys returns a map's keys in order, so that messages about its members
// come in the same order every time.
func mapKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// listString renders a list value in messages as the AWS framework does, e.g.
// '[a, b]' for strings, structures as JSON. A long list is summarised: the
// members that fit in maxShownChars characters, then how many there are in
// all: '[wsi-000000001, ..., wsi-000000009, ... (26 members)]'.
func listString[T any](list []T) string {
	var b strings.Builder
	b.WriteByte('[')
	shown := 0
	for i, e := range list {
		var s string
		switch x := any(e).(type) {
		case string:
			s = x
		default:
			if j, err := json.Marshal(x); err == nil {
				s = string(j)
			} else {
				s = fmt.Sprintf("%+v", x)
			}
		}
		if i > 0 {
			if b.Len()+2+len(s) > maxShownChars {
				break
			}
			b.WriteString(", ")
		} else {
			s = shorten(s)
		}
		b.WriteString(s)
		shown++
	}
	if shown < len(list) {
		fmt.Fprintf(&b, ", ... (%d members)", len(list))
	}
	b.WriteByte(']')
	return b.String()
}

// appendJSON appends the timestamp as MarshalJSON writes it.
func (t Timestamp) appendJSON(b []byte) []byte {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}

// appendString appends s as a JSON string exactly as encoding/json writes it
// (HTML-safe, invalid UTF-8 replaced): directly when s has nothing to
// escape, as nearly every value has, else through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			enc, _ := json.Marshal(s) // a string always encodes
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainByte marks the bytes encoding/json writes as they are: printable
// ASCII but for the quote, the backslash and the HTML characters it
// escapes. One table load per byte costs less than the seven comparisons
// it replaces, which were a third of encoding a page of directories.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendBlob appends a blob as encoding/json writes a []byte: base64.
func appendBlob(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// appendFloat appends f as encoding/json writes it; a value JSON cannot hold
// (NaN, ±Inf) is null.
func appendFloat(b []byte, f float64) []byte {
	enc, err := json.Marshal(f)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

// sortedKeys returns a map's keys in the order encoding/json writes them.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
