package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"

	"github.com/wsim/wsim/e2e/process"
)

// The account and directory the Terraform test acts with: the access key
// is the account id, and wsim's friendly directories take any d- id as an
// Active Directory that exists.
const (
	tfAccount     = "210987654321"
	tfDirectoryID = "d-9067a1b2c3"
)

// tfCommandTimeout bounds one terraform command. The provider polls with
// its own timers; the longest wait is the fixed one-minute delay after a
// ModifyWorkspaceProperties (terraform-provider-aws's WorkspaceUpdatingDelay).
const tfCommandTimeout = 5 * time.Minute

// TestTerraform applies e2e/terraform/lifecycle with the real Terraform and
// hashicorp/aws provider against a wsim binary: an IP group, a directory
// with its property blocks and the group, a WorkSpace on the public bundle
// wsb-bh8rsxt14 found by the aws_workspaces_bundle data source by id and by
// owner and name. A second plan must show no change, an in-place update
// (rules, directory properties and IP groups, the WorkSpace's auto-stop
// timeout, tags) must plan clean again, the resources imported by id must
// match the configuration, and destroy must leave nothing; aws-sdk-go-v2
// checks what wsim holds at each step. Terraform runs offline, from a
// filesystem mirror of the provider; the test skips where either is missing.
func TestTerraform(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "lifecycle")
	// Under the quick profile every state lasts seconds, so the provider's
	// waiters see REGISTERING, PENDING, TERMINATING, TERMINATED and
	// DEREGISTERING before the state they wait for.
	srv := process.Start(t, "--profile", "quick")
	c := srv.Client(t, tfAccount, usEast1)
	tf.vars = []string{
		"-var", "endpoint=" + srv.URL,
		"-var", "account=" + tfAccount,
		"-var", "directory_id=" + tfDirectoryID,
	}

	tf.run(t, "init", "-input=false", "-no-color")
	tf.run(t, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "updated=false")

	out := tf.outputs(t)
	var bundle map[string]string
	tfOutput(t, out, "bundle", &bundle)
	wantBundle := map[string]string{
		"id": "wsb-bh8rsxt14", "by_name_id": "wsb-bh8rsxt14", "name": "Value with Windows 10 (Server 2016 based)",
		"owner": bundle["owner"], "compute_type": "VALUE", "root": "80", "user": "10",
	}
	// The API reference spells the owner AMAZON, AWS's answers (the
	// provider's acceptance tests, an older example of the AWS CLI) Amazon.
	if !maps.Equal(bundle, wantBundle) || !strings.EqualFold(bundle["owner"], "AMAZON") {
		t.Errorf("aws_workspaces_bundle = %v, want %v", bundle, wantBundle)
	}
	var account, groupID string
	tfOutput(t, out, "account_id", &account)
	tfOutput(t, out, "ip_group_id", &groupID)
	if account != tfAccount {
		t.Errorf("aws_caller_identity account_id = %q, want %q", account, tfAccount)
	}
	var dir, ws map[string]string
	tfOutput(t, out, "directory", &dir)
	tfOutput(t, out, "workspace", &ws)
	if dir["id"] != tfDirectoryID || dir["registration_code"] == "" {
		t.Errorf("aws_workspaces_directory = %v, want id %s and a registration code", dir, tfDirectoryID)
	}
	if !strings.HasPrefix(ws["id"], "ws-") || ws["state"] != "AVAILABLE" || ws["by_user"] != ws["id"] {
		t.Errorf("aws_workspaces_workspace = %v, want a ws- id, AVAILABLE, found by directory and user name", ws)
	}
	var dirData map[string]string
	tfOutput(t, out, "directory_data", &dirData)
	wantDirData := map[string]string{"id": tfDirectoryID, "registration_code": dir["registration_code"],
		"ip_group_ids": groupID, "tags": "step=created,team=euc"}
	if !maps.Equal(dirData, wantDirData) {
		t.Errorf("data.aws_workspaces_directory = %v, want %v", dirData, wantDirData)
	}

	checkTerraformState(t, c, groupID, groupID, ws["id"], false)
	tf.planClean(t, "updated=false")

	tf.run(t, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "updated=true")
	var branchID string
	tfOutput(t, tf.outputs(t), "branch_ip_group_id", &branchID)
	if !strings.HasPrefix(branchID, "wsipg-") || branchID == groupID {
		t.Fatalf("the update's second IP group is %q, want a new wsipg- id", branchID)
	}
	checkTerraformState(t, c, groupID, branchID, ws["id"], true)
	tf.planClean(t, "updated=true")

	// Forgotten by Terraform and imported again by id alone, each resource
	// must read back as the configuration says: an apply imports all four
	// and changes nothing.
	tf.run(t, "state", "rm", "-no-color", "aws_workspaces_workspace.jdoe", "aws_workspaces_directory.corp",
		"aws_workspaces_ip_group.office", "aws_workspaces_ip_group.branch[0]")
	imports := fmt.Sprintf(`import {
  to = aws_workspaces_ip_group.office
  id = %q
}
import {
  to = aws_workspaces_ip_group.branch[0]
  id = %q
}
import {
  to = aws_workspaces_directory.corp
  id = %q
}
import {
  to = aws_workspaces_workspace.jdoe
  id = %q
}
`, groupID, branchID, tfDirectoryID, ws["id"])
	if err := os.WriteFile(filepath.Join(tf.dir, "imports.tf"), []byte(imports), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := tf.run(t, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "updated=true"); !strings.Contains(out, "Resources: 4 imported, 0 added, 0 changed, 0 destroyed.") {
		t.Errorf("terraform apply of the imports did more than import the four resources:\n%s", out)
	}

	tf.run(t, "destroy", "-auto-approve", "-input=false", "-no-color", "-var", "updated=true")
	checkTerraformGone(t, c, ws["id"])
}

