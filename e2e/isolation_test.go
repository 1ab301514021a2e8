package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/e2e/process"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// Isolation between accounts and Regions (issue 11, point 3): account A
// holds one resource of every kind in us-east-1; every implemented operation
// is then tried against them by account B in us-east-1 and by account A in
// eu-west-1, and A's resources must read back unchanged. Only an image A
// shares is visible to B, and only while it is shared.

// isoFixture is what account A holds in us-east-1.
type isoFixture struct {
	image, legacy, copy, bundle, dir, group, ws string
	imageName, legacyName, groupName, user      string
	bundleName                                  string
	// imagesToken is the NextToken of A's first page of one image.
	imagesToken *string
}

// isoCIDR is the management range A's BYOL modification moves to.
const isoCIDR = "10.20.0.0/16"

// isoSetup creates, as A in us-east-1, an imported image (tagged), an image
// from the older import, a copy, a bundle on the image, a registered
// directory with an IP group associated, a WorkSpace and a BYOL account
// modification.
func isoSetup(t *testing.T, a *workspaces.Client) isoFixture {
	t.Helper()
	fx := isoFixture{imageName: "iso-win11", legacyName: "iso-legacy", groupName: "iso-office", bundleName: "iso-bundle", user: "alice", dir: directoryID}
	if err := modifyAccount(t, a, isoCIDR); err != nil {
		t.Fatalf("ModifyAccount: %v", err)
	}
	fx.image = importImage(t, a, importInput(fx.imageName, tag("team", "desk")))
	legacy, err := a.ImportWorkspaceImage(ctx(t), ciLegacyInput(fx.legacyName))
	if err != nil {
		t.Fatalf("ImportWorkspaceImage: %v", err)
	}
	fx.legacy = aws.ToString(legacy.ImageId)
	if fx.copy, err = ciCopy(t, a, "iso-copy", usEast1, fx.image, tag("copy", "yes")); err != nil {
		t.Fatalf("CopyWorkspaceImage: %v", err)
	}
	fx.bundle = aws.ToString(createBundle(t, a, bundleInput(fx.bundleName, fx.image, tag("team", "desk"))).BundleId)
	page, err := a.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{MaxResults: aws.Int32(1)})
	if err != nil || page.NextToken == nil {
		t.Fatalf("A's first page of images: %v %+v", err, page)
	}
	fx.imagesToken = page.NextToken
	registerWSDirectory(t, a, fx.dir, types.TenancyDedicated)
	if got := wsDirectoryState(t, a, fx.dir); got != string(types.WorkspaceDirectoryStateRegistered) {
		t.Fatalf("directory %s is %s, want REGISTERED", fx.dir, got)
	}
	fx.group = createIPGroup(t, a, fx.groupName, ipRule("10.0.0.0/8", "office"))
	if _, err := a.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(fx.dir), GroupIds: []string{fx.group}}); err != nil {
		t.Fatalf("AssociateIpGroups: %v", err)
	}
	fx.ws = launchWorkspace(t, a, wsRequest(fx.dir, fx.user, fx.bundle, types.RunningModeAutoStop, tag("team", "desk")))
	if got := workspaceState(t, a, fx.ws); got != string(types.WorkspaceStateAvailable) {
		t.Fatalf("WorkSpace %s is %s, want AVAILABLE", fx.ws, got)
	}
	// A's quota of WorkSpaces in the Region (one by default) is full.
	full, err := a.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{wsRequest(fx.dir, "bob", publicWindowsBundle, "")}})
	if err != nil || len(full.FailedRequests) != 1 || aws.ToString(full.FailedRequests[0].ErrorCode) != "ResourceLimitExceeded" {
		t.Fatalf("A's second WorkSpace: %v, failed %s; want ResourceLimitExceeded", err, isoJSON(full))
	}
	return fx
}

// isoState is everything A can read about its resources, as JSON: the
// before and after of the outsiders' calls must be equal.
func isoState(t *testing.T, a *workspaces.Client, fx isoFixture) string {
	t.Helper()
	c := ctx(t)
	state := map[string]any{}
	read := func(what string, err error, v func() any) {
		t.Helper()
		if err != nil {
			t.Fatalf("A reads %s: %v", what, err)
		}
		state[what] = v()
	}
	images, err := a.DescribeWorkspaceImages(c, &workspaces.DescribeWorkspaceImagesInput{})
	read("images", err, func() any { return images.Images })
	if images.NextToken != nil {
		t.Fatal("A's images take more than one page")
	}
	for _, id := range []string{fx.image, fx.legacy, fx.copy} {
		perms, err := a.DescribeWorkspaceImagePermissions(c, &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(id)})
		read("permissions "+id, err, func() any { return perms.ImagePermissions })
	}
	imp, err := a.DescribeCustomWorkspaceImageImport(c, &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(fx.image)})
	read("import", err, func() any { return imp })
	bundles, err := a.DescribeWorkspaceBundles(c, &workspaces.DescribeWorkspaceBundlesInput{})
	read("bundles", err, func() any { return bundles.Bundles })
	dirs, err := a.DescribeWorkspaceDirectories(c, &workspaces.DescribeWorkspaceDirectoriesInput{})
	read("directories", err, func() any { return dirs.Directories })
	client, err := a.DescribeClientProperties(c, &workspaces.DescribeClientPropertiesInput{ResourceIds: []string{fx.dir}})
	read("client properties", err, func() any { return client.ClientPropertiesList })
	groups, err := a.DescribeIpGroups(c, &workspaces.DescribeIpGroupsInput{})
	read("ip groups", err, func() any { return groups.Result })
	ws, err := a.DescribeWorkspaces(c, &workspaces.DescribeWorkspacesInput{})
	read("workspaces", err, func() any { return ws.Workspaces })
	conn, err := a.DescribeWorkspacesConnectionStatus(c, &workspaces.DescribeWorkspacesConnectionStatusInput{WorkspaceIds: []string{fx.ws}})
	read("connection status", err, func() any { return conn.WorkspacesConnectionStatus })
	snaps, err := a.DescribeWorkspaceSnapshots(c, &workspaces.DescribeWorkspaceSnapshotsInput{WorkspaceId: aws.String(fx.ws)})
	read("snapshots", err, func() any { return snaps })
	for _, id := range []string{fx.image, fx.legacy, fx.copy, fx.bundle, fx.dir, fx.group, fx.ws} {
		tags, err := a.DescribeTags(c, &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
		read("tags "+id, err, func() any { return tags.TagList })
	}
	acct, err := a.DescribeAccount(c, &workspaces.DescribeAccountInput{})
	read("account", err, func() any { return acct })
	state["modifications"] = modifications(t, a)
	cidrs, err := a.ListAvailableManagementCidrRanges(c, &workspaces.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: aws.String("10.16.0.0/12")})
	read("cidr ranges", err, func() any { return cidrs.ManagementCidrRanges })
	assoc, err := a.DescribeImageAssociations(c, &workspaces.DescribeImageAssociationsInput{ImageId: aws.String(fx.image), AssociatedResourceTypes: []types.ImageAssociatedResourceType{types.ImageAssociatedResourceTypeApplication}})
	read("image associations", err, func() any { return assoc.Associations })
	b, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// outsider is a caller that must not see or change A's resources in
