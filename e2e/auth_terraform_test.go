package e2e_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/workspaces"
)

// TestTerraformSigV4 applies e2e/terraform/sigv4 (an IP group) with the real
// Terraform and hashicorp/aws provider against a wsim that verifies
// signatures: the provider's signatures (STS and WorkSpaces) are accepted,
// the caller is the file's principal, and a wrong secret fails the plan
// with the signature error.
func TestTerraformSigV4(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "sigv4")
	srv := startSigV4(t)
	tf.vars = []string{"-var", "endpoint=" + srv.URL, "-var", "access_key=" + adminKey, "-var", "secret_key=" + adminSecret}
	tf.run(t, "init", "-input=false", "-no-color")
	tf.run(t, "apply", "-auto-approve", "-input=false", "-no-color")
	out := tf.outputs(t)
	var groupID, callerARN string
	tfOutput(t, out, "ip_group_id", &groupID)
	tfOutput(t, out, "caller_arn", &callerARN)
	if callerARN != "arn:aws:iam::111122223333:user/admin" {
		t.Errorf("aws_caller_identity = %q, want the file's principal", callerARN)
	}
	c := signedClient(srv, t, adminKey, adminSecret, "", usEast1)
	groups, err := c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{GroupIds: []string{groupID}})
	if err != nil || len(groups.Result) != 1 {
		t.Fatalf("DescribeIpGroups(%s) = %+v, %v", groupID, groups, err)
	}
	tf.planClean(t, "endpoint="+srv.URL)

	wrong := append([]string{"plan", "-input=false", "-no-color", "-refresh=true"},
		"-var", "endpoint="+srv.URL, "-var", "access_key="+adminKey, "-var", "secret_key=not-the-secret")
	if out, code := tf.exec(t, wrong...); code == 0 || !strings.Contains(out, "SignatureDoesNotMatch") && !strings.Contains(out, "InvalidSignatureException") {
		t.Errorf("terraform plan with a wrong secret: exit %d, want the signature error:\n%s", code, out)
	}
	tf.run(t, "destroy", "-auto-approve", "-input=false", "-no-color")
	if groups, err := c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{}); err != nil || len(groups.Result) != 0 {
		t.Errorf("after destroy: %+v, %v", groups, err)
	}
}
