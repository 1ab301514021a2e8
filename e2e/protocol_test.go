package e2e_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

// TestSuccessfulCall checks the plain path: a call the SDK parses, with the
// request id header that it exposes.
func TestSuccessfulCall(t *testing.T) { forEachStore(t, successfulCall) }

func successfulCall(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)

	out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
	if err != nil {
		t.Fatalf("DescribeWorkspaceImages: %v", err)
	}
	if len(out.Images) != 0 || out.NextToken != nil {
		t.Errorf("a new account has images: %+v", out)
	}
	id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if !ok || id == "" {
		t.Errorf("the SDK exposes no request id (ok=%v, id=%q)", ok, id)
	}

	status, hdr, body := srv.Raw(t, targetPrefix+"DescribeWorkspaceImages", `{}`, authHeader(accountA, usEast1))
	if status != http.StatusOK {
		t.Fatalf("raw DescribeWorkspaceImages: status %d: %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); ct != contentType {
		t.Errorf("Content-Type = %q, want %q", ct, contentType)
	}
	if hdr.Get("X-Amzn-Requestid") == "" {
		t.Errorf("no x-amzn-RequestId header in %v", hdr)
	}
	if hdr.Get("X-Amzn-Requestid") == id {
		t.Errorf("two requests share the request id %s", id)
	}
	if strings.Contains(string(body), "null") {
		t.Errorf("response %s contains null: absent members must be omitted", body)
	}
}

// TestValidationErrors sends one violation of each kind of model constraint
// and checks the AWS framework's wording names the member and the constraint.
func TestValidationErrors(t *testing.T) { forEachStore(t, validationErrors) }

func validationErrors(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)

	many := make([]string, 26)
	for i := range many {
		many[i] = "wsi-" + strings.Repeat("0", 8) + string(rune('a'+i))
	}
	withName := func(name string) *workspaces.ImportCustomWorkspaceImageInput { return importInput(name) }

	tests := []struct {
		name      string
		call      func() error
		fragments []string
	}{
		{
			name:      "min length",
			call:      func() error { _, err := c.ImportCustomWorkspaceImage(ctx(t), withName("")); return err },
			fragments: []string{"Value '' at 'imageName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		},
		{
			name: "max length",
			call: func() error {
				_, err := c.ImportCustomWorkspaceImage(ctx(t), withName(strings.Repeat("a", 65)))
				return err
			},
			fragments: []string{"Value '" + strings.Repeat("a", 65) + "' at 'imageName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		},
		{
			name: "pattern",
			call: func() error { _, err := c.ImportCustomWorkspaceImage(ctx(t), withName("bad name!")); return err },
			fragments: []string{
				"1 validation error detected: ",
				"Value 'bad name!' at 'imageName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_./()",
			},
		},
		{
			name: "pattern of a nested union member",
			call: func() error {
				in := importInput("nested-pattern")
				in.ImageSource = &types.ImageSourceIdentifierMemberEc2ImageId{Value: "ami-XYZ"}
				_, err := c.ImportCustomWorkspaceImage(ctx(t), in)
				return err
			},
			fragments: []string{"Value 'ami-XYZ' at 'imageSource.ec2ImageId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^ami\\-([a-f0-9]{8}|[a-f0-9]{17})$"},
		},
		{
			name: "enum",
			call: func() error {
				in := importInput("bad-enum")
				in.ComputeType = "HUGE"
				_, err := c.ImportCustomWorkspaceImage(ctx(t), in)
				return err
			},
			fragments: []string{"Value 'HUGE' at 'computeType' failed to satisfy constraint: Member must satisfy enum value set: [BASE, GRAPHICS_G4DN, GRAPHICS_G6]"},
		},
		{
			name: "length of a list element's member",
			call: func() error {
				_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("long-tag", tag("ok", "v"), tag(strings.Repeat("k", 128), "v")))
				return err
			},
			fragments: []string{"at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 127"},
		},
		{
			name: "numeric range above",
			call: func() error {
				_, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{MaxResults: aws.Int32(26)})
				return err
			},
			fragments: []string{"Value '26' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 25"},
		},
		{
			name: "numeric range below",
			call: func() error {
				_, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{MaxResults: aws.Int32(0)})
				return err
			},
			fragments: []string{"Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		},
		{
			name: "list length",
			call: func() error {
				_, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageIds: many})
				return err
			},
			fragments: []string{"at 'imageIds' failed to satisfy constraint: Member must have length less than or equal to 25"},
		},
		{
			name: "two violations",
			call: func() error {
				in := importInput("bad name!")
				in.Protocol = "RDP"
				_, err := c.ImportCustomWorkspaceImage(ctx(t), in)
				return err
			},
			fragments: []string{"2 validation errors detected: ", "'imageName'", "'protocol'"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.call(), "ValidationException", http.StatusBadRequest, tt.fragments...)
		})
	}
}

// TestValidationErrorsRaw covers the constraints the SDK checks before
// sending (required members) or cannot express (unions with zero or two
// members), so they go over raw HTTP.
func TestValidationErrorsRaw(t *testing.T) { forEachStore(t, validationErrorsRaw) }

