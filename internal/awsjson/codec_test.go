package awsjson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    string // "" = success
	}{
		{"empty body is {}", "", ""},
		{"object", `{"MaxResults": 5, "ImageType": "OWNED"}`, ""},
		{"unknown members are ignored", `{"Surprise": [1,2]}`, ""},
		{"null member is absent", `{"MaxResults": null}`, ""},
		{"wrong type", `{"MaxResults": "5"}`, "Unexpected value type for member 'MaxResults': got a JSON string"},
		{"fraction for an integer", `{"MaxResults": 1.5}`, "Unexpected value type for member 'MaxResults'"},
		{"integer overflow", `{"MaxResults": 99999999999}`, "Unexpected value type for member 'MaxResults'"},
		{"list expected", `{"ImageIds": "wsi-123456789"}`, "member 'ImageIds'"},
		{"array body", `[]`, "the request body must be a JSON object"},
		{"string body", `"x"`, "the request body must be a JSON object"},
		{"truncated", `{"MaxResults": 5`, "Malformed"},
		{"trailing data", `{} {}`, "unexpected data after the JSON object"},
		{"not JSON", `MaxResults=5`, "the request body must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in api.DescribeWorkspaceImagesInput
			err := Decode([]byte(tt.body), &in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode = %v", err)
				}
				return
			}
			e, ok := err.(*api.Error)
			if !ok || e.Code != "SerializationException" || e.Status != 400 {
				t.Fatalf("Decode = %#v, want a 400 SerializationException", err)
			}
			if !strings.Contains(e.Message, tt.wantErr) {
				t.Errorf("message %q does not contain %q", e.Message, tt.wantErr)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err  api.APIError
		want map[string]any
	}{
		{&api.ResourceNotFoundException{Message: "gone", ResourceId: api.String("wsi-123456789")},
			map[string]any{"__type": "ResourceNotFoundException", "message": "gone", "ResourceId": "wsi-123456789"}},
		{&api.ResourceNotFoundException{Message: "gone"},
			map[string]any{"__type": "ResourceNotFoundException", "message": "gone"}},
		{&api.AccessDeniedException{},
			map[string]any{"__type": "AccessDeniedException", "message": ""}},
		{&api.Error{Code: "ValidationException", Status: 400, Message: "bad"},
			map[string]any{"__type": "ValidationException", "message": "bad"}},
		{&api.NotImplementedError{Operation: "DescribeWorkspaces"},
			map[string]any{"__type": "NotImplementedException", "message": "wsim does not implement DescribeWorkspaces yet"}},
	}
	for _, tt := range tests {
		var got map[string]any
		body := EncodeError(tt.err)
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: invalid JSON %s", tt.err.ErrorCode(), body)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.err.ErrorCode(), got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", tt.err.ErrorCode(), k, got[k], v)
			}
		}
	}
}

func TestEncodeOutput(t *testing.T) {
	got, err := EncodeOutput(nil)
	if err != nil || string(got) != "{}" {
		t.Errorf("EncodeOutput(nil) = %s, %v", got, err)
	}
	src := &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")}
	got, _ = EncodeOutput(&api.DescribeCustomWorkspaceImageImportOutput{ImageSource: src})
	if string(got) != `{"ImageSource":{"Ec2ImageId":"ami-0123456789abcdef0"}}` {
		t.Errorf("union written as %s", got)
	}
	// Appending keeps what the buffer held, also for a nil output pointer
	// and an output encoding/json writes.
	for _, tc := range []struct {
		out  any
		want string
	}{
		{(*api.DescribeWorkspaceImagesOutput)(nil), "{}"},
		{nil, "{}"},
		{&api.DescribeWorkspaceImagesOutput{NextToken: api.String("t")}, `{"NextToken":"t"}`},
		{map[string]int{"a": 1}, `{"a":1}`},
	} {
		got, err := AppendOutput([]byte("prefix:"), tc.out)
		if err != nil || string(got) != "prefix:"+tc.want {
			t.Errorf("AppendOutput(prefix:, %#v) = %s, %v; want prefix:%s", tc.out, got, err, tc.want)
		}
	}
}