// us-east-1: another account there, or A itself in another Region.
type outsider struct {
	name, account, region string
	c                     *workspaces.Client
}

// isoRow is one operation tried by an outsider against A's resources.
type isoRow struct {
	op  string
	try func(t *testing.T, o outsider, fx isoFixture)
}

func isoNotFound(t *testing.T, err error, fragments ...string) {
	t.Helper()
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, fragments...)
}

// isoFailedItems checks a batch call answered with exactly one failed item,
// for id, with code.
func isoFailedItems(t *testing.T, failed []types.FailedWorkspaceChangeRequest, id, code string) {
	t.Helper()
	if len(failed) != 1 || aws.ToString(failed[0].WorkspaceId) != id || aws.ToString(failed[0].ErrorCode) != code {
		t.Fatalf("FailedRequests = %s, want %s for %s", isoJSON(failed), code, id)
	}
}

func isoJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// isoNone checks that a listing holds none of A's ids.
func isoNone(t *testing.T, what string, got []string, err error, fx isoFixture) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, id := range got {
		if slices.Contains([]string{fx.image, fx.legacy, fx.copy, fx.bundle, fx.dir, fx.group, fx.ws}, id) {
			t.Errorf("%s lists A's %s (all: %v)", what, id, got)
		}
	}
}

func isoImageIDs(out *workspaces.DescribeWorkspaceImagesOutput) []string {
	if out == nil {
		return nil
	}
	return ciIDs(out.Images)
}

func isoBundleIDs(out *workspaces.DescribeWorkspaceBundlesOutput) []string {
	var ids []string
	if out != nil {
		for _, b := range out.Bundles {
			ids = append(ids, aws.ToString(b.BundleId))
		}
	}
	return ids
}

func isoDirectoryIDs(out *workspaces.DescribeWorkspaceDirectoriesOutput) []string {
	var ids []string
	if out != nil {
		for _, d := range out.Directories {
			ids = append(ids, aws.ToString(d.DirectoryId))
		}
	}
	return ids
}

func isoGroupIDs(out *workspaces.DescribeIpGroupsOutput) []string {
	var ids []string
	if out != nil {
		for _, g := range out.Result {
			ids = append(ids, aws.ToString(g.GroupId))
		}
	}
	return ids
}

func isoWorkspaceIDs(out *workspaces.DescribeWorkspacesOutput) []string {
	var ids []string
	if out != nil {
		for _, w := range out.Workspaces {
			ids = append(ids, aws.ToString(w.WorkspaceId))
		}
	}
	return ids
}

