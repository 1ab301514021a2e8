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
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
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
	Errors   []string
	NewInput func() Input
	// Call invokes the operation's Handler method; the output is nil when the
	// handler returned none.
	Call func(ctx context.Context, h Handler, in Input) (any, error)
}

// Timestamp is a model timestamp: epoch seconds on the wire, with fractions.
type Timestamp struct{ time.Time }

// NewTimestamp returns a timestamp pointer for t, the form members take.
func NewTimestamp(t time.Time) *Timestamp { return &Timestamp{t} }

// MarshalJSON writes epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
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

// ToBool dereferences p, giving false for nil.
func ToBool(p *bool) bool { return p != nil && *p }

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

// Errorf builds an unmodelled AWS error.
func Errorf(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

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
type ValidationErrors struct {
	msgs []string
}

// Err returns nil when nothing failed, else a ValidationException.
func (v *ValidationErrors) Err() error {
	if len(v.msgs) == 0 {
		return nil
	}
	noun := "errors"
	if len(v.msgs) == 1 {
		noun = "error"
	}
	return &Error{
		Code:    "ValidationException",
		Status:  400,
		Message: fmt.Sprintf("%d validation %s detected: %s", len(v.msgs), noun, strings.Join(v.msgs, "; ")),
	}
}

func (v *ValidationErrors) add(value, path, constraint string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, path, constraint))
}

func quote(s string) string { return "'" + s + "'" }

func (v *ValidationErrors) required(path string) {
	v.add("null", path, "Member must not be null")
}

// length checks string, blob, list and map lengths; -1 means unbounded.
func (v *ValidationErrors) length(path, shown string, n, minLen, maxLen int) {
	if minLen >= 0 && n < minLen {
		v.add(quote(shown), path, fmt.Sprintf("Member must have length greater than or equal to %d", minLen))
	}
	if maxLen >= 0 && n > maxLen {
		v.add(quote(shown), path, fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	}
}

func (v *ValidationErrors) rangeCheck(path string, n, minVal, maxVal int64, hasMin, hasMax bool) {
	shown := quote(strconv.FormatInt(n, 10))
	if hasMin && n < minVal {
		v.add(shown, path, fmt.Sprintf("Member must have value greater than or equal to %d", minVal))
	}
	if hasMax && n > maxVal {
		v.add(shown, path, fmt.Sprintf("Member must have value less than or equal to %d", maxVal))
	}
}

// modelPattern is a model pattern compiled for Go; text is the model's own
// spelling, which is what messages quote.
type modelPattern struct {
	re   *regexp.Regexp
	text string
}

func (v *ValidationErrors) pattern(path, s string, p *modelPattern) {
	if !p.re.MatchString(s) {
		v.add(quote(s), path, "Member must satisfy regular expression pattern: "+p.text)
	}
}

func (v *ValidationErrors) enum(path, s string, values []string) {
	for _, allowed := range values {
		if s == allowed {
			return
		}
	}
	v.add(quote(s), path, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

func (v *ValidationErrors) union(path string, set ...bool) {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	if n != 1 {
		if path == "" {
			path = "input"
		}
		v.msgs = append(v.msgs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Union must have exactly one member set, but %d are set", path, n))
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

// listString renders a list value in messages as the AWS framework does, e.g.
// '[a, b]' for strings.
func listString[T any](list []T) string {
	parts := make([]string, len(list))
	for i, e := range list {
		switch x := any(e).(type) {
		case string:
			parts[i] = x
		default:
			parts[i] = fmt.Sprintf("%+v", x)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
