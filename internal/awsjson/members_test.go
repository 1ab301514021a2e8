package awsjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
)

// nested has the shapes the model's inputs have (lists of structures,
// unions, timestamps) and one they lack today: a map of structures.
type nested struct {
	Tags     []api.Tag                  `json:"Tags,omitzero"`
	ByName   map[string]api.Tag         `json:"ByName,omitzero"`
	Source   *api.ImageSourceIdentifier `json:"Source,omitzero"`
	Deep     [][]api.Tag                `json:"Deep,omitzero"`
	Sources  map[string][]*nested       `json:"Sources,omitzero"`
	When     *api.Timestamp             `json:"When,omitzero"`
	Plain    map[string]string          `json:"Plain,omitzero"`
	Skipped  string                     `json:"-"`
	Dash     string                     `json:"-,"`
	Untagged *string
	embedded
}

type embedded struct {
	Promoted *string `json:"Promoted,omitzero"`
}

func TestDecodeMatchesMemberNamesExactly(t *testing.T) {
	s := api.String
	tests := []struct {
		name, body string
		want       nested
	}{
		{"exact names", `{"Tags":[{"Key":"k","Value":"v"}],"Source":{"Ec2ImageId":"ami-1"}}`,
			nested{Tags: []api.Tag{{Key: s("k"), Value: s("v")}}, Source: &api.ImageSourceIdentifier{Ec2ImageId: s("ami-1")}}},
		{"top level, other case", `{"tags":[{"Key":"k"}],"SOURCE":{"Ec2ImageId":"ami-1"}}`, nested{}},
		{"nested in a list of structures", `{"Tags":[{"key":"k","Value":"v"},{"Key":"k2","VALUE":"v2"}]}`,
			nested{Tags: []api.Tag{{Value: s("v")}, {Key: s("k2")}}}},
		{"in a list of lists", `{"Deep":[[{"key":"a"},{"Key":"b"}]]}`,
			nested{Deep: [][]api.Tag{{{}, {Key: s("b")}}}}},
		{"map values", `{"ByName":{"a":{"Key":"k","value":"v"},"B":{"kEY":"x"}}}`,
			nested{ByName: map[string]api.Tag{"a": {Key: s("k")}, "B": {}}}},
		{"map keys are free", `{"Plain":{"key":"v","KEY":"w"}}`, nested{Plain: map[string]string{"key": "v", "KEY": "w"}}},
		{"union members", `{"Source":{"ec2ImageId":"ami-1","Ec2ImportTaskId":"import-ami-1"}}`,
			nested{Source: &api.ImageSourceIdentifier{Ec2ImportTaskId: s("import-ami-1")}}},
		{"union with only a folded member", `{"Source":{"EC2IMAGEID":"ami-1"}}`, nested{Source: &api.ImageSourceIdentifier{}}},
		{"maps of lists of structures", `{"Sources":{"x":[{"Tags":[{"Key":"a","key":"b"}],"tags":[]}]}}`,
			nested{Sources: map[string][]*nested{"x": {{Tags: []api.Tag{{Key: s("a")}}}}}}},
		{"Unicode folding (the Kelvin sign) does not match", "{\"Tags\":[{\"\u212aey\":\"k\"}]}", nested{Tags: []api.Tag{{}}}},
		{"an escaped exact name matches", `{"Tags":[{"\u004bey":"k"}]}`, nested{Tags: []api.Tag{{Key: s("k")}}}},
		{"an escaped folded name does not", `{"Tags":[{"\u006bey":"k"}]}`, nested{Tags: []api.Tag{{}}}},
		{"the exact duplicate wins over a folded one", `{"Tags":[{"Key":"a","key":"b"}]}`, nested{Tags: []api.Tag{{Key: s("a")}}}},
		{"the last exact duplicate wins, as in encoding/json", `{"Tags":[{"Key":"a","Key":"b"}]}`, nested{Tags: []api.Tag{{Key: s("b")}}}},
		{"an unknown member of any type is ignored", `{"tags":{"x":[1,{"y":"}"}]},"Bogus":"\"}"}`, nested{}},
		{"timestamps still decode themselves", `{"When":1796000664.5,"when":1}`, nested{When: api.NewTimestamp(time.UnixMilli(1796000664500).UTC())}},
		{"json:\"-\" is not a member, json:\"-,\" is", `{"Skipped":"a","-":"b"}`, nested{Dash: "b"}},
		{"untagged fields go by their Go name", `{"Untagged":"a","untagged":"b"}`, nested{Untagged: s("a")}},
		{"embedded fields are promoted", `{"Promoted":"a","promoted":"b"}`, nested{embedded: embedded{Promoted: s("a")}}},
		{"whitespace everywhere", " {\n \"Tags\" : [ { \"key\" : \"k\" , \"Key\" : \"K\" } ] }\n", nested{Tags: []api.Tag{{Key: s("K")}}}},
		{"null for a structure", `{"Source":null,"source":{"Ec2ImageId":"x"}}`, nested{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got nested
			if err := Decode([]byte(tt.body), &got); err != nil {
				t.Fatalf("Decode = %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(nested{}), cmp.Comparer(func(a, b api.Timestamp) bool { return a.Equal(b.Time) })); diff != "" {
				t.Errorf("Decode(%s) (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

// TestFoldedNameIsAMissingMember is the case end to end: AWS answers
// {"imageid": ...} as if ImageId were absent.
func TestFoldedNameIsAMissingMember(t *testing.T) {
	for _, body := range []string{`{"imageid":"wsi-123456789"}`, `{"IMAGEID":"wsi-123456789"}`, `{"imageId":"wsi-123456789"}`} {
		var in api.DescribeCustomWorkspaceImageImportInput
		if err := Decode([]byte(body), &in); err != nil {
			t.Fatalf("Decode(%s) = %v", body, err)
		}
		err := in.Validate()
		const want = "1 validation error detected: Value null at 'imageId' failed to satisfy constraint: Member must not be null"
		if e, ok := err.(*api.Error); !ok || e.Code != "ValidationException" || e.Message != want {
			t.Errorf("%s: Validate() = %v, want %q", body, err, want)
		}
	}
	var in api.ImportCustomWorkspaceImageInput
	body := `{"ImageName":"n","imageSource":{"Ec2ImageId":"ami-01234567"},"Tags":[{"key":"k"}]}`
	if err := Decode([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	msg := in.Validate().Error()
	for _, frag := range []string{"Value null at 'imageSource' failed", "Value null at 'tags.1.member.key' failed"} {
		if !strings.Contains(msg, frag) {
			t.Errorf("message %q lacks %q", msg, frag)
		}
	}
}

// TestDecodeErrors covers what changed around the exact-name pass: errors
// inside ignored members, trailing data, and bounded messages.
func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("9", 1<<20)
	tests := []struct {
		name, body string
		wantErr    string // "" = success
	}{
		{"a folded member's wrong type is not an error", `{"maxresults":"five"}`, ""},
		{"an ignored member must still be JSON", `{"maxresults":[1,}`, "Malformed JSON at offset 18: invalid character '}' looking for beginning of value"},
		{"syntax errors keep their offsets", `{"ImageIds":["a" "b"]}`, "Malformed JSON at offset 18: invalid character '\"' after array element"},
		{"control characters in strings", "{\"ImageIds\":[\"a\x01\"]}", "Malformed JSON at offset 16: invalid character '\\x01' in string literal"},
		{"an unclosed string", `{"ImageIds":["a]}`, "Malformed request body: unexpected EOF"},
		{"a closing bracket after the object", `{} ]`, "unexpected data after the JSON object"},
		{"a closing brace after the object", `{}}`, "unexpected data after the JSON object"},
		{"a second object", `{"MaxResults":5}{}`, "unexpected data after the JSON object"},
		{"a type error comes before trailing data", `{"MaxResults":"5"} x`, "Unexpected value type for member 'MaxResults': got a JSON string"},
		{"a type error in a list of structures", `{"Tags":[{"Key":5}]}`, "Unexpected value type for member 'Tags.Key': got a JSON number"},
		{"a huge number is not echoed whole", `{"MaxResults":` + long + `}`, "Unexpected value type for member 'MaxResults': got a JSON number 99999"},
		{"deep nesting in an ignored member", `{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "exceeded max depth"},
		{"nesting within the limit", `{"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in struct {
				MaxResults *int32    `json:"MaxResults"`
				ImageIds   []string  `json:"ImageIds"`
				Tags       []api.Tag `json:"Tags"`
			}
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
			if len(EncodeError(e)) > 1024 {
				t.Errorf("error body of %d bytes", len(EncodeError(e)))
			}
		})
	}
}

// allNames collects every member name of t and the types within it.
func allNames(t reflect.Type, names map[string]bool, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	for f := range membersOf(t).fields {
		names[f] = true
	}
	for i := range t.NumField() {
		allNames(t.Field(i).Type, names, seen)
	}
}

// foldedKey reports whether the JSON v has an object key that equals a
// member name under case folding without being it.
func foldedKey(v any, names map[string]bool) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !names[k] {
				for n := range names {
					if strings.EqualFold(k, n) {
						return true
					}
				}
			}
			if foldedKey(e, names) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if foldedKey(e, names) {
				return true
			}
		}
	}
	return false
}

// FuzzDecode checks Decode against encoding/json's own decoding: the same
// result and the same error for every body without a case-folded member
// name, and never a panic.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"ImageName":"x","Tags":[{"Key":"k","Value":"v"}],"ImageSource":{"Ec2ImageId":"ami-01234567"}}`,
		`{"tags":[{"key":1}]}`, `{"Tags":[{"Key":1}]}`, `{"Tags":{"Key":"x"}}`, `{"ImageName":"\"\\"}`,
		`{"Tags":[{"Ke\u0079":"k"}]}`, `{"Tags":[` + "\n" + `]} `, `{"a":[{"b":"}"}]}`, `{"Tags":[{"Key":"k"]}`,
		`{"ImageSource":{"Ec2ImageId":null}}`, `{"MaxResults":1e400}`, `{"Tags":[1,2,"x",{"Key":"}"}]}`,
	} {
		f.Add([]byte(seed))
	}
	names := map[string]bool{}
	allNames(reflect.TypeFor[api.ImportCustomWorkspaceImageInput](), names, map[reflect.Type]bool{})
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want api.ImportCustomWorkspaceImageInput
		gotErr := Decode(body, &got)
		var generic any
		if json.NewDecoder(bytes.NewReader(body)).Decode(&generic) == nil && foldedKey(generic, names) {
			return // the case where Decode differs on purpose
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return // refused before any decoding
		}
		wantErr := decodeStream(trimmed, &want)
		if gotErr != nil && wantErr == nil && gotErr.Error() == "SerializationException: unexpected data after the JSON object" {
			return // "{} ]", which encoding/json's Decoder lets through
		}
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("Decode(%q) = %v, encoding/json says %v", body, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) = %+v, encoding/json decodes %+v", body, got, want)
		}
	})
}