// isoRows has one row per implemented operation. Rows run in order; those
// that create something in the outsider's own account and Region (A's names
// are free there) come last, so the listings before them are the
// outsider's empty ones.
var isoRows = []isoRow{
	// Images.
	{"DescribeWorkspaceImages", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{fx.image, fx.legacy, fx.copy}})
		if err == nil && len(out.Images) != 0 {
			t.Errorf("by id: %v", isoImageIDs(out))
		}
		isoNone(t, "by id", isoImageIDs(out), err, fx)
		for _, typ := range []types.ImageType{"", types.ImageTypeOwned, types.ImageTypeShared} {
			out, err := o.c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageType: typ})
			if err != nil || len(out.Images) != 0 {
				t.Errorf("ImageType %q: %v, lists %v, want nothing", typ, err, isoImageIDs(out))
			}
		}
		// A's NextToken turns no page of A's: tokens name a position, and
		// the outsider's listing has nothing after it.
		out, err = o.c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{MaxResults: aws.Int32(1), NextToken: fx.imagesToken})
		if err == nil && len(out.Images) != 0 {
			t.Errorf("A's NextToken lists %v", isoImageIDs(out))
		}
	}},
	{"DescribeCustomWorkspaceImageImport", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(fx.image)})
		isoNotFound(t, err)
	}},
	{"DescribeWorkspaceImagePermissions", func(t *testing.T, o outsider, fx isoFixture) {
		for _, id := range []string{fx.image, fx.copy} {
			_, err := o.c.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(id)})
			isoNotFound(t, err)
		}
	}},
	{"DescribeImageAssociations", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DescribeImageAssociations(ctx(t), &workspaces.DescribeImageAssociationsInput{ImageId: aws.String(fx.image),
			AssociatedResourceTypes: []types.ImageAssociatedResourceType{types.ImageAssociatedResourceTypeApplication}})
		isoNotFound(t, err)
	}},
	{"UpdateWorkspaceImagePermission", func(t *testing.T, o outsider, fx isoFixture) {
		for _, allow := range []bool{true, false} {
			isoNotFound(t, ciShare(t, o.c, fx.image, accountC, allow))
		}
	}},
	{"CopyWorkspaceImage", func(t *testing.T, o outsider, fx isoFixture) {
		// The source named in the outsider's own Region, and for B in A's.
		for _, region := range slices.Compact([]string{o.region, usEast1}) {
			if o.account == accountA && region == usEast1 {
				continue // A copying its own image across Regions is allowed
			}
			_, err := ciCopy(t, o.c, "iso-stolen", region, fx.image)
			isoNotFound(t, err)
		}
	}},
	{"CreateUpdatedWorkspaceImage", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.CreateUpdatedWorkspaceImage(ctx(t), &workspaces.CreateUpdatedWorkspaceImageInput{
			Name: aws.String("iso-updated"), Description: aws.String("updated"), SourceImageId: aws.String(fx.image)})
		isoNotFound(t, err)
	}},
	{"DeleteWorkspaceImage", func(t *testing.T, o outsider, fx isoFixture) {
		// No image of the caller has the id: success that deletes nothing
		// (docs/images.md); the state comparison shows A's images remain.
		for _, id := range []string{fx.image, fx.legacy, fx.copy} {
			if err := ciDelete(t, o.c, id); err != nil {
				t.Errorf("DeleteWorkspaceImage(%s): %v, want the success of an image the caller does not have", id, err)
			}
		}
	}},
	// Bundles.
	{"DescribeWorkspaceBundles", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{BundleIds: []string{fx.bundle}})
		if err == nil && len(out.Bundles) != 0 {
			t.Errorf("by id: %v", isoBundleIDs(out))
		}
		isoNone(t, "by id", isoBundleIDs(out), err, fx)
		var own []string
		for _, b := range ownBundles(t, o.c) {
			own = append(own, aws.ToString(b.BundleId))
		}
		if len(own) != 0 {
			t.Errorf("own bundles %v, want none", own)
		}
		amazon, err := o.c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{Owner: aws.String("AMAZON")})
		isoNone(t, "Owner AMAZON", isoBundleIDs(amazon), err, fx)
		// Owner names the caller's own account or AMAZON, never another's.
		byOwner, err := o.c.DescribeWorkspaceBundles(ctx(t), &workspaces.DescribeWorkspaceBundlesInput{Owner: aws.String(accountA)})
		if o.account == accountA {
			if err != nil || len(byOwner.Bundles) != 0 {
				t.Errorf("Owner %s in %s: %v, lists %v", accountA, o.region, err, isoBundleIDs(byOwner))
			}
		} else {
			wantAPIError(t, err, "InvalidParameterValuesException", http.StatusBadRequest)
		}
	}},
	{"CreateWorkspaceBundle", func(t *testing.T, o outsider, fx isoFixture) {
		for _, id := range []string{fx.image, fx.copy} {
			_, err := o.c.CreateWorkspaceBundle(ctx(t), bundleInput("iso-bundle", id))
			isoNotFound(t, err, id)
		}
	}},
	{"UpdateWorkspaceBundle", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.UpdateWorkspaceBundle(ctx(t), &workspaces.UpdateWorkspaceBundleInput{BundleId: aws.String(fx.bundle), ImageId: aws.String(fx.copy)})
		isoNotFound(t, err)
	}},
	{"DeleteWorkspaceBundle", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{BundleId: aws.String(fx.bundle)})
		isoNotFound(t, err)
	}},
	// Tags, on every kind.
	{"DescribeTags", func(t *testing.T, o outsider, fx isoFixture) {
		for _, id := range []string{fx.image, fx.legacy, fx.copy, fx.bundle, fx.dir, fx.group, fx.ws} {
			_, err := o.c.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
			isoNotFound(t, err)
		}
	}},
	{"CreateTags", func(t *testing.T, o outsider, fx isoFixture) {
		for _, id := range []string{fx.image, fx.legacy, fx.copy, fx.bundle, fx.dir, fx.group, fx.ws} {
			_, err := o.c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("team", "intruder")}})
			isoNotFound(t, err)
		}
	}},
	{"DeleteTags", func(t *testing.T, o outsider, fx isoFixture) {
		for _, id := range []string{fx.image, fx.legacy, fx.copy, fx.bundle, fx.dir, fx.group, fx.ws} {
			_, err := o.c.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(id), TagKeys: []string{"team"}})
			isoNotFound(t, err)
		}
	}},
	// Directories.
	{"DescribeWorkspaceDirectories", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.DescribeWorkspaceDirectories(ctx(t), &workspaces.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{fx.dir}})
		if err == nil && len(out.Directories) != 0 {
			t.Errorf("by id: %v", isoDirectoryIDs(out))
		}
		all, err := o.c.DescribeWorkspaceDirectories(ctx(t), &workspaces.DescribeWorkspaceDirectoriesInput{})
		if err == nil && len(all.Directories) != 0 {
			t.Errorf("listing: %v", isoDirectoryIDs(all))
		}
	}},
	{"DescribeClientProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DescribeClientProperties(ctx(t), &workspaces.DescribeClientPropertiesInput{ResourceIds: []string{fx.dir}})
		isoNotFound(t, err, fx.dir)
	}},
	{"ModifyClientProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyClientProperties(ctx(t), &workspaces.ModifyClientPropertiesInput{ResourceId: aws.String(fx.dir),
			ClientProperties: &types.ClientProperties{ReconnectEnabled: types.ReconnectEnumDisabled}})
		isoNotFound(t, err)
	}},
	{"ModifyWorkspaceCreationProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyWorkspaceCreationProperties(ctx(t), &workspaces.ModifyWorkspaceCreationPropertiesInput{ResourceId: aws.String(fx.dir),
			WorkspaceCreationProperties: &types.WorkspaceCreationProperties{EnableInternetAccess: aws.Bool(true)}})
		isoNotFound(t, err)
	}},
	{"ModifyWorkspaceAccessProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyWorkspaceAccessProperties(ctx(t), &workspaces.ModifyWorkspaceAccessPropertiesInput{ResourceId: aws.String(fx.dir),
			WorkspaceAccessProperties: &types.WorkspaceAccessProperties{DeviceTypeLinux: types.AccessPropertyValueAllow}})
		isoNotFound(t, err)
	}},
	{"ModifySelfservicePermissions", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifySelfservicePermissions(ctx(t), &workspaces.ModifySelfservicePermissionsInput{ResourceId: aws.String(fx.dir),
			SelfservicePermissions: &types.SelfservicePermissions{RebuildWorkspace: types.ReconnectEnumEnabled}})
		isoNotFound(t, err)
	}},
	{"ModifySamlProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifySamlProperties(ctx(t), &workspaces.ModifySamlPropertiesInput{ResourceId: aws.String(fx.dir),
			SamlProperties: &types.SamlProperties{Status: types.SamlStatusEnumEnabled, UserAccessUrl: aws.String("https://idp.example.com/sso")}})
		isoNotFound(t, err)
	}},
	{"ModifyCertificateBasedAuthProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyCertificateBasedAuthProperties(ctx(t), &workspaces.ModifyCertificateBasedAuthPropertiesInput{ResourceId: aws.String(fx.dir),
			PropertiesToDelete: []types.DeletableCertificateBasedAuthProperty{types.DeletableCertificateBasedAuthPropertyCertificateBasedAuthPropertiesCertificateAuthorityArn}})
		isoNotFound(t, err)
	}},
	{"ModifyStreamingProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyStreamingProperties(ctx(t), &workspaces.ModifyStreamingPropertiesInput{ResourceId: aws.String(fx.dir),
			StreamingProperties: &types.StreamingProperties{StreamingExperiencePreferredProtocol: types.StreamingExperiencePreferredProtocolEnumUdp}})
		isoNotFound(t, err)
	}},
	{"ModifyEndpointEncryptionMode", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyEndpointEncryptionMode(ctx(t), &workspaces.ModifyEndpointEncryptionModeInput{DirectoryId: aws.String(fx.dir),
			EndpointEncryptionMode: types.EndpointEncryptionModeFipsValidated})
		isoNotFound(t, err)
	}},
	{"DeregisterWorkspaceDirectory", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(fx.dir)})
		isoNotFound(t, err)
	}},
	// IP groups.
	{"DescribeIpGroups", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{GroupIds: []string{fx.group}})
		if err == nil && len(out.Result) != 0 {
			t.Errorf("by id: %v", isoGroupIDs(out))
		}
		all, err := o.c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{})
		if err == nil && len(all.Result) != 0 {
			t.Errorf("listing: %v", isoGroupIDs(all))
		}
	}},
	{"AssociateIpGroups", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(fx.dir), GroupIds: []string{fx.group}})
		isoNotFound(t, err)
	}},
	{"DisassociateIpGroups", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DisassociateIpGroups(ctx(t), &workspaces.DisassociateIpGroupsInput{DirectoryId: aws.String(fx.dir), GroupIds: []string{fx.group}})
		isoNotFound(t, err)
	}},
	{"AuthorizeIpRules", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.AuthorizeIpRules(ctx(t), &workspaces.AuthorizeIpRulesInput{GroupId: aws.String(fx.group), UserRules: []types.IpRuleItem{ipRule("0.0.0.0/0", "all")}})
		isoNotFound(t, err, fx.group)
	}},
	{"RevokeIpRules", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.RevokeIpRules(ctx(t), &workspaces.RevokeIpRulesInput{GroupId: aws.String(fx.group), UserRules: []string{"10.0.0.0/8"}})
		isoNotFound(t, err, fx.group)
	}},
	{"UpdateRulesOfIpGroup", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.UpdateRulesOfIpGroup(ctx(t), &workspaces.UpdateRulesOfIpGroupInput{GroupId: aws.String(fx.group), UserRules: []types.IpRuleItem{}})
		isoNotFound(t, err, fx.group)
	}},
	{"DeleteIpGroup", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(fx.group)})
		isoNotFound(t, err, fx.group)
	}},
	// WorkSpaces.
	{"DescribeWorkspaces", func(t *testing.T, o outsider, fx isoFixture) {
		for _, in := range []*workspaces.DescribeWorkspacesInput{
			{WorkspaceIds: []string{fx.ws}},
			{DirectoryId: aws.String(fx.dir)},
			{DirectoryId: aws.String(fx.dir), UserName: aws.String(fx.user)},
			{BundleId: aws.String(fx.bundle)},
			{},
		} {
			out, err := o.c.DescribeWorkspaces(ctx(t), in)
			if err != nil {
				t.Errorf("DescribeWorkspaces(%s): %v", isoJSON(in), err)
			} else if len(out.Workspaces) != 0 {
				t.Errorf("DescribeWorkspaces(%s) lists %v", isoJSON(in), isoWorkspaceIDs(out))
			}
		}
	}},
	{"DescribeWorkspacesConnectionStatus", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.DescribeWorkspacesConnectionStatus(ctx(t), &workspaces.DescribeWorkspacesConnectionStatusInput{WorkspaceIds: []string{fx.ws}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.WorkspacesConnectionStatus) != 0 {
			t.Errorf("connection status of A's WorkSpace: %s", isoJSON(out.WorkspacesConnectionStatus))
		}
	}},
	{"DescribeWorkspaceSnapshots", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.DescribeWorkspaceSnapshots(ctx(t), &workspaces.DescribeWorkspaceSnapshotsInput{WorkspaceId: aws.String(fx.ws)})
		isoNotFound(t, err)
	}},
	{"CreateWorkspaces", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{wsRequest(fx.dir, "mallory", publicWindowsBundle, "")}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.PendingRequests) != 0 || len(out.FailedRequests) != 1 || aws.ToString(out.FailedRequests[0].ErrorCode) != "ResourceNotFound.Directory" {
			t.Errorf("CreateWorkspaces in A's directory: pending %s, failed %s", isoJSON(out.PendingRequests), isoJSON(out.FailedRequests))
		}
	}},
	{"StartWorkspaces", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.StartWorkspaces(ctx(t), &workspaces.StartWorkspacesInput{StartWorkspaceRequests: []types.StartRequest{{WorkspaceId: aws.String(fx.ws)}}})
		if err != nil {
			t.Fatalf("got %v, want a per-item failure", err)
		}
		isoFailedItems(t, out.FailedRequests, fx.ws, "ResourceNotFound.Workspace")
	}},
	{"StopWorkspaces", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.StopWorkspaces(ctx(t), &workspaces.StopWorkspacesInput{StopWorkspaceRequests: []types.StopRequest{{WorkspaceId: aws.String(fx.ws)}}})
		if err != nil {
			t.Fatalf("got %v, want a per-item failure", err)
		}
		isoFailedItems(t, out.FailedRequests, fx.ws, "ResourceNotFound.Workspace")
	}},
	{"RebootWorkspaces", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.RebootWorkspaces(ctx(t), &workspaces.RebootWorkspacesInput{RebootWorkspaceRequests: []types.RebootRequest{{WorkspaceId: aws.String(fx.ws)}}})
		if err != nil {
			t.Fatalf("got %v, want a per-item failure", err)
		}
		isoFailedItems(t, out.FailedRequests, fx.ws, "ResourceNotFound.Workspace")
	}},
	{"RebuildWorkspaces", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.RebuildWorkspaces(ctx(t), &workspaces.RebuildWorkspacesInput{RebuildWorkspaceRequests: []types.RebuildRequest{{WorkspaceId: aws.String(fx.ws)}}})
		if err != nil {
			t.Fatalf("got %v, want a per-item failure", err)
		}
		isoFailedItems(t, out.FailedRequests, fx.ws, "ResourceNotFound.Workspace")
	}},
	{"TerminateWorkspaces", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.TerminateWorkspaces(ctx(t), &workspaces.TerminateWorkspacesInput{TerminateWorkspaceRequests: []types.TerminateRequest{{WorkspaceId: aws.String(fx.ws)}}})
		if err != nil {
			t.Fatalf("got %v, want a per-item failure", err)
		}
		isoFailedItems(t, out.FailedRequests, fx.ws, "ResourceNotFound.Workspace")
	}},
	{"RestoreWorkspace", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.RestoreWorkspace(ctx(t), &workspaces.RestoreWorkspaceInput{WorkspaceId: aws.String(fx.ws)})
		isoNotFound(t, err)
	}},
	{"ModifyWorkspaceState", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyWorkspaceState(ctx(t), &workspaces.ModifyWorkspaceStateInput{WorkspaceId: aws.String(fx.ws), WorkspaceState: types.TargetWorkspaceStateAdminMaintenance})
		isoNotFound(t, err)
	}},
	{"ModifyWorkspaceProperties", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.ModifyWorkspaceProperties(ctx(t), &workspaces.ModifyWorkspacePropertiesInput{WorkspaceId: aws.String(fx.ws),
			WorkspaceProperties: &types.WorkspaceProperties{RunningMode: types.RunningModeAlwaysOn}})
		isoNotFound(t, err)
	}},
	{"MigrateWorkspace", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.MigrateWorkspace(ctx(t), &workspaces.MigrateWorkspaceInput{SourceWorkspaceId: aws.String(fx.ws), BundleId: aws.String(publicWindowsBundle)})
		isoNotFound(t, err)
	}},
	{"CreateWorkspaceImage", func(t *testing.T, o outsider, fx isoFixture) {
		_, err := o.c.CreateWorkspaceImage(ctx(t), &workspaces.CreateWorkspaceImageInput{Name: aws.String("iso-captured"), Description: aws.String("captured"), WorkspaceId: aws.String(fx.ws)})
		isoNotFound(t, err)
	}},
	// The account: the outsider's own BYOL state, not A's modification.
	{"DescribeAccount", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.DescribeAccount(ctx(t), &workspaces.DescribeAccountInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.DedicatedTenancyManagementCidrRange) == isoCIDR {
			t.Errorf("the outsider's account shows A's management range: %s", isoJSON(out))
		}
	}},
	{"DescribeAccountModifications", func(t *testing.T, o outsider, fx isoFixture) {
		if got := modifications(t, o.c); len(got) != 0 {
			t.Errorf("modifications %s, want none", isoJSON(got))
		}
	}},
	{"ListAvailableManagementCidrRanges", func(t *testing.T, o outsider, fx isoFixture) {
		// A's range is A's own (in its Region): it is free for the outsider.
		out, err := o.c.ListAvailableManagementCidrRanges(ctx(t), &workspaces.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: aws.String(isoCIDR)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.ManagementCidrRanges, []string{isoCIDR}) {
			t.Errorf("ranges in %s = %v, want [%s]", isoCIDR, out.ManagementCidrRanges, isoCIDR)
		}
	}},
	// What creates in the outsider's own account and Region, where A's names
	// and ids are free.
	{"ModifyAccount", func(t *testing.T, o outsider, fx isoFixture) {
		if err := modifyAccount(t, o.c, isoCIDR); err != nil {
			t.Fatalf("ModifyAccount to A's range: %v", err)
		}
		if got := modifications(t, o.c); len(got) != 1 {
			t.Errorf("modifications after its own ModifyAccount: %s", isoJSON(got))
		}
	}},
	{"ImportCustomWorkspaceImage", func(t *testing.T, o outsider, fx isoFixture) {
		id := importImage(t, o.c, importInput(fx.imageName))
		if id == fx.image {
			t.Errorf("the outsider's import has A's id %s", id)
		}
		// A's bundle name is free too, for a bundle on the outsider's image.
		if b := createBundle(t, o.c, bundleInput(fx.bundleName, id)); aws.ToString(b.BundleId) == fx.bundle {
			t.Errorf("the outsider's bundle has A's id")
		}
	}},
	{"ImportWorkspaceImage", func(t *testing.T, o outsider, fx isoFixture) {
		out, err := o.c.ImportWorkspaceImage(ctx(t), ciLegacyInput(fx.legacyName))
		if err != nil {
			t.Fatalf("ImportWorkspaceImage(%s): %v", fx.legacyName, err)
		}
		if aws.ToString(out.ImageId) == fx.legacy {
			t.Errorf("the outsider's import has A's id")
		}
	}},
	{"CreateIpGroup", func(t *testing.T, o outsider, fx isoFixture) {
		if id := createIPGroup(t, o.c, fx.groupName); id == fx.group {
			t.Errorf("the outsider's group has A's id %s", id)
		}
	}},
	{"RegisterWorkspaceDirectory", func(t *testing.T, o outsider, fx isoFixture) {
		// The stand-in Directory Service gives every account and Region a
		// directory of any well-formed id: registering it is the
		// outsider's own, and A's group still can't join it.
		registerWSDirectory(t, o.c, fx.dir, types.TenancyShared)
		d := describeDirectory(t, o.c, fx.dir)
		if d == nil || !strings.Contains(aws.ToString(d.IamRoleId), "::"+o.account+":") || len(d.IpGroupIds) != 0 {
			t.Fatalf("the outsider's directory %s: %s", fx.dir, isoJSON(d))
		}
		_, err := o.c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(fx.dir), GroupIds: []string{fx.group}})
		isoNotFound(t, err, fx.group)
		// Its directory of the same id holds none of A's WorkSpaces, and A's
		// bundle can't be launched in it.
		ws, err := o.c.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{DirectoryId: aws.String(fx.dir)})
		if err != nil || len(ws.Workspaces) != 0 {
			t.Errorf("DescribeWorkspaces in its own %s: %v, lists %v", fx.dir, err, isoWorkspaceIDs(ws))
		}
		out, err := o.c.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{wsRequest(fx.dir, "mallory", fx.bundle, "")}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.PendingRequests) != 0 || len(out.FailedRequests) != 1 || aws.ToString(out.FailedRequests[0].ErrorCode) != "ResourceNotFound.Bundle" {
			t.Errorf("CreateWorkspaces on A's bundle: pending %s, failed %s", isoJSON(out.PendingRequests), isoJSON(out.FailedRequests))
		}
		// What the outsider does to its own directory of that id (tags,
		// properties, its own IP group) leaves A's alone: the state
		// comparison after the rows reads A's.
		if _, err := o.c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(fx.dir), Tags: []types.Tag{tag("team", "outsider")}}); err != nil {
			t.Errorf("CreateTags on its own %s: %v", fx.dir, err)
		}
		if _, err := o.c.ModifyClientProperties(ctx(t), &workspaces.ModifyClientPropertiesInput{ResourceId: aws.String(fx.dir),
			ClientProperties: &types.ClientProperties{LogUploadEnabled: types.LogUploadEnumDisabled}}); err != nil {
			t.Errorf("ModifyClientProperties on its own %s: %v", fx.dir, err)
		}
		if _, err := o.c.ModifyWorkspaceCreationProperties(ctx(t), &workspaces.ModifyWorkspaceCreationPropertiesInput{ResourceId: aws.String(fx.dir),
			WorkspaceCreationProperties: &types.WorkspaceCreationProperties{EnableInternetAccess: aws.Bool(true)}}); err != nil {
			t.Errorf("ModifyWorkspaceCreationProperties on its own %s: %v", fx.dir, err)
		}
		groups, err := o.c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{})
		if err != nil || len(groups.Result) != 1 {
			t.Fatalf("the outsider's groups: %v %v", err, isoGroupIDs(groups))
		}
		if _, err := o.c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(fx.dir), GroupIds: []string{aws.ToString(groups.Result[0].GroupId)}}); err != nil {
			t.Errorf("AssociateIpGroups of its own group and directory: %v", err)
		}
		// A's WorkSpace fills A's quota of one in us-east-1, not the
		// outsider's.
		own := launchWorkspace(t, o.c, wsRequest(fx.dir, fx.user, publicWindowsBundle, types.RunningModeAutoStop))
		if own == fx.ws {
			t.Errorf("the outsider's WorkSpace has A's id %s", own)
		}
	}},
}

