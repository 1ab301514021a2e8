package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

const directoryID = "d-926722edaf"

var regexpWsdID = regexp.MustCompile(`^wsd-[0-9a-z]{9}$`)

func registerDirectory(t *testing.T, c *workspaces.Client, in *workspaces.RegisterWorkspaceDirectoryInput) *workspaces.RegisterWorkspaceDirectoryOutput {
	t.Helper()
	out, err := c.RegisterWorkspaceDirectory(ctx(t), in)
	if err != nil {
		t.Fatalf("RegisterWorkspaceDirectory(%s): %v", aws.ToString(in.DirectoryId), err)
	}
	return out
}

// describeDirectory is the directory as DescribeWorkspaceDirectories lists
// it by id, or nil when it is not listed.
func describeDirectory(t *testing.T, c *workspaces.Client, id string) *types.WorkspaceDirectory {
	t.Helper()
	out, err := c.DescribeWorkspaceDirectories(ctx(t), &workspaces.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeWorkspaceDirectories(%s): %v", id, err)
	}
	switch len(out.Directories) {
	case 0:
		return nil
	case 1:
		return &out.Directories[0]
	}
	t.Fatalf("DescribeWorkspaceDirectories(%s) listed %d directories", id, len(out.Directories))
	return nil
}

func wantDirectoryState(t *testing.T, c *workspaces.Client, id string, want types.WorkspaceDirectoryState) *types.WorkspaceDirectory {
	t.Helper()
	d := describeDirectory(t, c, id)
	if d == nil || d.State != want {
		t.Fatalf("directory %s: %+v, want %s", id, d, want)
	}
	return d
}

func TestDirectoryLifecycle(t *testing.T) { forEachStore(t, directoryLifecycle) }