// TestTerraformCreateWorkspaceFailure applies e2e/terraform/failure: a
// WorkSpace in a directory never registered with WorkSpaces. CreateWorkspaces
// answers with the request in FailedRequests (ResourceNotFound.Directory and
// AWS's message, as terraform-provider-aws issue #31482 shows them), the
// apply fails with them, and neither Terraform's state nor wsim holds a
// WorkSpace. This configuration also skips STS, as configurations with
// skip_credentials_validation and skip_requesting_account_id do.
func TestTerraformCreateWorkspaceFailure(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "failure")
	srv := process.Start(t, "--profile", "instant")
	tf.vars = []string{
		"-var", "endpoint=" + srv.URL,
		"-var", "account=" + tfAccount,
		"-var", "directory_id=" + tfDirectoryID,
	}
	tf.run(t, "init", "-input=false", "-no-color")
	args := append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, tf.vars...)
	out, code := tf.exec(t, args...)
	if code != 1 {
		t.Fatalf("terraform apply of a WorkSpace in an unregistered directory: exit %d, want 1\n%s", code, out)
	}
	const want = "ResourceNotFound.Directory: The specified directory could not be found in the specified region."
	if !strings.Contains(out, want) {
		t.Errorf("terraform apply's error does not carry CreateWorkspaces' failed request %q:\n%s", want, out)
	}
	if state := tf.run(t, "state", "list", "-no-color"); strings.TrimSpace(state) != "" {
		t.Errorf("terraform state after the failed apply = %q, want empty", state)
	}
	c := srv.Client(t, tfAccount, usEast1)
	wss, err := c.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{})
	if err != nil {
		t.Fatalf("DescribeWorkspaces: %v", err)
	}
	if len(wss.Workspaces) != 0 {
		t.Errorf("after the failed apply the account has WorkSpaces %+v, want none", wss.Workspaces)
	}
}