func TestIsolationTableCoversEveryOperation(t *testing.T) {
	implemented := servicetest.New(t).Svc.Registry().Implemented()
	var rows []string
	for _, r := range isoRows {
		rows = append(rows, r.op)
	}
	slices.Sort(rows)
	if d := cmp.Diff(implemented, rows); d != "" {
		t.Errorf("isoRows must have exactly one row per implemented operation (-implemented +rows):\n%s", d)
	}
}

func TestIsolation(t *testing.T) { forEachStore(t, isolation) }

func isolation(t *testing.T, store storeBackend) {
	srv := store.start(t)
	srv.FreezeRounded(t)
	a := srv.Client(t, accountA, usEast1)
	fx := isoSetup(t, a)
	before := isoState(t, a, fx)

	for _, o := range []outsider{
		{"account B", accountB, usEast1, srv.Client(t, accountB, usEast1)},
		{"A in eu-west-1", accountA, euWest1, srv.Client(t, accountA, euWest1)},
	} {
		t.Run(o.name, func(t *testing.T) {
			for _, r := range isoRows {
				t.Run(r.op, func(t *testing.T) { r.try(t, o, fx) })
			}
		})
	}
	if after := isoState(t, a, fx); after != before {
		t.Errorf("A's resources changed under the outsiders' calls:\n%s", cmp.Diff(before, after))
	}

	isoSharing(t, srv.Endpoint, a, fx)
}