func directoryLifecycle(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick")
	c := srv.Client(t, accountA, usEast1)
	srv.FreezeRounded(t)
	out := registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{
		DirectoryId: aws.String(directoryID), Tags: []types.Tag{tag("team", "desk")},
	})
	if aws.ToString(out.DirectoryId) != directoryID || out.State != types.WorkspaceDirectoryStateRegistering {
		t.Fatalf("RegisterWorkspaceDirectory = %s %s", aws.ToString(out.DirectoryId), out.State)
	}
	wantDirectoryState(t, c, directoryID, types.WorkspaceDirectoryStateRegistering)
	srv.Advance(t, 3*time.Second)
	d := wantDirectoryState(t, c, directoryID, types.WorkspaceDirectoryStateRegistered)

	// What the CLI's describe-workspace-directories example shows.
	if aws.ToString(d.Alias) != directoryID || d.DirectoryType != types.WorkspaceDirectoryTypeSimpleAd ||
		aws.ToString(d.CustomerUserName) != "Administrator" || d.Tenancy != types.TenancyShared ||
		aws.ToString(d.IamRoleId) != "arn:aws:iam::"+accountA+":role/workspaces_DefaultRole" ||
		len(d.SubnetIds) != 2 || len(d.DnsIpAddresses) != 2 || !strings.HasPrefix(aws.ToString(d.WorkspaceSecurityGroupId), "sg-") ||
		aws.ToString(d.RegistrationCode) == "" || aws.ToString(d.DirectoryName) == "" {
		t.Errorf("registered directory: %+v", d)
	}
	if p := d.WorkspaceCreationProperties; p == nil || aws.ToBool(p.EnableInternetAccess) || !aws.ToBool(p.UserEnabledAsLocalAdministrator) || !aws.ToBool(p.EnableMaintenanceMode) {
		t.Errorf("creation defaults: %+v", p)
	}
	if p := d.WorkspaceAccessProperties; p == nil || p.DeviceTypeWindows != types.AccessPropertyValueAllow || p.DeviceTypeWeb != types.AccessPropertyValueDeny || p.DeviceTypeLinux != types.AccessPropertyValueDeny {
		t.Errorf("access defaults: %+v", p)
	}
	if p := d.SelfservicePermissions; p == nil || p.RestartWorkspace != types.ReconnectEnumEnabled || p.RebuildWorkspace != types.ReconnectEnumDisabled {
		t.Errorf("self-service defaults: %+v", p)
	}
	if got := describeTags(t, c, directoryID); got["team"] != "desk" {
		t.Errorf("tags = %v", got)
	}

	// Properties round trip.
	calls := []struct {
		name string
		call func() error
	}{
		{"creation", func() error {
			_, err := c.ModifyWorkspaceCreationProperties(ctx(t), &workspaces.ModifyWorkspaceCreationPropertiesInput{
				ResourceId: aws.String(directoryID), WorkspaceCreationProperties: &types.WorkspaceCreationProperties{EnableInternetAccess: aws.Bool(true)}})
			return err
		}},
		{"access", func() error {
			_, err := c.ModifyWorkspaceAccessProperties(ctx(t), &workspaces.ModifyWorkspaceAccessPropertiesInput{
				ResourceId: aws.String(directoryID), WorkspaceAccessProperties: &types.WorkspaceAccessProperties{DeviceTypeLinux: types.AccessPropertyValueAllow}})
			return err
		}},
		{"self-service", func() error {
			_, err := c.ModifySelfservicePermissions(ctx(t), &workspaces.ModifySelfservicePermissionsInput{
				ResourceId: aws.String(directoryID), SelfservicePermissions: &types.SelfservicePermissions{ChangeComputeType: types.ReconnectEnumEnabled}})
			return err
		}},
		{"saml", func() error {
			_, err := c.ModifySamlProperties(ctx(t), &workspaces.ModifySamlPropertiesInput{ResourceId: aws.String(directoryID),
				SamlProperties: &types.SamlProperties{Status: types.SamlStatusEnumEnabledWithDirectoryLoginFallback, UserAccessUrl: aws.String("https://idp.example.com/sso")}})
			return err
		}},
		{"certificate-based auth", func() error {
			_, err := c.ModifyCertificateBasedAuthProperties(ctx(t), &workspaces.ModifyCertificateBasedAuthPropertiesInput{ResourceId: aws.String(directoryID),
				CertificateBasedAuthProperties: &types.CertificateBasedAuthProperties{Status: types.CertificateBasedAuthStatusEnumEnabled,
					CertificateAuthorityArn: aws.String("arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/12345678-1234-1234-1234-123456789012")}})
			return err
		}},
		{"streaming", func() error {
			_, err := c.ModifyStreamingProperties(ctx(t), &workspaces.ModifyStreamingPropertiesInput{ResourceId: aws.String(directoryID),
				StreamingProperties: &types.StreamingProperties{StreamingExperiencePreferredProtocol: types.StreamingExperiencePreferredProtocolEnumTcp}})
			return err
		}},
		{"encryption", func() error {
			_, err := c.ModifyEndpointEncryptionMode(ctx(t), &workspaces.ModifyEndpointEncryptionModeInput{DirectoryId: aws.String(directoryID),
				EndpointEncryptionMode: types.EndpointEncryptionModeFipsValidated})
			return err
		}},
		{"client", func() error {
			_, err := c.ModifyClientProperties(ctx(t), &workspaces.ModifyClientPropertiesInput{ResourceId: aws.String(directoryID),
				ClientProperties: &types.ClientProperties{LogUploadEnabled: types.LogUploadEnumDisabled}})
			return err
		}},
	}
	for _, cl := range calls {
		if err := cl.call(); err != nil {
			t.Fatalf("%s: %v", cl.name, err)
		}
	}
	d = wantDirectoryState(t, c, directoryID, types.WorkspaceDirectoryStateRegistered)
	if !aws.ToBool(d.WorkspaceCreationProperties.EnableInternetAccess) || d.WorkspaceAccessProperties.DeviceTypeLinux != types.AccessPropertyValueAllow ||
		d.SelfservicePermissions.ChangeComputeType != types.ReconnectEnumEnabled ||
		d.SamlProperties == nil || d.SamlProperties.Status != types.SamlStatusEnumEnabledWithDirectoryLoginFallback ||
		d.CertificateBasedAuthProperties == nil || d.CertificateBasedAuthProperties.Status != types.CertificateBasedAuthStatusEnumEnabled ||
		d.StreamingProperties == nil || d.StreamingProperties.StreamingExperiencePreferredProtocol != types.StreamingExperiencePreferredProtocolEnumTcp ||
		d.EndpointEncryptionMode != types.EndpointEncryptionModeFipsValidated {
		t.Errorf("after the modifications: %+v", d)
	}
	cp, err := c.DescribeClientProperties(ctx(t), &workspaces.DescribeClientPropertiesInput{ResourceIds: []string{directoryID}})
	if err != nil || len(cp.ClientPropertiesList) != 1 || cp.ClientPropertiesList[0].ClientProperties.LogUploadEnabled != types.LogUploadEnumDisabled ||
		cp.ClientPropertiesList[0].ClientProperties.ReconnectEnabled != types.ReconnectEnumEnabled {
		t.Errorf("DescribeClientProperties = %+v, %v", cp, err)
	}

	// Deregister: DEREGISTERING, DEREGISTERED briefly, then gone.
	if _, err := c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)}); err != nil {
		t.Fatal(err)
	}
	wantDirectoryState(t, c, directoryID, types.WorkspaceDirectoryStateDeregistering)
	srv.Advance(t, 3*time.Second)
	wantDirectoryState(t, c, directoryID, types.WorkspaceDirectoryStateDeregistered)
	srv.Advance(t, 2*time.Second)
	if d := describeDirectory(t, c, directoryID); d != nil {
		t.Fatalf("gone directory still listed: %+v", d)
	}
	_, err = c.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(directoryID)})
	wantAPIError(t, err, "ResourceNotFoundException", 400)
	_, err = c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
	wantAPIError(t, err, "ResourceNotFoundException", 400, directoryID)
	_, err = c.ModifyWorkspaceCreationProperties(ctx(t), &workspaces.ModifyWorkspaceCreationPropertiesInput{
		ResourceId: aws.String(directoryID), WorkspaceCreationProperties: &types.WorkspaceCreationProperties{EnableInternetAccess: aws.Bool(false)}})
	wantAPIError(t, err, "ResourceNotFoundException", 400, directoryID)
	// And it registers again.
	registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
}