// checkTerraformState checks through aws-sdk-go-v2 what the configuration
// made, as first applied or as updated: the office group groupID, the
// directory associated with the group associatedID, and the WorkSpace.
func checkTerraformState(t *testing.T, c *workspaces.Client, groupID, associatedID, workspaceID string, updated bool) {
	t.Helper()
	step := map[bool]string{false: "created", true: "updated"}[updated]
	wantTags := map[string]string{"team": "euc", "step": step}

	groups, err := c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{GroupIds: []string{groupID}})
	if err != nil {
		t.Fatalf("DescribeIpGroups: %v", err)
	}
	if len(groups.Result) != 1 {
		t.Fatalf("DescribeIpGroups(%s) = %d groups, want 1", groupID, len(groups.Result))
	}
	g := groups.Result[0]
	rules := map[string]string{}
	for _, r := range g.UserRules {
		rules[aws.ToString(r.IpRule)] = aws.ToString(r.RuleDesc)
	}
	wantRules := map[string]string{"10.0.0.0/16": "head office", "172.16.0.0/12": "vpn"}
	if updated {
		wantRules = map[string]string{"10.0.0.0/16": "head office", "192.168.10.0/24": "branch office"}
	}
	if aws.ToString(g.GroupName) != "wsim-tf-office" || aws.ToString(g.GroupDesc) != "Office networks" || !maps.Equal(rules, wantRules) {
		t.Errorf("IP group = %s %q %q rules %v, want wsim-tf-office \"Office networks\" rules %v",
			aws.ToString(g.GroupId), aws.ToString(g.GroupName), aws.ToString(g.GroupDesc), rules, wantRules)
	}
	if got := describeTags(t, c, groupID); !maps.Equal(got, wantTags) {
		t.Errorf("IP group tags = %v, want %v", got, wantTags)
	}

	dirs, err := c.DescribeWorkspaceDirectories(ctx(t), &workspaces.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{tfDirectoryID}})
	if err != nil {
		t.Fatalf("DescribeWorkspaceDirectories: %v", err)
	}
	if len(dirs.Directories) != 1 {
		t.Fatalf("DescribeWorkspaceDirectories(%s) = %d directories, want 1", tfDirectoryID, len(dirs.Directories))
	}
	d := dirs.Directories[0]
	if d.State != types.WorkspaceDirectoryStateRegistered || !slices.Equal(d.IpGroupIds, []string{associatedID}) {
		t.Errorf("directory state %s, ip groups %v; want REGISTERED with [%s]", d.State, d.IpGroupIds, associatedID)
	}
	enabled := func(b bool) types.ReconnectEnum {
		if b {
			return types.ReconnectEnumEnabled
		}
		return types.ReconnectEnumDisabled
	}
	wantSelf := types.SelfservicePermissions{
		ChangeComputeType: enabled(updated), IncreaseVolumeSize: types.ReconnectEnumEnabled,
		RebuildWorkspace: types.ReconnectEnumDisabled, RestartWorkspace: types.ReconnectEnumEnabled,
		SwitchRunningMode: enabled(updated),
	}
	if p := d.SelfservicePermissions; p == nil || *p != wantSelf {
		t.Errorf("SelfservicePermissions = %+v, want %+v", p, wantSelf)
	}
	linux, zero := types.AccessPropertyValueDeny, types.AccessPropertyValueAllow
	if updated {
		linux, zero = types.AccessPropertyValueAllow, types.AccessPropertyValueDeny
	}
	if a := d.WorkspaceAccessProperties; a == nil || a.DeviceTypeLinux != linux || a.DeviceTypeZeroClient != zero ||
		a.DeviceTypeWeb != types.AccessPropertyValueDeny || a.DeviceTypeWindows != types.AccessPropertyValueAllow {
		t.Errorf("WorkspaceAccessProperties = %+v, want Linux %s, ZeroClient %s, Web DENY, Windows ALLOW", a, linux, zero)
	}
	if p := d.WorkspaceCreationProperties; p == nil || aws.ToBool(p.EnableInternetAccess) != updated ||
		aws.ToBool(p.UserEnabledAsLocalAdministrator) == updated || !aws.ToBool(p.EnableMaintenanceMode) ||
		aws.ToString(p.DefaultOu) != "OU=WorkSpaces,DC=corp,DC=example,DC=com" {
		t.Errorf("WorkspaceCreationProperties = %+v (updated %v)", p, updated)
	}
	if got := describeTags(t, c, tfDirectoryID); !maps.Equal(got, wantTags) {
		t.Errorf("directory tags = %v, want %v", got, wantTags)
	}

	wss, err := c.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{WorkspaceIds: []string{workspaceID}})
	if err != nil {
		t.Fatalf("DescribeWorkspaces: %v", err)
	}
	if len(wss.Workspaces) != 1 {
		t.Fatalf("DescribeWorkspaces(%s) = %d WorkSpaces, want 1", workspaceID, len(wss.Workspaces))
	}
	w := wss.Workspaces[0]
	timeout := int32(60)
	if updated {
		timeout = 120
	}
	if w.State != types.WorkspaceStateAvailable || aws.ToString(w.DirectoryId) != tfDirectoryID ||
		aws.ToString(w.BundleId) != "wsb-bh8rsxt14" || aws.ToString(w.UserName) != "jdoe" {
		t.Errorf("WorkSpace = %s %s in %s, bundle %s, user %s; want AVAILABLE in %s, wsb-bh8rsxt14, jdoe",
			aws.ToString(w.WorkspaceId), w.State, aws.ToString(w.DirectoryId), aws.ToString(w.BundleId), aws.ToString(w.UserName), tfDirectoryID)
	}
	if p := w.WorkspaceProperties; p == nil || p.RunningMode != types.RunningModeAutoStop ||
		aws.ToInt32(p.RunningModeAutoStopTimeoutInMinutes) != timeout || p.ComputeTypeName != types.ComputeValue ||
		aws.ToInt32(p.RootVolumeSizeGib) != 80 || aws.ToInt32(p.UserVolumeSizeGib) != 10 {
		t.Errorf("WorkspaceProperties = %+v, want AUTO_STOP after %d min, VALUE, 80 / 10 GiB", p, timeout)
	}
	if got := describeTags(t, c, workspaceID); !maps.Equal(got, wantTags) {
		t.Errorf("WorkSpace tags = %v, want %v", got, wantTags)
	}
}