// isoSharing: A shares its image with B; B sees exactly that image, builds
// a bundle on it and copies it, and still sees nothing else of A's; A in
// another Region and a third account see nothing; unsharing removes it.
func isoSharing(t *testing.T, srv process.Endpoint, a *workspaces.Client, fx isoFixture) {
	b := srv.Client(t, accountB, usEast1)
	others := map[string]*workspaces.Client{
		"account C":      srv.Client(t, accountC, usEast1),
		"B in eu-west-1": srv.Client(t, accountB, euWest1),
	}
	ciMustShare(t, a, fx.image, accountB, true)

	shared := ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeShared})
	if got := ciIDs(shared); !slices.Equal(got, []string{fx.image}) {
		t.Fatalf("B's shared images %v, want exactly [%s]", got, fx.image)
	}
	if got := aws.ToString(shared[0].OwnerAccountId); got != accountA {
		t.Errorf("shared image's OwnerAccountId = %q, want %s", got, accountA)
	}
	byID := ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{fx.image, fx.legacy, fx.copy}})
	if got := ciIDs(byID); !slices.Equal(got, []string{fx.image}) {
		t.Errorf("B by id sees %v, want only the shared %s", got, fx.image)
	}
	if all := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{})); !slices.Contains(all, fx.image) || slices.Contains(all, fx.copy) || slices.Contains(all, fx.legacy) {
		t.Errorf("B's listing %v: want the shared %s and none of A's other images", all, fx.image)
	}
	assoc, err := b.DescribeImageAssociations(ctx(t), &workspaces.DescribeImageAssociationsInput{ImageId: aws.String(fx.image),
		AssociatedResourceTypes: []types.ImageAssociatedResourceType{types.ImageAssociatedResourceTypeApplication}})
	if err != nil || len(assoc.Associations) != 0 {
		t.Errorf("B's DescribeImageAssociations of the shared image: %v %v", err, assoc)
	}
	// The grantee may read the image, not its owner's permissions or tags.
	_, err = b.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(fx.image)})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)
	wantAPIError(t, ciShare(t, b, fx.image, accountC, true), "AccessDeniedException", http.StatusBadRequest)
	wantAPIError(t, ciDelete(t, b, fx.image), "AccessDeniedException", http.StatusBadRequest)
	_, err = b.CreateUpdatedWorkspaceImage(ctx(t), &workspaces.CreateUpdatedWorkspaceImageInput{
		Name: aws.String("iso-updated"), Description: aws.String("updated"), SourceImageId: aws.String(fx.image)})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest, accountA)
	_, err = b.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(fx.image)})
	isoNotFound(t, err)
	_, err = b.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(fx.image)})
	isoNotFound(t, err)
	_, err = b.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(fx.image), Tags: []types.Tag{tag("team", "grantee")}})
	isoNotFound(t, err)
	_, err = b.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(fx.image), TagKeys: []string{"team"}})
	isoNotFound(t, err)
	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeOwned})); slices.Contains(got, fx.image) {
		t.Errorf("B's OWNED images %v hold the shared %s", got, fx.image)
	}

	bundle := createBundle(t, b, bundleInput("iso-on-shared", fx.image))
	if aws.ToString(bundle.ImageId) != fx.image || aws.ToString(bundle.Owner) != accountB {
		t.Errorf("B's bundle on the shared image: %s", isoJSON(bundle))
	}
	bcopy, err := ciCopy(t, b, "iso-b-copy", usEast1, fx.image)
	if err != nil {
		t.Fatalf("B copies the shared image: %v", err)
	}
	if got := catalogueImage(t, b, bcopy); aws.ToString(got.OwnerAccountId) != accountB {
		t.Errorf("B's copy is owned by %q", aws.ToString(got.OwnerAccountId))
	}
	// The bundle can move to no image of A's that is not shared.
	_, err = b.UpdateWorkspaceBundle(ctx(t), &workspaces.UpdateWorkspaceBundleInput{BundleId: bundle.BundleId, ImageId: aws.String(fx.copy)})
	isoNotFound(t, err, fx.copy)
	// Nothing else of A's became visible to B (B registered a directory of
	// the same id as A's in its own account above).
	for _, id := range []string{fx.bundle, fx.group, fx.ws, fx.copy, fx.legacy} {
		_, err := b.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
		isoNotFound(t, err)
	}
	if out, err := b.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{WorkspaceIds: []string{fx.ws}}); err != nil || len(out.Workspaces) != 0 {
		t.Errorf("B sees A's WorkSpace: %v %v", err, isoWorkspaceIDs(out))
	}
	// The image is shared with B in its own Region only: B in eu-west-1
	// does not list it, but may copy it from us-east-1, where the grant is;
	// a third account may do neither.
	for name, c := range others {
		if got := ciIDs(ciList(t, c, workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{fx.image}})); len(got) != 0 {
			t.Errorf("%s sees %v", name, got)
		}
	}
	_, err = ciCopy(t, others["account C"], "iso-c-copy", usEast1, fx.image)
	isoNotFound(t, err)
	bEU := others["B in eu-west-1"]
	euCopy, err := ciCopy(t, bEU, "iso-b-eu-copy", usEast1, fx.image)
	if err != nil {
		t.Fatalf("B in eu-west-1 copies the image shared with it in us-east-1: %v", err)
	}
	if got := catalogueImage(t, bEU, euCopy); aws.ToString(got.OwnerAccountId) != accountB {
		t.Errorf("B's copy in eu-west-1 is owned by %q", aws.ToString(got.OwnerAccountId))
	}
	// A sees B as the grantee, and nothing of B's.
	perms, err := a.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(fx.image)})
	if err != nil || len(perms.ImagePermissions) != 1 || aws.ToString(perms.ImagePermissions[0].SharedAccountId) != accountB {
		t.Errorf("A's permissions: %v %s", err, isoJSON(perms))
	}
	if got := ciIDs(ciList(t, a, workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{bcopy}})); len(got) != 0 {
		t.Errorf("A sees B's copy: %v", got)
	}

	ciMustShare(t, a, fx.image, accountB, false)
	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeShared})); len(got) != 0 {
		t.Errorf("after unsharing B's shared images are %v", got)
	}
	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{fx.image}})); len(got) != 0 {
		t.Errorf("after unsharing B sees %v", got)
	}
	_, err = ciCopy(t, b, "iso-b-copy-2", usEast1, fx.image)
	isoNotFound(t, err)
	_, err = b.CreateWorkspaceBundle(ctx(t), bundleInput("iso-on-unshared", fx.image))
	isoNotFound(t, err, fx.image)
	_, err = b.DescribeImageAssociations(ctx(t), &workspaces.DescribeImageAssociationsInput{ImageId: aws.String(fx.image),
		AssociatedResourceTypes: []types.ImageAssociatedResourceType{types.ImageAssociatedResourceTypeApplication}})
	isoNotFound(t, err)
	// B's own copy is B's.
	if got := catalogueImage(t, b, bcopy); aws.ToString(got.ImageId) != bcopy {
		t.Errorf("B's copy after unsharing: %s", isoJSON(got))
	}
}