func TestDirectoryErrors(t *testing.T) { forEachStore(t, directoryErrors) }

func directoryErrors(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick", "--byol", "strict")
	c := srv.Client(t, accountA, usEast1)
	srv.FreezeRounded(t)
	registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
		frag   string
	}{
		{"already registered", func() error {
			_, err := c.RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
			return err
		}, "ResourceAlreadyExistsException", 400, directoryID},
		{"dedicated without BYOL", func() error {
			_, err := c.RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-1111111111"), Tenancy: types.TenancyDedicated})
			return err
		}, "InvalidParameterValuesException", 400, "BYOL"},
		{"no directory id", func() error {
			_, err := c.RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{})
			return err
		}, "ValidationException", 400, "DirectoryId"},
		{"one subnet", func() error {
			_, err := c.RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-1111111111"), SubnetIds: []string{"subnet-0123abcd"}})
			return err
		}, "OperationNotSupportedException", 400, "two subnets"},
		{"deregister while REGISTERING", func() error {
			_, err := c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
			return err
		}, "InvalidResourceStateException", 400, "REGISTERING"},
		{"modify while REGISTERING", func() error {
			_, err := c.ModifyEndpointEncryptionMode(ctx(t), &workspaces.ModifyEndpointEncryptionModeInput{DirectoryId: aws.String(directoryID), EndpointEncryptionMode: types.EndpointEncryptionModeFipsValidated})
			return err
		}, "OperationNotSupportedException", 400, "REGISTERING"},
		{"deregister a missing directory", func() error {
			_, err := c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-2222222222")})
			return err
		}, "ResourceNotFoundException", 400, "d-2222222222"},
		{"modify a missing directory", func() error {
			_, err := c.ModifySelfservicePermissions(ctx(t), &workspaces.ModifySelfservicePermissionsInput{ResourceId: aws.String("d-2222222222"),
				SelfservicePermissions: &types.SelfservicePermissions{RebuildWorkspace: types.ReconnectEnumEnabled}})
			return err
		}, "ResourceNotFoundException", 400, "d-2222222222"},
		{"client properties of a missing directory", func() error {
			_, err := c.DescribeClientProperties(ctx(t), &workspaces.DescribeClientPropertiesInput{ResourceIds: []string{"d-2222222222"}})
			return err
		}, "ResourceNotFoundException", 400, "d-2222222222"},
		{"certificate-based auth before SAML", func() error {
			srv.Advance(t, time.Minute)
			_, err := c.ModifyCertificateBasedAuthProperties(ctx(t), &workspaces.ModifyCertificateBasedAuthPropertiesInput{ResourceId: aws.String(directoryID),
				CertificateBasedAuthProperties: &types.CertificateBasedAuthProperties{Status: types.CertificateBasedAuthStatusEnumEnabled,
					CertificateAuthorityArn: aws.String("arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x")}})
			return err
		}, "InvalidParameterValuesException", 400, "SAML"},
		{"malformed id", func() error {
			_, err := c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-nothex!!")})
			return err
		}, "ValidationException", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.call(), tt.code, tt.status, tt.frag)
		})
	}

	// The quota: 50 per account and Region.
	for i := 1; i < 50; i++ {
		registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(fmt.Sprintf("d-%010x", i))})
	}
	_, err := c.RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-ffffffffff")})
	wantAPIError(t, err, "ResourceLimitExceededException", 400, "50")
	registerDirectory(t, srv.Client(t, accountA, euWest1), &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-ffffffffff")})
}