// checkTerraformGone checks that destroy left nothing of the configuration.
func checkTerraformGone(t *testing.T, c *workspaces.Client, workspaceID string) {
	t.Helper()
	wss, err := c.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{WorkspaceIds: []string{workspaceID}})
	if err != nil {
		t.Fatalf("DescribeWorkspaces: %v", err)
	}
	if len(wss.Workspaces) != 0 {
		t.Errorf("after destroy, DescribeWorkspaces(%s) = %+v, want none", workspaceID, wss.Workspaces)
	}
	dirs, err := c.DescribeWorkspaceDirectories(ctx(t), &workspaces.DescribeWorkspaceDirectoriesInput{})
	if err != nil {
		t.Fatalf("DescribeWorkspaceDirectories: %v", err)
	}
	// A deregistered directory is shown DEREGISTERED briefly before it is
	// gone, as in AWS; the provider takes that state as gone.
	for _, d := range dirs.Directories {
		if d.State != types.WorkspaceDirectoryStateDeregistered {
			t.Errorf("after destroy, the account has directory %s in state %s, want none (or DEREGISTERED)", aws.ToString(d.DirectoryId), d.State)
		}
	}
	groups, err := c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{})
	if err != nil {
		t.Fatalf("DescribeIpGroups: %v", err)
	}
	if len(groups.Result) != 0 {
		t.Errorf("after destroy, the account has IP groups %+v, want none", groups.Result)
	}
}

// terraform runs the terraform CLI in a working directory of its own, on a
// copy of a configuration under e2e/terraform, offline: the hashicorp/aws provider comes from a
// filesystem mirror and nothing else is installed or contacted.
type terraform struct {
	bin, dir string
	env      []string
	// vars are the -var arguments every plan, apply and destroy takes.
	vars []string
	// log is the provider's debug log (requests and responses), shown
	// when a command fails.
	log string
}

