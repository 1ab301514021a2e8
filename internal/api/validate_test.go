package api

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func validImport() *ImportCustomWorkspaceImageInput {
	return &ImportCustomWorkspaceImageInput{
		ImageName:                      String("my-image_1.0"),
		ImageDescription:               String("A test image (v1)"),
		ComputeType:                    String(ImageComputeTypeBase),
		Protocol:                       String(CustomImageProtocolDcv),
		ImageSource:                    &ImageSourceIdentifier{Ec2ImageId: String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: String("arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/my-config"),
		Platform:                       String(PlatformWindows),
		OsVersion:                      String(OSVersionWindows11),
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		input func() Input
		want  string // substring of the message; "" means valid
	}{
		{"valid import", func() Input { return validImport() }, ""},
		{"required", func() Input { in := validImport(); in.ImageName = nil; return in },
			"1 validation error detected: Value null at 'imageName' failed to satisfy constraint: Member must not be null"},
		{"min length", func() Input { in := validImport(); in.ImageDescription = String(""); return in },
			"Value '' at 'imageDescription' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"max length", func() Input { in := validImport(); in.ImageName = String(strings.Repeat("a", 65)); return in },
			"at 'imageName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"max length counts characters, not bytes", func() Input {
			in := &CreateTagsInput{ResourceId: String("wsi-123456789"), Tags: []Tag{{Key: String(strings.Repeat("é", 127))}}}
			return in
		}, ""},
		{"pattern", func() Input { in := validImport(); in.ImageName = String("bad name!"); return in },
			`Value 'bad name!' at 'imageName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_./()\\-]+$`},
		{"pattern only anchored at the end", func() Input {
			return &DescribeCustomWorkspaceImageImportInput{ImageId: String("xx-wsi-123456789")}
		}, ""},
		{"pattern anchored at the end", func() Input {
			return &DescribeCustomWorkspaceImageImportInput{ImageId: String("wsi-123456789!")}
		}, "at 'imageId' failed to satisfy constraint: Member must satisfy regular expression pattern: wsi-[0-9a-z]{9,63}$"},
		{"enum", func() Input { in := validImport(); in.Protocol = String("RDP"); return in },
			"Value 'RDP' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [PCOIP, DCV, BYOP]"},
		{"range max", func() Input { return &DescribeWorkspaceImagesInput{MaxResults: Int32(26)} },
			"Value '26' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 25"},
		{"range min", func() Input { return &DescribeWorkspaceImagesInput{MaxResults: Int32(0)} },
			"Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"list length", func() Input {
			ids := make([]string, 26)
			for i := range ids {
				ids[i] = "wsi-123456789"
			}
			return &DescribeWorkspaceImagesInput{ImageIds: ids}
		}, "at 'imageIds' failed to satisfy constraint: Member must have length less than or equal to 25"},
		{"list element", func() Input { return &DescribeWorkspaceImagesInput{ImageIds: []string{"wsi-123456789", "nope"}} },
			"Value 'nope' at 'imageIds.2.member' failed to satisfy constraint"},
		{"nested structure in a list", func() Input {
			in := validImport()
			in.Tags = []Tag{{Key: String("ok")}, {Value: String("v")}}
			return in
		}, "Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null"},
		{"union with no member", func() Input { in := validImport(); in.ImageSource = &ImageSourceIdentifier{}; return in },
			"Value at 'imageSource' failed to satisfy constraint: Union must have exactly one member set, but 0 are set"},
		{"union with two members", func() Input {
			in := validImport()
			in.ImageSource.Ec2ImportTaskId = String("import-ami-01234567")
			return in
		}, "but 2 are set"},
		{"union member constraint", func() Input {
			in := validImport()
			in.ImageSource = &ImageSourceIdentifier{Ec2ImageId: String("ami-XYZ")}
			return in
		}, "at 'imageSource.ec2ImageId' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"several errors are counted", func() Input {
			in := validImport()
			in.ImageName, in.Platform = nil, String("LINUX")
			return in
		}, "2 validation errors detected: Value null at 'imageName' failed to satisfy constraint: Member must not be null; Value 'LINUX' at 'platform'"},
		{"long pattern split for RE2 still matches", func() Input {
			return &ModifyWorkspaceCreationPropertiesInput{
				ResourceId: String("d-1234567890"),
				WorkspaceCreationProperties: &WorkspaceCreationProperties{
					InstanceIamRoleArn: String("arn:aws:iam::123456789012:role/" + strings.Repeat("r", 900)),
				},
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.input().Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			apiErr, ok := err.(*Error)
			if !ok || apiErr.Code != "ValidationException" || apiErr.Status != 400 {
				t.Fatalf("Validate() = %#v, want a 400 ValidationException", err)
			}
			if !strings.Contains(apiErr.Message, tt.want) {
				t.Errorf("message = %q\nwant it to contain %q", apiErr.Message, tt.want)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		wire string
		want time.Time
		ok   bool
	}{
		{"1796000664", time.Unix(1796000664, 0), true},
		{"1796000664.339", time.Unix(1796000664, 339e6), true},
		{"1.796000664339E9", time.Unix(1796000664, 339e6), true},
		{"0", time.Unix(0, 0), true},
		{`"2026-11-30T00:00:00Z"`, time.Time{}, false},
		{"null", time.Time{}, true},
		{"true", time.Time{}, false},
	}
	for _, tt := range tests {
		var v struct {
			T *Timestamp `json:"T"`
		}
		err := json.Unmarshal([]byte(`{"T":`+tt.wire+`}`), &v)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.wire, err, tt.ok)
			continue
		}
		if err != nil || v.T == nil {
			continue
		}
		if !v.T.Equal(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.wire, v.T.Time, tt.want)
		}
	}
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1796000664, 0), "1796000664"},
		{time.Unix(1796000664, 339e6), "1796000664.339"},
		{time.Unix(1796000664, 339999e3), "1796000664.339"},
	} {
		got, _ := json.Marshal(Timestamp{tt.t})
		if string(got) != tt.want {
			t.Errorf("Marshal(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}

func TestOperationTableIsComplete(t *testing.T) {
	if len(Operations) != 91 {
		t.Errorf("len(Operations) = %d, want the model's 91", len(Operations))
	}
	empty := NewRegistry()
	for name, op := range Operations {
		if op.Name != name || op.NewInput() == nil {
			t.Errorf("operation %s is malformed", name)
		}
		in := op.NewInput()
		out, err := empty.Dispatch(t.Context(), op, in)
		if out != nil {
			t.Errorf("%s: unimplemented operation returned output %v", name, out)
		}
		if verr := in.Validate(); verr != nil {
			// Validation comes first, for every caller.
			if err == nil || err.Error() != verr.Error() {
				t.Errorf("%s: err = %v, want the validation error %v", name, err, verr)
			}
			continue
		}
		if e, ok := err.(*NotImplementedError); !ok || e.Operation != name || e.HTTPStatus() != 501 {
			t.Errorf("%s: err = %v, want NotImplementedError naming it", name, err)
		}
	}
	if got := empty.Implemented(); len(got) != 0 {
		t.Errorf("an empty registry implements %v", got)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	Handle(r, OpDescribeAccount, func(_ context.Context, in *DescribeAccountInput) (*DescribeAccountOutput, error) {
		return &DescribeAccountOutput{Message: String("hello")}, nil
	})
	Handle(r, OpDescribeWorkspaceImages, func(context.Context, *DescribeWorkspaceImagesInput) (*DescribeWorkspaceImagesOutput, error) {
		panic("boom")
	})
	if got := r.Implemented(); !slices.Equal(got, []string{"DescribeAccount", "DescribeWorkspaceImages"}) {
		t.Errorf("Implemented() = %v", got)
	}
	if !r.Implements("DescribeAccount") || r.Implements("DescribeWorkspaces") {
		t.Error("Implements is wrong")
	}
	out, err := r.Dispatch(t.Context(), OpDescribeAccount.Operation, &DescribeAccountInput{})
	if err != nil || *out.(*DescribeAccountOutput).Message != "hello" {
		t.Errorf("Dispatch = %v, %v", out, err)
	}
	if _, err := r.Dispatch(t.Context(), OpDescribeWorkspaceImages.Operation, &DescribeWorkspaceImagesInput{}); err == nil || !strings.Contains(err.Error(), "panic in DescribeWorkspaceImages: boom") {
		t.Errorf("a panicking handler gave %v", err)
	}
	// Dispatch validates before the handler runs.
	_, err = r.Dispatch(t.Context(), OpDescribeWorkspaceImages.Operation, &DescribeWorkspaceImagesInput{MaxResults: Int32(99)})
	if e, ok := err.(*Error); !ok || e.Code != "ValidationException" {
		t.Errorf("invalid input gave %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering an operation twice did not panic")
		}
	}()
	Handle(r, OpDescribeAccount, func(context.Context, *DescribeAccountInput) (*DescribeAccountOutput, error) { return nil, nil })
}

func TestOutputsOmitAbsentMembers(t *testing.T) {
	out := DescribeCustomWorkspaceImageImportOutput{ImageId: String("wsi-123456789"), ProgressPercentage: Int32(0)}
	got, _ := json.Marshal(out)
	if string(got) != `{"ImageId":"wsi-123456789","ProgressPercentage":0}` {
		t.Errorf("Marshal = %s", got)
	}
	list, _ := json.Marshal(DescribeWorkspaceImagesOutput{Images: []WorkspaceImage{}})
	if string(list) != `{"Images":[]}` {
		t.Errorf("an empty list that was set must be sent: %s", list)
	}
}