// TestDirectoryRefusedWithWorkSpaces needs CreateWorkspaces; it is skipped
// while wsim does not implement it.
func TestDirectoryRefusedWithWorkSpaces(t *testing.T) {
	forEachStore(t, func(t *testing.T, store storeBackend) {
		srv := store.start(t)
		c := srv.Client(t, accountA, usEast1)
		registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
		out, err := c.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{{
			DirectoryId: aws.String(directoryID), UserName: aws.String("jdoe"), BundleId: aws.String("wsb-bh8rsxt14"),
		}}})
		if err != nil && strings.Contains(err.Error(), "NotImplemented") {
			t.Skip("CreateWorkspaces is not implemented yet")
		}
		if err != nil || len(out.PendingRequests) != 1 {
			t.Fatalf("CreateWorkspaces = %+v, %v", out, err)
		}
		_, err = c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
		wantAPIError(t, err, "OperationNotSupportedException", 400, aws.ToString(out.PendingRequests[0].WorkspaceId))
	})
}

func TestDirectoryPagingIsolationAndWsdIDs(t *testing.T) {
	forEachStore(t, func(t *testing.T, store storeBackend) {
		srv := store.start(t)
		a, b, aEU := srv.Client(t, accountA, usEast1), srv.Client(t, accountB, usEast1), srv.Client(t, accountA, euWest1)
		var want []string
		for i := range 5 {
			id := fmt.Sprintf("d-%010x", 0xabc0+i)
			want = append(want, id)
			registerDirectory(t, a, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(id)})
		}
		pool := registerDirectory(t, a, &workspaces.RegisterWorkspaceDirectoryInput{
			WorkspaceType: types.WorkspaceTypePools, WorkspaceDirectoryName: aws.String("pool-directory"),
			WorkspaceDirectoryDescription: aws.String("Pools for the call centre"), UserIdentityType: types.UserIdentityTypeCustomerManaged,
			SubnetIds: []string{"subnet-0123abcd", "subnet-4567cdef"}, Tags: []types.Tag{tag("pool", "yes")},
			ActiveDirectoryConfig: &types.ActiveDirectoryConfig{DomainName: aws.String("corp.example.com"),
				ServiceAccountSecretArn: aws.String("arn:aws:secretsmanager:us-east-1:111122223333:secret:svc-AbCdEf")},
		})
		poolID := aws.ToString(pool.DirectoryId)
		if !regexpWsdID.MatchString(poolID) {
			t.Fatalf("POOLS directory id %q is not wsd- plus 9 of [0-9a-z]", poolID)
		}
		want = append(want, poolID)
		registerDirectory(t, b, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-bbbbbbbbbb")})
		registerDirectory(t, aEU, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-eeeeeeeeee")})

		var got []string
		pages := 0
		p := workspaces.NewDescribeWorkspaceDirectoriesPaginator(a, &workspaces.DescribeWorkspaceDirectoriesInput{Limit: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, d := range page.Directories {
				got = append(got, aws.ToString(d.DirectoryId))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
			t.Errorf("paged %v in %d pages, want %v in 3", got, pages, want)
		}
		if d := describeDirectory(t, a, "d-bbbbbbbbbb"); d != nil {
			t.Errorf("account A sees account B's directory")
		}
		if d := describeDirectory(t, a, "d-eeeeeeeeee"); d != nil {
			t.Errorf("us-east-1 sees eu-west-1's directory")
		}
		byName, err := a.DescribeWorkspaceDirectories(ctx(t), &workspaces.DescribeWorkspaceDirectoriesInput{WorkspaceDirectoryNames: []string{"pool-directory"}})
		if err != nil || len(byName.Directories) != 1 || byName.Directories[0].WorkspaceType != types.WorkspaceTypePools ||
			byName.Directories[0].DirectoryType != types.WorkspaceDirectoryTypeCustomerManaged || aws.ToString(byName.Directories[0].DirectoryName) != "corp.example.com" {
			t.Errorf("by name: %+v, %v", byName, err)
		}
		if got := describeTags(t, a, poolID); got["pool"] != "yes" {
			t.Errorf("tags of %s = %v", poolID, got)
		}
		if _, err := a.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(want[0]), Tags: []types.Tag{tag("k", "v")}}); err != nil {
			t.Fatal(err)
		}
		if got := describeTags(t, a, want[0]); got["k"] != "v" {
			t.Errorf("tags of %s = %v", want[0], got)
		}
		_, err = b.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(poolID)})
		wantAPIError(t, err, "ResourceNotFoundException", 400)
	})
}

