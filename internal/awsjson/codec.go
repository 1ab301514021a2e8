// Package awsjson is the AWS JSON 1.1 wire codec: it decodes request bodies
// into the generated input types and encodes outputs and errors the way AWS
// clients expect them.
package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/wsim/wsim/internal/api"
)

// ContentType is the media type of every request and response body.
const ContentType = "application/x-amz-json-1.1"

// Decode reads a request body into in. An empty body counts as {}; anything
// that is not a JSON object of correctly typed members is a
// SerializationException, as the AWS framework answers it.
//
// Member names match exactly, at every depth, as AWS matches them: a key that
// differs from a member name only in case ({"imageid": ...}) is an unknown
// member and, like every unknown member, ignored. encoding/json alone would
// fold case; see exactMembers.
func Decode(body []byte, in any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return serializationError("the request body must be a JSON object")
	}
	t := reflect.TypeOf(in)
	if t == nil || t.Kind() != reflect.Pointer {
		return decodeStream(body, in)
	}
	end, unknown, ok := exactMembers(body, membersOf(t))
	if !ok {
		// Not JSON the scan understands: encoding/json says what is wrong.
		return decodeStream(body, in)
	}
	value := body[:end]
	if len(unknown) > 0 {
		value = blankKeys(value, unknown)
	}
	if err := json.Unmarshal(value, in); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			// Reported as the body came, offsets and all.
			return decodeStream(body, in)
		}
		return serializationError(describe(err))
	}
	if len(bytes.TrimLeft(body[end:], " \t\r\n")) > 0 {
		return serializationError("unexpected data after the JSON object")
	}
	return nil
}

// decodeStream decodes body with encoding/json's own member matching; Decode
// uses it only for bodies that are not valid JSON, to report why.
func decodeStream(body []byte, in any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(in); err != nil {
		return serializationError(describe(err))
	}
	if dec.More() {
		return serializationError("unexpected data after the JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return serializationError("unexpected data after the JSON object")
	}
	return nil
}

// blankKeys returns a copy of value with each key span in spans replaced by
// "", which no member is named.
func blankKeys(value []byte, spans []int) []byte {
	out := make([]byte, 0, len(value))
	last := 0
	for i := 0; i < len(spans); i += 2 {
		out = append(out, value[last:spans[i]]...)
		out = append(out, `""`...)
		last = spans[i+1]
	}
	return append(out, value[last:]...)
}

// maxMessageChars bounds a SerializationException message, which can echo
// the request (a member name, a number).
const maxMessageChars = 512

func serializationError(msg string) error {
	return &api.Error{Code: "SerializationException", Status: 400, Message: shorten(msg, maxMessageChars)}
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	chars := 0
	for i := range s {
		if chars == n {
			return s[:i] + "..."
		}
		chars++
	}
	return s
}

// describe turns encoding/json errors into messages that name the member but
// not Go types, which mean nothing to an AWS client.
func describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		// Value is "string", "number 1.5", ...: a number is echoed.
		value := shorten(typeErr.Value, 64)
		if typeErr.Field != "" {
			return fmt.Sprintf("Unexpected value type for member '%s': got a JSON %s", shorten(typeErr.Field, 200), value)
		}
		return fmt.Sprintf("Unexpected JSON %s", value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("Malformed JSON at offset %d: %v", syntaxErr.Offset, syntaxErr)
	default:
		return "Malformed request body: " + err.Error()
	}
}

// EncodeOutput writes an operation's output; a nil output is {}. The
// generated outputs encode themselves (api.Output), as encoding/json would
// but several times faster; anything else goes through encoding/json.
func EncodeOutput(out any) ([]byte, error) {
	return AppendOutput(make([]byte, 0, 1024), out)
}

// AppendOutput is EncodeOutput appending to dst, so that a caller can
// reuse one buffer for many answers.
func AppendOutput(dst []byte, out any) ([]byte, error) {
	switch o := out.(type) {
	case nil:
		return append(dst, "{}"...), nil
	case api.Output:
		start := len(dst)
		if b := o.AppendJSON(dst); string(b[start:]) != "null" {
			return b, nil
		}
		return append(dst, "{}"...), nil // a nil output pointer
	}
	b, err := json.Marshal(out)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// EncodeError writes {"__type": code, "message": ..., modelled members...}.
func EncodeError(e api.APIError) []byte {
	body, err := json.Marshal(e)
	if err != nil || len(body) < 2 || body[0] != '{' {
		body = []byte("{}")
	}
	var b bytes.Buffer
	b.Grow(len(body) + len(e.ErrorCode()) + 16)
	b.WriteString(`{"__type":`)
	b.WriteString(strconv.Quote(e.ErrorCode()))
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes()
}
