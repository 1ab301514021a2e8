// Package e2e_test drives wsim with aws-sdk-go-v2, the way a user's Go code
// would, and with raw HTTP where the SDK would refuse to send the request at
// all. Most tests run wsim inside the test process through package wsimtest,
// once per store (harness_test.go); those only a real process can show start
// the binary through package process.
package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
	"github.com/aws/smithy-go"

	"github.com/wsim/wsim/e2e/process"
)

func TestMain(m *testing.M) { os.Exit(process.Main(m)) }

// Accounts and Regions the tests act as.
const (
	accountA = "111122223333"
	accountB = "444455556666"
	usEast1  = "us-east-1"
	euWest1  = "eu-west-1"
)

const (
	infraARN  = "arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/byol-infra"
	sourceAMI = "ami-0123456789abcdef0"
	buildARN  = "arn:aws:imagebuilder:us-east-1:111122223333:image/byol-win11/1.0.0/1"
)

// customImportStates is the lifecycle of a successful import, in order.
var customImportStates = []types.CustomWorkspaceImageImportState{
	"PENDING", "IN_PROGRESS", "PROCESSING_SOURCE_IMAGE", "IMAGE_TESTING_START",
	"UPDATING_OPERATING_SYSTEM", "IMAGE_COMPATIBILITY_CHECKING",
	"IMAGE_TESTING_GENERALIZATION", "CREATING_TEST_INSTANCE",
	"INSTALLING_COMPONENTS", "GENERALIZING", "VALIDATING", "PUBLISHING", "COMPLETED",
}

// nonTerminalStates are the stages an import can fail at.
var nonTerminalStates = customImportStates[:len(customImportStates)-1]

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// importInput is a valid ImportCustomWorkspaceImage request for name.
func importInput(name string, tags ...types.Tag) *workspaces.ImportCustomWorkspaceImageInput {
	return &workspaces.ImportCustomWorkspaceImageInput{
		ImageName:                      aws.String(name),
		ImageDescription:               aws.String("Windows 11 BYOL image"),
		ComputeType:                    types.ImageComputeTypeBase,
		Protocol:                       types.CustomImageProtocolDcv,
		ImageSource:                    &types.ImageSourceIdentifierMemberEc2ImageId{Value: sourceAMI},
		InfrastructureConfigurationArn: aws.String(infraARN),
		Platform:                       types.PlatformWindows,
		OsVersion:                      types.OSVersionWindows11,
		Tags:                           tags,
	}
}

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func importImage(t *testing.T, c *workspaces.Client, in *workspaces.ImportCustomWorkspaceImageInput) string {
	t.Helper()
	out, err := c.ImportCustomWorkspaceImage(ctx(t), in)
	if err != nil {
		t.Fatalf("ImportCustomWorkspaceImage(%s): %v", aws.ToString(in.ImageName), err)
	}
	if out.State != types.CustomWorkspaceImageImportStatePending {
		t.Errorf("ImportCustomWorkspaceImage State = %q, want PENDING", out.State)
	}
	return aws.ToString(out.ImageId)
}

func describeImport(t *testing.T, c *workspaces.Client, id string) *workspaces.DescribeCustomWorkspaceImageImportOutput {
	t.Helper()
	out, err := c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeCustomWorkspaceImageImport(%s): %v", id, err)
	}
	return out
}

func catalogueImage(t *testing.T, c *workspaces.Client, id string) types.WorkspaceImage {
	t.Helper()
	out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeWorkspaceImages(%s): %v", id, err)
	}
	if len(out.Images) != 1 {
		t.Fatalf("DescribeWorkspaceImages(%s) returned %d images, want 1", id, len(out.Images))
	}
	return out.Images[0]
}

// wantAPIError checks that err is the AWS error code with the HTTP status, and
// that its message contains every fragment; it returns the error's message.
func wantAPIError(t *testing.T, err error, code string, status int, fragments ...string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an AWS API error, want %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Errorf("error code = %q, want %q (message %q)", apiErr.ErrorCode(), code, apiErr.ErrorMessage())
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		if got := respErr.HTTPStatusCode(); got != status {
			t.Errorf("%s: HTTP status = %d, want %d", code, got, status)
		}
		if ct := respErr.Response.Header.Get("Content-Type"); ct != contentType {
			t.Errorf("%s: Content-Type = %q, want %q", code, ct, contentType)
		}
		if respErr.ServiceRequestID() == "" {
			t.Errorf("%s: the SDK saw no request id", code)
		}
	} else {
		t.Errorf("error %v carries no HTTP response", err)
	}
	msg := apiErr.ErrorMessage()
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("%s message %q does not contain %q", code, msg, f)
		}
	}
	return msg
}

// awsErrorBody is an AWS JSON 1.1 error body.
type awsErrorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// wantRawError checks a raw response is the AWS-shaped JSON error code.
func wantRawError(t *testing.T, status int, hdr http.Header, body []byte, wantStatus int, code string, fragments ...string) awsErrorBody {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status = %d, want %d (body %s)", status, wantStatus, body)
	}
	if ct := hdr.Get("Content-Type"); ct != contentType {
		t.Errorf("Content-Type = %q, want %q", ct, contentType)
	}
	if hdr.Get("X-Amzn-Requestid") == "" {
		t.Errorf("no x-amzn-RequestId header")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("error body is not a JSON object: %v: %q", err, body)
	}
	for _, k := range []string{"__type", "message"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("error body %s has no %q", body, k)
		}
	}
	var e awsErrorBody
	json.Unmarshal(body, &e)
	if e.Type != code {
		t.Errorf("__type = %q, want %q (message %q)", e.Type, code, e.Message)
	}
	if e.Message == "" {
		t.Errorf("empty error message")
	}
	for _, f := range fragments {
		if !strings.Contains(e.Message, f) {
			t.Errorf("message %q does not contain %q", e.Message, f)
		}
	}
	return e
}

// validImportJSON is a valid ImportCustomWorkspaceImage body with its
// ImageSource replaced by source (a JSON value).
func validImportJSON(name, source string) string {
	return fmt.Sprintf(`{"ImageName":%q,"ImageDescription":"raw import","ComputeType":"BASE","Protocol":"DCV",`+
		`"ImageSource":%s,"InfrastructureConfigurationArn":%q,"Platform":"WINDOWS","OsVersion":"Windows_10"}`,
		name, source, infraARN)
}