func TestDirectoryScriptedFailure(t *testing.T) {
	forEachStore(t, func(t *testing.T, store storeBackend) {
		srv := store.start(t, "--profile", "quick")
		c := srv.Client(t, accountA, usEast1)
		srv.FreezeRounded(t)
		srv.AddFaultRule(t, map[string]any{"kind": "directory-registration", "sourceId": "d-0badbadbad", "failAt": "REGISTERING",
			"errorMessage": "The subnets are in an Availability Zone that WorkSpaces does not support."})
		registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-0badbadbad")})
		registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String("d-0fa11fa11f"),
			Tags: []types.Tag{tag("wsim:fail-at", "REGISTERING")}})
		registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
		srv.Advance(t, time.Minute)
		d := wantDirectoryState(t, c, "d-0badbadbad", types.WorkspaceDirectoryStateError)
		if !strings.Contains(aws.ToString(d.ErrorMessage), "Availability Zone") {
			t.Errorf("ErrorMessage = %q", aws.ToString(d.ErrorMessage))
		}
		if d := wantDirectoryState(t, c, "d-0fa11fa11f", types.WorkspaceDirectoryStateError); aws.ToString(d.ErrorMessage) == "" {
			t.Errorf("no ErrorMessage on a failed registration")
		}
		wantDirectoryState(t, c, directoryID, types.WorkspaceDirectoryStateRegistered)
	})
}

// TestDirectoriesStrict declares a Directory Service directory through the
// control API before registering it.
func TestDirectoriesStrict(t *testing.T) {
	forEachStore(t, func(t *testing.T, store storeBackend) {
		srv := store.start(t, "--directories", "strict")
		c := srv.Client(t, accountA, usEast1)
		_, err := c.RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
		wantAPIError(t, err, "ResourceNotFoundException", 400, directoryID)

		decl := `{"account":"` + accountA + `","region":"us-east-1","directoryId":"` + directoryID + `","name":"example.com","users":["jdoe"]}`
		status, _, body := srv.Do(t, http.MethodPost, "/_wsim/directories", strings.NewReader(decl), map[string]string{"Content-Type": "application/json"})
		if status != http.StatusCreated {
			t.Fatalf("declare = %d %s", status, body)
		}
		registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
		if d := describeDirectory(t, c, directoryID); aws.ToString(d.DirectoryName) != "example.com" {
			t.Errorf("DirectoryName = %q", aws.ToString(d.DirectoryName))
		}
		// Only declared users get WorkSpaces (compared without regard to case).
		launch, err := c.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{
			{DirectoryId: aws.String(directoryID), UserName: aws.String("nobody"), BundleId: aws.String("wsb-bh8rsxt14")},
			{DirectoryId: aws.String(directoryID), UserName: aws.String("JDoe"), BundleId: aws.String("wsb-bh8rsxt14")},
		}})
		if err != nil || len(launch.FailedRequests) != 1 || aws.ToString(launch.FailedRequests[0].WorkspaceRequest.UserName) != "nobody" ||
			len(launch.PendingRequests) != 1 {
			t.Fatalf("CreateWorkspaces = %+v, %v", launch, err)
		}
		// Declared in one account, the directory is unknown to another.
		_, err = srv.Client(t, accountB, usEast1).RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
		wantAPIError(t, err, "ResourceNotFoundException", 400)

		status, _, body = srv.Do(t, http.MethodGet, "/_wsim/directories?account="+accountA, nil, nil)
		var list struct {
			Mode        string `json:"mode"`
			Directories []struct {
				DirectoryID string   `json:"directoryId"`
				Users       []string `json:"users"`
			} `json:"directories"`
		}
		if err := json.Unmarshal(body, &list); err != nil || status != 200 || list.Mode != "strict" || len(list.Directories) != 1 || list.Directories[0].Users[0] != "jdoe" {
			t.Errorf("list = %d %s", status, body)
		}
		status, _, body = srv.Do(t, http.MethodDelete, "/_wsim/directories/"+directoryID+"?account="+accountA+"&region=us-east-1", nil, map[string]string{"Content-Type": "application/json"})
		if status != http.StatusConflict {
			t.Errorf("undeclaring a registered directory = %d %s, want 409", status, body)
		}
		status, _, body = srv.Do(t, http.MethodGet, "/_wsim/health", nil, nil)
		if status != 200 || !strings.Contains(string(body), `"directories":"strict"`) {
			t.Errorf("health = %d %s", status, body)
		}
	})
}