// newTerraform prepares a working directory with the configuration
// e2e/terraform/<config> and the CLI configuration, or skips t when
// terraform or a mirror of the provider is missing.
func newTerraform(t *testing.T, config string) *terraform {
	t.Helper()
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform is not on PATH; install Terraform to run the Terraform end-to-end test")
	}
	mirror := providerMirror()
	if mirror == "" {
		t.Skipf("no filesystem mirror holds registry.terraform.io/hashicorp/aws for %s_%s (looked in $WSIM_TERRAFORM_MIRROR and %s); "+
			"put the provider there to run the Terraform end-to-end test", runtime.GOOS, runtime.GOARCH, strings.Join(mirrorCandidates()[1:], ", "))
	}
	dir := t.TempDir()
	configs, err := filepath.Glob(filepath.Join("terraform", config, "*.tf"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no configuration in e2e/terraform/%s: %v", config, err)
	}
	for _, f := range configs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cliConfig := filepath.Join(dir, "cli.tfrc")
	if err := os.WriteFile(cliConfig, []byte(fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
`, mirror)), 0o644); err != nil {
		t.Fatal(err)
	}
	tf := &terraform{bin: bin, dir: dir, log: filepath.Join(dir, "provider.log")}
	// Nothing of the caller's AWS or Terraform settings may leak in: no
	// profile, shared files, endpoint overrides or plugin caches.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "TF_") {
			tf.env = append(tf.env, kv)
		}
	}
	none := filepath.Join(dir, "no-such-file")
	tf.env = append(tf.env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1", // no version check against checkpoint-api.hashicorp.com
		"TF_LOG_PROVIDER=DEBUG",
		"TF_LOG_PATH="+tf.log,
		"AWS_CONFIG_FILE="+none,
		"AWS_SHARED_CREDENTIALS_FILE="+none,
		"AWS_EC2_METADATA_DISABLED=true",
	)
	return tf
}

// mirrorCandidates are where the provider's filesystem mirror may be:
// $WSIM_TERRAFORM_MIRROR, then the directories Terraform itself searches on
// Unix, then /opt/tf-plugins.
func mirrorCandidates() []string {
	dirs := []string{os.Getenv("WSIM_TERRAFORM_MIRROR")}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".terraform.d", "plugins"), filepath.Join(home, ".local", "share", "terraform", "plugins"))
	}
	return append(dirs, "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins", "/opt/tf-plugins")
}

// providerMirror returns the first candidate that holds an unpacked
// hashicorp/aws provider for this platform, or "".
func providerMirror() string {
	for _, dir := range mirrorCandidates() {
		if dir == "" {
			continue
		}
		pattern := filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws", "*", runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-aws*")
		if found, _ := filepath.Glob(pattern); len(found) > 0 {
			return dir
		}
	}
	return ""
}

// exec runs terraform with args in the working directory and returns its
// output and exit code; it fails t if terraform could not run at all.
func (tf *terraform) exec(t *testing.T, args ...string) (string, int) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), tfCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(c, tf.bin, args...)
	cmd.Dir, cmd.Env = tf.dir, tf.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	started := time.Now()
	err := cmd.Run()
	t.Logf("terraform %s: %s", args[0], time.Since(started).Round(100*time.Millisecond))
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit) && c.Err() == nil:
		return out.String(), exit.ExitCode()
	}
	tf.fail(t, args, out.String(), err)
	return "", -1
}

// run runs terraform with args (and the -var arguments, for the commands
// that take them) and fails t unless it succeeds.
func (tf *terraform) run(t *testing.T, args ...string) string {
	t.Helper()
	if slices.Contains([]string{"plan", "apply", "destroy"}, args[0]) {
		args = append(args, tf.vars...)
	}
	out, code := tf.exec(t, args...)
	if code != 0 {
		tf.fail(t, args, out, fmt.Errorf("exit status %d", code))
	}
	return out
}

// planClean checks that a plan with the variable assignment shows no change:
// what wsim reads back is exactly what the configuration says.
func (tf *terraform) planClean(t *testing.T, assignment string) {
	t.Helper()
	args := append([]string{"plan", "-detailed-exitcode", "-input=false", "-no-color", "-var", assignment}, tf.vars...)
	out, code := tf.exec(t, args...)
	switch code {
	case 0:
	case 2:
		t.Fatalf("terraform plan (%s) after apply wants changes; wsim reads back something else than was applied:\n%s", assignment, out)
	default:
		tf.fail(t, args, out, fmt.Errorf("exit status %d", code))
	}
}

// outputs returns the root module's outputs as JSON values.
func (tf *terraform) outputs(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	raw := tf.run(t, "output", "-json", "-no-color")
	var outs map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(raw), &outs); err != nil {
		t.Fatalf("terraform output -json: %v\n%s", err, raw)
	}
	values := map[string]json.RawMessage{}
	for k, v := range outs {
		values[k] = v.Value
	}
	return values
}

// fail ends t with the command's output and the end of the provider's
// debug log, which shows the requests to wsim and its answers.
func (tf *terraform) fail(t *testing.T, args []string, out string, err error) {
	t.Helper()
	logTail := ""
	if b, rerr := os.ReadFile(tf.log); rerr == nil {
		lines := strings.Split(string(b), "\n")
		logTail = strings.Join(lines[max(0, len(lines)-120):], "\n")
	}
	t.Fatalf("terraform %s: %v\n%s\n--- end of the provider's debug log ---\n%s", strings.Join(args, " "), err, out, logTail)
}

// tfOutput decodes the output name into v.
func tfOutput(t *testing.T, outs map[string]json.RawMessage, name string, v any) {
	t.Helper()
	raw, ok := outs[name]
	if !ok {
		t.Fatalf("terraform output %s is missing", name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("terraform output %s = %s: %v", name, raw, err)
	}
}