func validationErrorsRaw(t *testing.T, store storeBackend) {
	srv := store.start(t)
	tests := []struct {
		name, op, body string
		fragments      []string
	}{
		{
			name: "required", op: "DescribeCustomWorkspaceImageImport", body: `{}`,
			fragments: []string{"1 validation error detected: Value null at 'imageId' failed to satisfy constraint: Member must not be null"},
		},
		{
			name: "required members of import", op: "ImportCustomWorkspaceImage", body: `{"ImageName":"x"}`,
			fragments: []string{"Value null at 'imageDescription' failed to satisfy constraint: Member must not be null", "'imageSource'", "'osVersion'"},
		},
		{
			name: "union with no member", op: "ImportCustomWorkspaceImage", body: validImportJSON("union-zero", `{}`),
			fragments: []string{"'imageSource'", "exactly one member", "0 are set"},
		},
		{
			name: "union with two members", op: "ImportCustomWorkspaceImage",
			body:      validImportJSON("union-two", `{"Ec2ImageId":"`+sourceAMI+`","ImageBuildVersionArn":"`+buildARN+`"}`),
			fragments: []string{"'imageSource'", "exactly one member", "2 are set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := srv.Raw(t, targetPrefix+tt.op, tt.body, nil)
			wantRawError(t, status, hdr, body, http.StatusBadRequest, "ValidationException", tt.fragments...)
		})
	}
}

// TestProtocolErrors checks that whatever arrives, the answer is an
// AWS-shaped JSON error with the right status, never HTML.
func TestProtocolErrors(t *testing.T) { forEachStore(t, protocolErrors) }

func protocolErrors(t *testing.T, store storeBackend) {
	srv := store.start(t)
	const images = targetPrefix + "DescribeWorkspaceImages"
	tests := []struct {
		name, method, target, body string
		auth                       string
		status                     int
		code                       string
		fragments                  []string
	}{
		{name: "unknown operation", method: "POST", target: targetPrefix + "Nope", body: `{}`,
			status: 400, code: "UnknownOperationException", fragments: []string{"Nope"}},
		{name: "foreign target prefix", method: "POST", target: "AmazonEC2.DescribeWorkspaceImages", body: `{}`,
			status: 400, code: "UnknownOperationException"},
		{name: "no target", method: "POST", body: `{}`, status: 400, code: "UnknownOperationException"},
		{name: "GET / without target", method: "GET", status: 400, code: "UnknownOperationException"},
		{name: "wrongly typed member", method: "POST", target: images, body: `{"MaxResults":"x"}`,
			status: 400, code: "SerializationException", fragments: []string{"MaxResults"}},
		{name: "string where a list belongs", method: "POST", target: images, body: `{"ImageIds":"wsi-123456789"}`,
			status: 400, code: "SerializationException", fragments: []string{"ImageIds"}},
		{name: "array body", method: "POST", target: images, body: `[1,2]`, status: 400, code: "SerializationException"},
		{name: "string body", method: "POST", target: images, body: `"hello"`, status: 400, code: "SerializationException"},
		{name: "malformed JSON", method: "POST", target: images, body: `{"MaxResults":`, status: 400, code: "SerializationException"},
		{name: "trailing data", method: "POST", target: images, body: `{} {}`, status: 400, code: "SerializationException"},
		{name: "unimplemented operation", method: "POST", target: targetPrefix + "DescribeWorkspacesPools", body: `{}`,
			status: 501, code: "NotImplementedException", fragments: []string{"DescribeWorkspacesPools"}},
		{name: "malformed Authorization", method: "POST", target: images, body: `{}`,
			auth: "AWS4-HMAC-SHA256 Credential=garbage", status: 400, code: "IncompleteSignatureException"},
		{name: "Authorization scoped to another service", method: "POST", target: images, body: `{}`,
			auth:   "AWS4-HMAC-SHA256 Credential=111122223333/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00",
			status: 403, code: "InvalidSignatureException", fragments: []string{"workspaces"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": contentType}
			if tt.target != "" {
				h["X-Amz-Target"] = tt.target
			}
			if tt.auth != "" {
				h["Authorization"] = tt.auth
			}
			status, hdr, body := srv.Do(t, tt.method, "/", strings.NewReader(tt.body), h)
			if strings.Contains(strings.ToLower(string(body)), "<html") {
				t.Errorf("HTML in an API error: %s", body)
			}
			wantRawError(t, status, hdr, body, tt.status, tt.code, tt.fragments...)
		})
	}
}

// TestOversizedBody checks a body over the 4 MiB limit is refused with a JSON
// error rather than read or answered with a bare status.
func TestOversizedBody(t *testing.T) { forEachStore(t, oversizedBody) }

