package e2e_test

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
	"github.com/aws/smithy-go"

	"github.com/wsim/wsim/e2e/process"
)

// TestMetricsProcess checks through the real binary that /metrics exposes
// the series beside the request ones: the resources by kind and state and
// their failures by code (computed at the service time), the clock, the
// control-plane actions, the API errors by code and the store errors; and
// that request lines carry the error code and control actions are logged
// with who asked.
func TestMetricsProcess(t *testing.T) {
	t.Parallel()
	srv := process.Start(t, "--profile", "quick", "--log-format", "json")
	srv.Freeze(t)
	ws := srv.Client(t, accountA, usEast1)
	for _, name := range []string{"golden", "doomed"} {
		var tags []types.Tag
		if name == "doomed" {
			tags = []types.Tag{{Key: aws.String("wsim:fail-at"), Value: aws.String("GENERALIZING")}}
		}
		if _, err := ws.ImportCustomWorkspaceImage(ctx(t), importInput(name, tags...)); err != nil {
			t.Fatal(err)
		}
	}
	metrics := func() string {
		t.Helper()
		status, _, body := srv.Do(t, http.MethodGet, "/metrics", nil, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /metrics = %d", status)
		}
		return string(body)
	}
	expect := func(exposition string, lines ...string) {
		t.Helper()
		for _, line := range lines {
			if !regexp.MustCompile(`(?m)^` + line + `$`).MatchString(exposition) {
				t.Errorf("/metrics has no line matching %s", line)
			}
		}
	}
	expect(metrics(),
		`wsim_resources\{kind="custom-import",state="PENDING"\} 2`,
		`wsim_resources_truncated 0`,
		`wsim_resources_scrape_success 1`,
		`wsim_clock_frozen 1`,
		`wsim_clock_offset_seconds -?[0-9.e+-]+`,
		`wsim_control_actions_total\{action="clock.freeze"\} 1`,
		`wsim_control_actions_total\{action="reset"\} 0`,
		`wsim_store_errors_total\{kind="unavailable"\} 0`,
		`wsim_store_errors_total\{kind="internal"\} 0`,
	)

	srv.Advance(t, 2*time.Hour) // past the end of both
	_, err := ws.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String("wsi-000000000")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ResourceNotFoundException" {
		t.Fatalf("describe an unknown import: %v", err)
	}
	expect(metrics(),
		`wsim_resources\{kind="custom-import",state="COMPLETED"\} 1`,
		`wsim_resources\{kind="custom-import",state="ERROR"\} 1`,
		`wsim_resource_failures\{code="AppXPackagesInstalled",kind="custom-import"\} 1`,
		`wsim_clock_offset_seconds 7[0-9]{3}(\.[0-9]+)?(e\+[0-9]+)?`,
		`wsim_control_actions_total\{action="clock.advance"\} 1`,
		`wsim_api_errors_total\{code="ResourceNotFoundException",operation="DescribeCustomWorkspaceImageImport"\} 1`,
		`wsim_api_requests_total\{operation="ImportCustomWorkspaceImage",status="200"\} 2`,
	)

	logs := srv.Logs()
	if !regexp.MustCompile(`"msg":"request".*"operation":"DescribeCustomWorkspaceImageImport".*"status":400.*"error_code":"ResourceNotFoundException"`).MatchString(logs) {
		t.Errorf("no request line with the error code in:\n%s", logs)
	}
	if !regexp.MustCompile(`"level":"INFO","msg":"control action","action":"clock.advance","remote_addr":"127\.0\.0\.1:[0-9]+","by":"2h0m0s"`).MatchString(logs) {
		t.Errorf("no control action line for the advance in:\n%s", logs)
	}
}

