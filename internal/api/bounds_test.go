package api

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// errorBody is the size of the error as awsjson.EncodeError sends it.
func errorBody(t *testing.T, err error) int {
	t.Helper()
	b, merr := json.Marshal(err)
	if merr != nil {
		t.Fatal(merr)
	}
	return len(`{"__type":"ValidationException",`) + len(b)
}

func TestValidationMessagesStaySmall(t *testing.T) {
	const maxBody = 4096
	ids := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tags := func(n int, key string) []Tag {
		out := make([]Tag, n)
		for i := range out {
			out[i] = Tag{Key: String(key)}
		}
		return out
	}
	escapes := strings.Repeat("<\x01\"", 50000) // 6, 6 and 2 bytes each once escaped
	tests := []struct {
		name  string
		input Input
		want  []string // the message, or fragments of it when several
		exact bool
	}{
		{"a too-long list is reported on its length alone, summarised",
			&DescribeWorkspaceImagesInput{ImageIds: ids(350000, func(i int) string { return fmt.Sprintf("bad-%d", i) })},
			[]string{"1 validation error detected: Value '[bad-0, bad-1, bad-2, bad-3, bad-4, bad-5, bad-6, bad-7, bad-8, bad-9, bad-10, bad-11, bad-12, bad-13, bad-14, bad-15, bad-16, ... (350000 members)]' at 'imageIds' failed to satisfy constraint: Member must have length less than or equal to 25"},
			true},
		{"a list just too long",
			&DescribeWorkspaceImagesInput{ImageIds: ids(26, func(i int) string { return fmt.Sprintf("wsi-%09d", i) })},
			[]string{"1 validation error detected: Value '[wsi-000000000, wsi-000000001, wsi-000000002, wsi-000000003, wsi-000000004, wsi-000000005, wsi-000000006, wsi-000000007, ... (26 members)]' at 'imageIds' failed to satisfy constraint: Member must have length less than or equal to 25"},
			true},
		{"a short list is shown whole",
			&DescribeWorkspaceImagesInput{ImageIds: []string{}},
			[]string{"1 validation error detected: Value '[]' at 'imageIds' failed to satisfy constraint: Member must have length greater than or equal to 1"},
			true},
		{"a list of one huge member",
			&DescribeWorkspaceImagesInput{ImageIds: ids(26, func(int) string { return strings.Repeat("x", 1<<20) })},
			[]string{"Value '[" + strings.Repeat("x", 128) + "... (1048576 characters), ... (26 members)]' at 'imageIds'"},
			false},
		{"structures in a too-long list are shown as JSON",
			&RebootWorkspacesInput{RebootWorkspaceRequests: make([]RebootRequest, 26)},
			[]string{"Value '[{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}]' at 'rebootWorkspaceRequests' failed to satisfy constraint: Member must have length less than or equal to 25"},
			false},
		{"a value of 128 characters is echoed whole",
			&ImportCustomWorkspaceImageInput{ImageName: String(strings.Repeat("a", 128))},
			[]string{"Value '" + strings.Repeat("a", 128) + "' at 'imageName' failed to satisfy constraint: Member must have length less than or equal to 64"},
			false},
		{"a longer value is cut at 128 characters",
			&ImportCustomWorkspaceImageInput{ImageName: String(strings.Repeat("é", 1<<20))},
			[]string{"Value '" + strings.Repeat("é", 128) + "... (1048576 characters)' at 'imageName' failed to satisfy constraint: Member must have length less than or equal to 64",
				"Value '" + strings.Repeat("é", 128) + "... (1048576 characters)' at 'imageName' failed to satisfy constraint: Member must satisfy regular expression pattern"},
			false},
		{"many violations: the first ten listed, all counted",
			&CreateTagsInput{ResourceId: String("wsi-123456789"), Tags: tags(100000, "")},
			[]string{"100000 validation errors detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; ",
				"; Value '' at 'tags.10.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; and 99990 more"},
			false},
		{"long violations: fewer listed",
			&DescribeApplicationsInput{ComputeTypeNames: ids(100000, func(int) string { return escapes })},
			[]string{"100000 validation errors detected: Value '" + escapes[:128] + "... (150000 characters)' at 'computeTypeNames.1.member' failed to satisfy constraint: Member must satisfy enum value set: [",
				"more"},
			false},
		{"long map keys are cut in member paths",
			&ImportClientBrandingInput{ResourceId: String("d-1234567890"), DeviceTypeWindows: &DefaultImportClientBrandingAttributes{
				LoginMessage: map[string]string{strings.Repeat("k", 500): "y"}}},
			[]string{"Value '" + strings.Repeat("k", 128) + "... (500 characters)' at 'deviceTypeWindows.loginMessage." + strings.Repeat("k", 97) + "... (531 characters)' failed to satisfy constraint: Member must have length less than or equal to 5"},
			false},
		{"escapes in values and map keys",
			&ImportClientBrandingInput{ResourceId: String("d-1234567890"), DeviceTypeWindows: &DefaultImportClientBrandingAttributes{
				LoginMessage: map[string]string{escapes: escapes, escapes + "2": "y", "en_US": strings.Repeat("m", 3000)}}},
			[]string{"at 'deviceTypeWindows.loginMessage.<\x01\"<", "; and "},
			false},
		{"unions are counted too",
			&ImportCustomWorkspaceImageInput{ImageSource: &ImageSourceIdentifier{}},
			[]string{"8 validation errors detected: ", "Value at 'imageSource' failed to satisfy constraint: Union must have exactly one member set, but 0 are set"},
			false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.input.Validate()
			e, ok := err.(*Error)
			if !ok || e.Code != "ValidationException" {
				t.Fatalf("Validate() = %v, want a ValidationException", err)
			}
			if tt.exact && e.Message != tt.want[0] {
				t.Errorf("message = %q\nwant        %q", e.Message, tt.want[0])
			}
			for _, frag := range tt.want {
				if !strings.Contains(e.Message, frag) {
					t.Errorf("message = %q\nwant it to contain %q", e.Message, frag)
				}
			}
			if n := errorBody(t, err); n > maxBody {
				t.Errorf("error body of %d bytes, want at most %d: %q", n, maxBody, e.Message)
			}
		})
	}
}