// TestIsolationProcess is the short version through the real binary: two
// accounts told apart only by their signed requests' access keys, in the
// friendly mode (the key is the account id) and under --auth sigv4 (each
// key is an IAM user of its account in the credentials file, and naming
// an account id as the key is no way into it).
func TestIsolationProcess(t *testing.T) {
	t.Parallel()
	const (
		keyA, secretA = "AKIAISOLATIONAAAAAAA", "isolation-secret-of-account-a"
		keyB, secretB = "AKIAISOLATIONBBBBBBB", "isolation-secret-of-account-b"
	)
	file := filepath.Join(t.TempDir(), "credentials.json")
	creds := fmt.Sprintf(`{"credentials": [
		{"accessKeyId": %q, "secretAccessKey": %q, "principal": "arn:aws:iam::%s:user/alice"},
		{"accessKeyId": %q, "secretAccessKey": %q, "principal": "arn:aws:iam::%s:user/bob"}]}`,
		keyA, secretA, accountA, keyB, secretB, accountB)
	if err := os.WriteFile(file, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	signedAs := func(key, secret string) func(*workspaces.Options) {
		return func(o *workspaces.Options) { o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "") }
	}
	for _, mode := range []struct {
		name   string
		args   []string
		ka, kb func(*workspaces.Options)
	}{
		{"friendly", nil, func(*workspaces.Options) {}, func(*workspaces.Options) {}},
		{"sigv4", []string{"--auth", "sigv4", "--credentials", file}, signedAs(keyA, secretA), signedAs(keyB, secretB)},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			srv := process.Start(t, mode.args...)
			a := srv.Client(t, accountA, usEast1, mode.ka)
			b := srv.Client(t, accountB, usEast1, mode.kb)
			isoProcessStory(t, a, b)
			if mode.name == "sigv4" {
				// Signing with A's account id as the key is not acting as A.
				_, err := srv.Client(t, accountA, usEast1).DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
				wantAPIError(t, err, "UnrecognizedClientException", http.StatusBadRequest)
			}
		})
	}
}