// TestGetCallerIdentityGoSDK asks wsim who the caller is through
// aws-sdk-go-v2's STS client, as Terraform's provider does at start.
func TestGetCallerIdentityGoSDK(t *testing.T) {
	t.Parallel()
	srv := startInProcess(t, "--default-account", "999988887777")
	client := func(key, region string) *sts.Client {
		return sts.New(sts.Options{
			Region: region, BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(key, "test", ""),
		})
	}
	for _, tt := range []struct {
		key, region, account, arn string
	}{
		{accountA, usEast1, accountA, "arn:aws:iam::" + accountA + ":user/wsim"},
		{accountB, euWest1, accountB, "arn:aws:iam::" + accountB + ":user/wsim"},
		{"AKIAIOSFODNN7EXAMPLE", usEast1, "999988887777", "arn:aws:iam::999988887777:user/wsim"},
		{accountA, "cn-northwest-1", accountA, "arn:aws-cn:iam::" + accountA + ":user/wsim"},
	} {
		out, err := client(tt.key, tt.region).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity as %s in %s: %v", tt.key, tt.region, err)
		}
		if aws.ToString(out.Account) != tt.account || aws.ToString(out.Arn) != tt.arn || aws.ToString(out.UserId) != "AIDAWSIM"+tt.account {
			t.Errorf("GetCallerIdentity as %s in %s = %s %s %s; want %s %s", tt.key, tt.region,
				aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId), tt.account, tt.arn)
		}
	}
	// Any other STS action is STS's InvalidAction.
	_, err := client(accountA, usEast1).GetSessionToken(ctx(t), &sts.GetSessionTokenInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidAction" || !strings.Contains(apiErr.ErrorMessage(), "GetSessionToken") {
		t.Errorf("GetSessionToken: %v, want InvalidAction", err)
	}
	// And WorkSpaces is unaffected on the same port.
	if _, err := srv.Client(t, accountA, usEast1).DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
		t.Errorf("DescribeWorkspaceImages beside STS: %v", err)
	}
}

// TestVersionProcess checks `wsim version` through the real binary: the
// version, the VCS revision (or that there is none), the API model and the
// Go version; and, built with -buildvcs=true from a git checkout, that the
// revision is the checkout's.
func TestVersionProcess(t *testing.T) {
	t.Parallel()
	lines := regexp.MustCompile(`^wsim (\S+)\n` +
		`(revision [0-9a-f]{40}, committed \S+(, with local modifications)?|revision unknown \(built without VCS information\))\n` +
		`WorkSpaces API 2015-04-08, 91 operations, model from botocore \S+.*\n` +
		`built with go\S+\n$`)
	out, err := process.Command(t, "version").Output()
	if err != nil || !lines.Match(out) {
		t.Fatalf("wsim version: %v, output:\n%s", err, out)
	}

	// A build that records the revision, as `go build` does by default in a
	// checkout (unless GOFLAGS says -buildvcs=false).
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout (%v): the revision cannot be checked", err)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("git rev-parse HEAD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "wsim")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/wsim")
	build.Dir = strings.TrimSpace(string(root))
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version").Output()
	if err != nil || !lines.Match(out) {
		t.Fatalf("wsim version: %v, output:\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^wsim (\S+)\nrevision ([0-9a-f]{40}), committed (\S+?)(,|\n)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no revision in:\n%s", out)
	}
	if rev := strings.TrimSpace(string(head)); string(m[2]) != rev {
		t.Errorf("revision %s, want HEAD %s", m[2], rev)
	}
	if _, err := time.Parse(time.RFC3339, string(m[3])); err != nil {
		t.Errorf("commit time %q: %v", m[3], err)
	}
	// The module version of a VCS build is the commit's tag or a
	// pseudo-version naming the commit, never "dev".
	if v := string(m[1]); !strings.HasPrefix(v, "v") {
		t.Errorf("version %s, want the module version of commit %s", v, m[2])
	}
	// CGO_ENABLED=0 builds a static binary that runs: the README's line.
	if out, err := exec.Command("file", bin).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
		t.Errorf("CGO_ENABLED=0 build is not static: %s", out)
	}
}
