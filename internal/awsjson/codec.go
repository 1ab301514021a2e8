// Package awsjson is the AWS JSON 1.1 wire codec: it decodes request bodies
// into the generated input types and encodes outputs and errors the way AWS
// clients expect them.
package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/wsim/wsim/internal/api"
)

// ContentType is the media type of every request and response body.
const ContentType = "application/x-amz-json-1.1"

// Decode reads a request body into in. An empty body counts as {}; anything
// that is not a JSON object of correctly typed members is a
// SerializationException, as the AWS framework answers it.
func Decode(body []byte, in any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return serializationError("the request body must be a JSON object")
	}
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

func serializationError(msg string) error {
	return &api.Error{Code: "SerializationException", Status: 400, Message: msg}
}

// describe turns encoding/json errors into messages that name the member but
// not Go types, which mean nothing to an AWS client.
func describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return fmt.Sprintf("Unexpected value type for member '%s': got a JSON %s", typeErr.Field, typeErr.Value)
		}
		return fmt.Sprintf("Unexpected JSON %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("Malformed JSON at offset %d: %v", syntaxErr.Offset, syntaxErr)
	default:
		return "Malformed request body: " + err.Error()
	}
}

// EncodeOutput writes an operation's output; a nil output is {}.
func EncodeOutput(out any) ([]byte, error) {
	if out == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(out)
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