func oversizedBody(t *testing.T, store storeBackend) {
	srv := store.start(t)
	body := `{"NextToken":"` + strings.Repeat("a", 5<<20) + `"}`
	status, hdr, resp := srv.Raw(t, targetPrefix+"DescribeWorkspaceImages", body, nil)
	wantRawError(t, status, hdr, resp, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException")
}

// countingTransport counts the HTTP requests a client sends.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestUnimplementedOperation checks that a modelled operation wsim does not
// implement yet answers 501 naming it, and that the SDK, left with its
// default of three attempts, does not retry it.
func TestUnimplementedOperation(t *testing.T) { forEachStore(t, unimplementedOperation) }

func unimplementedOperation(t *testing.T, store storeBackend) {
	srv := store.start(t)
	counter := &countingTransport{next: http.DefaultTransport}
	c := srv.Client(t, accountA, usEast1, func(o *workspaces.Options) {
		o.Retryer = retry.NewStandard() // the SDK's default: three attempts, 5xx retried
		o.HTTPClient = &http.Client{Transport: counter}
	})
	_, err := c.DescribeWorkspacesPools(ctx(t), &workspaces.DescribeWorkspacesPoolsInput{})
	wantAPIError(t, err, "NotImplementedException", http.StatusNotImplemented, "DescribeWorkspacesPools")
	if n := counter.n.Load(); n != 1 {
		t.Errorf("the SDK sent %d requests for an unimplemented operation, want 1 (no retry)", n)
	}

}

// TestTimestamps checks timestamps go out as epoch seconds (with fractions)
// and read back as the service clock's time.
func TestTimestamps(t *testing.T) { forEachStore(t, timestamps) }

func timestamps(t *testing.T, store storeBackend) {
	srv := store.start(t)
	srv.Freeze(t)
	at := srv.Now(t).Add(time.Hour).Truncate(time.Second).Add(250 * time.Millisecond)
	srv.SetClock(t, at)

	status, _, body := srv.Raw(t, targetPrefix+"ImportCustomWorkspaceImage",
		validImportJSON("timestamps", `{"Ec2ImageId":"`+sourceAMI+`"}`), nil)
	if status != http.StatusOK {
		t.Fatalf("import: %d %s", status, body)
	}
	var created struct{ ImageId string }
	json.Unmarshal(body, &created)

	status, _, body = srv.Raw(t, targetPrefix+"DescribeCustomWorkspaceImageImport", `{"ImageId":"`+created.ImageId+`"}`, nil)
	if status != http.StatusOK {
		t.Fatalf("describe: %d %s", status, body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{"Created", "LastUpdatedTime"} {
		var n json.Number
		if err := json.Unmarshal(raw[member], &n); err != nil {
			t.Errorf("%s = %s, want a JSON number of epoch seconds", member, raw[member])
			continue
		}
		f, _ := n.Float64()
		if want := float64(at.UnixMilli()) / 1000; f != want {
			t.Errorf("%s = %s, want %v", member, n, want)
		}
	}
	if strings.Contains(string(body), "null") {
		t.Errorf("response %s contains null: absent members must be omitted", body)
	}
	if _, ok := raw["ErrorDetails"]; ok {
		t.Errorf("ErrorDetails present on a healthy import: %s", body)
	}
	if src := string(raw["ImageSource"]); src != `{"Ec2ImageId":"`+sourceAMI+`"}` {
		t.Errorf("ImageSource = %s, want the union with its one member", src)
	}

	// The SDK reads the same instant, to the millisecond.
	c := srv.Client(t, defaultAccount, defaultRegion)
	out := describeImport(t, c, created.ImageId)
	if !aws.ToTime(out.Created).Equal(at) {
		t.Errorf("SDK Created = %v, want %v", aws.ToTime(out.Created), at)
	}
	img := catalogueImage(t, c, created.ImageId)
	if !aws.ToTime(img.Created).Equal(at) {
		t.Errorf("SDK catalogue Created = %v, want %v", aws.ToTime(img.Created), at)
	}
}

// TestCallerFromCredentials checks the account comes from a 12-digit access
// key id and any other key acts for the default account.
func TestCallerFromCredentials(t *testing.T) { forEachStore(t, callerFromCredentials) }

func callerFromCredentials(t *testing.T, store storeBackend) {
	srv := store.start(t)
	other := srv.Client(t, "AKIDEXAMPLE", usEast1)
	id := importImage(t, other, importInput("from-akid"))
	def := srv.Client(t, defaultAccount, usEast1)
	if img := catalogueImage(t, def, id); aws.ToString(img.OwnerAccountId) != defaultAccount {
		t.Errorf("OwnerAccountId = %q, want the default account %s", aws.ToString(img.OwnerAccountId), defaultAccount)
	}
	// Unsigned requests act for the default account and Region too.
	status, _, body := srv.Raw(t, targetPrefix+"DescribeCustomWorkspaceImageImport", `{"ImageId":"`+id+`"}`, nil)
	if status != http.StatusOK {
		t.Errorf("unsigned describe: %d %s", status, body)
	}
	// A modelled error carries its modelled members, which the SDK decodes.
	_, err := def.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String("wsi-111111111")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != "wsi-111111111" {
		t.Errorf("error %v: want a ResourceNotFoundException with ResourceId wsi-111111111", err)
	}
}