func isoProcessStory(t *testing.T, a, b *workspaces.Client) {
	img := importImage(t, a, importInput("iso-proc"))
	group := createIPGroup(t, a, "iso-proc")

	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{img}})); len(got) != 0 {
		t.Errorf("B sees A's image: %v", got)
	}
	_, err := b.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(img)})
	isoNotFound(t, err)
	if out, err := b.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{}); err != nil || len(out.Result) != 0 {
		t.Errorf("B's groups: %v %v", err, isoGroupIDs(out))
	}
	_, err = b.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(group)})
	isoNotFound(t, err, group)
	if describeIPGroup(t, a, group) == nil {
		t.Errorf("A's group %s is gone", group)
	}

	ciMustShare(t, a, img, accountB, true)
	shared := ciList(t, b, workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeShared})
	if got := ciIDs(shared); !slices.Equal(got, []string{img}) || aws.ToString(shared[0].OwnerAccountId) != accountA {
		t.Errorf("B's shared images %s, want [%s] owned by %s", isoJSON(shared), img, accountA)
	}
	ciMustShare(t, a, img, accountB, false)
	if got := ciIDs(ciList(t, b, workspaces.DescribeWorkspaceImagesInput{})); len(got) != 0 {
		t.Errorf("after unsharing B sees %v", got)
	}
}