// TestValidatingAHugeListCostsLittle: a list far over its bound is judged on
// its length; nothing is rendered per member.
func TestValidatingAHugeListCostsLittle(t *testing.T) {
	in := &DescribeWorkspaceImagesInput{ImageIds: make([]string, 350000)}
	for i := range in.ImageIds {
		in.ImageIds[i] = "bad-" + strings.Repeat("x", 6)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := in.Validate()
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("validating allocated %d bytes", n)
	}
}

func TestShorten(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"abc":                     "abc",
		strings.Repeat("a", 128):  strings.Repeat("a", 128),
		strings.Repeat("a", 129):  strings.Repeat("a", 128) + "... (129 characters)",
		strings.Repeat("é", 128):  strings.Repeat("é", 128), // 256 bytes, 128 characters
		strings.Repeat("日本", 100): strings.Repeat("日本", 64) + "... (200 characters)",
	} {
		if got := shorten(in); got != want {
			t.Errorf("shorten(%d bytes) = %q, want %q", len(in), got, want)
		}
	}
}

func TestJSONLenBoundsEncoding(t *testing.T) {
	for _, s := range []string{"", "plain", "<>&", "\x00\x1f\n\t\"\\", "é日本𝄞", "\u2028\u2029", "\xff\xfe", "\uFFFD"} {
		b, _ := json.Marshal(s)
		if got, enc := jsonLen(s), len(b)-2; got < enc {
			t.Errorf("jsonLen(%q) = %d, encoded in %d bytes", s, got, enc)
		}
	}
}
