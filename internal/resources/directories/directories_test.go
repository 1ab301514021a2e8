package directories_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	region1 = "us-east-1"
	region2 = "eu-west-1"
	dirID   = "d-926722edaf"
)

var as = servicetest.As

type harness struct{ *servicetest.Harness }

func newHarness(t *testing.T, mutate ...func(*service.Config)) *harness {
	t.Helper()
	h := &harness{servicetest.New(t, mutate...)}
	h.Freeze()
	return h
}

func (h *harness) register(account, region string, in *api.RegisterWorkspaceDirectoryInput) (*api.RegisterWorkspaceDirectoryOutput, error) {
	return servicetest.Call(h.Svc, api.OpRegisterWorkspaceDirectory, as(account, region), in)
}

func (h *harness) mustRegister(account, region, id string) {
	h.T.Helper()
	if _, err := h.register(account, region, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(id)}); err != nil {
		h.T.Fatalf("RegisterWorkspaceDirectory(%s): %v", id, err)
	}
}

func (h *harness) describe(account, region string, in *api.DescribeWorkspaceDirectoriesInput) []api.WorkspaceDirectory {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceDirectories, as(account, region), in)
	if err != nil {
		h.T.Fatalf("DescribeWorkspaceDirectories: %v", err)
	}
	return out.Directories
}

// one describes the directory, or returns nil when it is not listed.
func (h *harness) one(account, region, id string) *api.WorkspaceDirectory {
	h.T.Helper()
	ds := h.describe(account, region, &api.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{id}})
	switch len(ds) {
	case 0:
		return nil
	case 1:
		return &ds[0]
	}
	h.T.Fatalf("%d directories listed for %s", len(ds), id)
	return nil
}

func (h *harness) deregister(account, region, id string) error {
	_, err := servicetest.Call(h.Svc, api.OpDeregisterWorkspaceDirectory, as(account, region), &api.DeregisterWorkspaceDirectoryInput{DirectoryId: api.String(id)})
	return err
}

func TestRegisterThenDeregisterOnTheClock(t *testing.T) {
	h := newHarness(t)
	out, err := h.register(acctA, region1, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID)})
	if err != nil {
		t.Fatal(err)
	}
	if *out.DirectoryId != dirID || *out.State != "REGISTERING" {
		t.Fatalf("Register = %s %s", *out.DirectoryId, *out.State)
	}
	steps := []struct {
		advance time.Duration
		act     func() error
		want    string // "" = not listed
	}{
		{0, nil, "REGISTERING"},
		{2 * time.Second, nil, "REGISTERING"},
		{time.Second, nil, "REGISTERED"},
		{time.Hour, func() error { return h.deregister(acctA, region1, dirID) }, "DEREGISTERING"},
		{3 * time.Second, nil, "DEREGISTERED"},
		{2 * time.Second, nil, ""},
	}
	for i, s := range steps {
		h.Advance(s.advance)
		if s.act != nil {
			if err := s.act(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		got := h.one(acctA, region1, dirID)
		switch {
		case s.want == "" && got != nil:
			t.Errorf("step %d: listed as %s, want gone", i, *got.State)
		case s.want != "" && (got == nil || *got.State != s.want):
			t.Errorf("step %d: %v, want %s", i, got, s.want)
		}
	}
	// Gone: not found by anything, registers again, not counted.
	servicetest.WantCode(t, h.deregister(acctA, region1, dirID), "ResourceNotFoundException")
	_, err = servicetest.Call(h.Svc, api.OpDescribeTags, as(acctA, region1), &api.DescribeTagsInput{ResourceId: api.String(dirID)})
	servicetest.WantCode(t, err, "ResourceNotFoundException")
	h.mustRegister(acctA, region1, dirID)
}

func TestRegisteredDirectoryShowsTheDefaults(t *testing.T) {
	h := newHarness(t)
	h.mustRegister(acctA, region1, dirID)
	h.Advance(time.Minute)
	d := h.one(acctA, region1, dirID)
	if d == nil {
		t.Fatal("not listed")
	}
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"Alias", *d.Alias, dirID},
		{"State", *d.State, "REGISTERED"},
		{"DirectoryType", *d.DirectoryType, "SIMPLE_AD"},
		{"CustomerUserName", *d.CustomerUserName, "Administrator"},
		{"IamRoleId", *d.IamRoleId, "arn:aws:iam::" + acctA + ":role/workspaces_DefaultRole"},
		{"Tenancy", *d.Tenancy, "SHARED"},
		{"subnets", len(d.SubnetIds), 2},
		{"DNS", len(d.DnsIpAddresses), 2},
		{"EnableInternetAccess", *d.WorkspaceCreationProperties.EnableInternetAccess, false},
		{"UserEnabledAsLocalAdministrator", *d.WorkspaceCreationProperties.UserEnabledAsLocalAdministrator, true},
		{"EnableMaintenanceMode", *d.WorkspaceCreationProperties.EnableMaintenanceMode, true},
		{"Windows", *d.WorkspaceAccessProperties.DeviceTypeWindows, "ALLOW"},
		{"Web", *d.WorkspaceAccessProperties.DeviceTypeWeb, "DENY"},
		{"Linux", *d.WorkspaceAccessProperties.DeviceTypeLinux, "DENY"},
		{"ZeroClient", *d.WorkspaceAccessProperties.DeviceTypeZeroClient, "ALLOW"},
		{"RestartWorkspace", *d.SelfservicePermissions.RestartWorkspace, "ENABLED"},
		{"RebuildWorkspace", *d.SelfservicePermissions.RebuildWorkspace, "DISABLED"},
		{"WorkspaceType", *d.WorkspaceType, "PERSONAL"},
		{"UserIdentityType", *d.UserIdentityType, "AWS_DIRECTORY_SERVICE"},
		{"no SAML until set", d.SamlProperties == nil, true},
		{"sg prefix", (*d.WorkspaceSecurityGroupId)[:3], "sg-"},
		{"code length ok", len(*d.RegistrationCode) <= 20, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	// The same directory reads the same on every call.
	if again := h.one(acctA, region1, dirID); *again.RegistrationCode != *d.RegistrationCode || *again.DirectoryName != *d.DirectoryName {
		t.Errorf("described differently: %v / %v", again, d)
	}
}

func TestRegisterErrors(t *testing.T) {
	strictBYOL := func(c *service.Config) { c.BYOL = service.BYOLStrict }
	tests := []struct {
		name    string
		mutate  []func(*service.Config)
		prepare func(h *harness)
		in      *api.RegisterWorkspaceDirectoryInput
		code    string
		frag    string
	}{
		{name: "already registered", prepare: func(h *harness) { h.mustRegister(acctA, region1, dirID) },
			in: &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID)}, code: "ResourceAlreadyExistsException"},
		{name: "dedicated without BYOL", mutate: []func(*service.Config){strictBYOL},
			in:   &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID), Tenancy: api.String("DEDICATED")},
			code: "InvalidParameterValuesException", frag: "BYOL"},
		{name: "no directory id", in: &api.RegisterWorkspaceDirectoryInput{},
			code: "ValidationException", frag: "DirectoryId"},
		{name: "one subnet", in: &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID), SubnetIds: []string{"subnet-0123abcd"}},
			code: "OperationNotSupportedException"},
		{name: "same subnet twice", in: &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID), SubnetIds: []string{"subnet-0123abcd", "subnet-0123abcd"}},
			code: "OperationNotSupportedException"},
		{name: "wsd id", in: &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String("wsd-abcdefghi")},
			code: "InvalidParameterValuesException"},
		{name: "pools without name", in: &api.RegisterWorkspaceDirectoryInput{WorkspaceType: api.String("POOLS"), SubnetIds: []string{"subnet-0123abcd", "subnet-0123abce"}},
			code: "InvalidParameterValuesException"},
		{name: "malformed id", in: &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String("d-XYZ")},
			code: "ValidationException"},
		{name: "strict mode, undeclared", mutate: []func(*service.Config){func(c *service.Config) { c.Directories = service.DirectoriesStrict }},
			in: &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID)}, code: "ResourceNotFoundException"},
		{name: "scripted failure tag on a wrong stage", in: &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID),
			Tags: []api.Tag{{Key: api.String("wsim:fail-at"), Value: api.String("PENDING")}}}, code: "InvalidParameterValuesException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mutate...)
			if tt.prepare != nil {
				tt.prepare(h)
			}
			_, err := h.register(acctA, region1, tt.in)
			servicetest.WantCode(t, err, tt.code, tt.frag)
		})
	}
}

func TestQuotaCountsOnlyLiveDirectories(t *testing.T) {
	h := newHarness(t, func(c *service.Config) {})
	for i := range service.DefaultDirectoryQuota {
		h.mustRegister(acctA, region1, fmt.Sprintf("d-%010x", i))
	}
	_, err := h.register(acctA, region1, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String("d-ffffffffff")})
	servicetest.WantCode(t, err, "ResourceLimitExceededException", "50")
	// Another Region and another account have quotas of their own.
	h.mustRegister(acctA, region2, "d-ffffffffff")
	h.mustRegister(acctB, region1, "d-ffffffffff")
	h.Advance(time.Minute)
	if err := h.deregister(acctA, region1, "d-0000000000"); err != nil {
		t.Fatal(err)
	}
	// DEREGISTERING still counts; once gone, it does not.
	_, err = h.register(acctA, region1, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String("d-ffffffffff")})
	servicetest.WantCode(t, err, "ResourceLimitExceededException")
	h.Advance(time.Minute)
	h.mustRegister(acctA, region1, "d-ffffffffff")
}

func TestDeregisterRefusals(t *testing.T) {
	h := newHarness(t)
	h.mustRegister(acctA, region1, dirID)
	servicetest.WantCode(t, h.deregister(acctA, region1, dirID), "InvalidResourceStateException", "REGISTERING")
	servicetest.WantCode(t, h.deregister(acctA, region1, "d-0000000000"), "ResourceNotFoundException")
	servicetest.WantCode(t, h.deregister(acctB, region1, dirID), "ResourceNotFoundException")
	h.Advance(time.Minute)
	if err := h.deregister(acctA, region1, dirID); err != nil {
		t.Fatal(err)
	}
	servicetest.WantCode(t, h.deregister(acctA, region1, dirID), "InvalidResourceStateException", "DEREGISTERING")
}

func TestDeregisterRefusedWhileWorkspacesRemain(t *testing.T) {
	h := newHarness(t)
	h.mustRegister(acctA, region1, dirID)
	h.Advance(time.Minute)
	db := h.Svc.Records()
	ws := &records.Workspace{Meta: records.Meta{Account: acctA, Region: region1, Created: h.Now()}, DirectoryID: dirID, UserName: "jdoe"}
	if err := records.Workspaces.Create(t.Context(), db, ws, nil); err != nil {
		t.Fatal(err)
	}
	servicetest.WantCode(t, h.deregister(acctA, region1, dirID), "OperationNotSupportedException", ws.ID)
}

func TestScriptedRegistrationFailure(t *testing.T) {
	h := newHarness(t)
	_, err := h.register(acctA, region1, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID), Tags: []api.Tag{
		{Key: api.String("wsim:fail-at"), Value: api.String("REGISTERING")},
		{Key: api.String("wsim:error-message"), Value: api.String("The subnets are not in supported zones.")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.Advance(time.Minute)
	d := h.one(acctA, region1, dirID)
	if *d.State != "ERROR" || d.ErrorMessage == nil || *d.ErrorMessage != "The subnets are not in supported zones." {
		t.Fatalf("failed registration: %s %v", *d.State, d.ErrorMessage)
	}
	// An ERROR directory can be deregistered.
	if err := h.deregister(acctA, region1, dirID); err != nil {
		t.Fatal(err)
	}
}

func TestPoolsAndIdentityCenterDirectoriesGetWsdIDs(t *testing.T) {
	h := newHarness(t)
	subnets := []string{"subnet-0123abcd", "subnet-0123abce"}
	tests := []struct {
		name string
		in   *api.RegisterWorkspaceDirectoryInput
		typ  string
	}{
		{"pools", &api.RegisterWorkspaceDirectoryInput{
			WorkspaceType: api.String("POOLS"), WorkspaceDirectoryName: api.String("pool-dir"), WorkspaceDirectoryDescription: api.String("pools"),
			SubnetIds: subnets, UserIdentityType: api.String("CUSTOMER_MANAGED"),
			ActiveDirectoryConfig: &api.ActiveDirectoryConfig{DomainName: api.String("corp.example.com"),
				ServiceAccountSecretArn: api.String("arn:aws:secretsmanager:us-east-1:111122223333:secret:svc-AbCdEf")},
		}, "CUSTOMER_MANAGED"},
		{"identity center", &api.RegisterWorkspaceDirectoryInput{
			WorkspaceDirectoryName: api.String("idc-dir"), WorkspaceDirectoryDescription: api.String("idc"), SubnetIds: subnets,
			UserIdentityType: api.String("AWS_IAM_IDENTITY_CENTER"), IdcInstanceArn: api.String("arn:aws:sso:::instance/ssoins-1234567890abcdef"),
		}, "AWS_IAM_IDENTITY_CENTER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := h.register(acctA, region1, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if id := *out.DirectoryId; len(id) != 13 || id[:4] != "wsd-" {
				t.Fatalf("id %s", id)
			}
			h.Advance(time.Minute)
			d := h.one(acctA, region1, *out.DirectoryId)
			if *d.DirectoryType != tt.typ || *d.WorkspaceDirectoryName != *tt.in.WorkspaceDirectoryName {
				t.Errorf("described %s %s", *d.DirectoryType, *d.WorkspaceDirectoryName)
			}
			byName := h.describe(acctA, region1, &api.DescribeWorkspaceDirectoriesInput{WorkspaceDirectoryNames: []string{*tt.in.WorkspaceDirectoryName}})
			if len(byName) != 1 || *byName[0].DirectoryId != *out.DirectoryId {
				t.Errorf("by name: %v", byName)
			}
			_, err = h.register(acctA, region1, tt.in)
			servicetest.WantCode(t, err, "ResourceAlreadyExistsException")
		})
	}
}

func TestDescribePagingFiltersAndIsolation(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := range 7 {
		id := fmt.Sprintf("d-%010x", 0xa0+i)
		ids = append(ids, id)
		h.mustRegister(acctA, region1, id)
	}
	h.mustRegister(acctB, region1, "d-00000000bb")
	h.mustRegister(acctA, region2, "d-00000000cc")
	var got []string
	var token *string
	pages := 0
	for {
		out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceDirectories, as(acctA, region1),
			&api.DescribeWorkspaceDirectoriesInput{Limit: api.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range out.Directories {
			got = append(got, *d.DirectoryId)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) || pages != 3 {
		t.Errorf("paged %v in %d pages, want %v in 3", got, pages, ids)
	}
	filterTests := []struct {
		name string
		in   *api.DescribeWorkspaceDirectoriesInput
		want int
	}{
		{"ids", &api.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{ids[0], ids[3], "d-00000000bb"}}, 2},
		{"workspace type", &api.DescribeWorkspaceDirectoriesInput{Filters: []api.DescribeWorkspaceDirectoriesFilter{{Name: api.String("WORKSPACE_TYPE"), Values: []string{"POOLS"}}}}, 0},
		{"identity type", &api.DescribeWorkspaceDirectoriesInput{Filters: []api.DescribeWorkspaceDirectoriesFilter{{Name: api.String("USER_IDENTITY_TYPE"), Values: []string{"AWS_DIRECTORY_SERVICE"}}}}, 7},
		{"names", &api.DescribeWorkspaceDirectoriesInput{WorkspaceDirectoryNames: []string{"nothing"}}, 0},
	}
	for _, tt := range filterTests {
		if n := len(h.describe(acctA, region1, tt.in)); n != tt.want {
			t.Errorf("%s: %d directories, want %d", tt.name, n, tt.want)
		}
	}
	_, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceDirectories, as(acctA, region1),
		&api.DescribeWorkspaceDirectoriesInput{NextToken: api.String("garbage")})
	servicetest.WantCode(t, err, "ValidationException")
}

func TestTagsOnDirectories(t *testing.T) {
	h := newHarness(t)
	_, err := h.register(acctA, region1, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirID),
		Tags: []api.Tag{{Key: api.String("team"), Value: api.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := servicetest.Call(h.Svc, api.OpDescribeTags, as(acctA, region1), &api.DescribeTagsInput{ResourceId: api.String(dirID)})
	if err != nil || len(out.TagList) != 1 || *out.TagList[0].Value != "a" {
		t.Fatalf("DescribeTags = %v, %v", out, err)
	}
	_, err = servicetest.Call(h.Svc, api.OpDescribeTags, as(acctB, region1), &api.DescribeTagsInput{ResourceId: api.String(dirID)})
	servicetest.WantCode(t, err, "ResourceNotFoundException")
}

func TestPropertiesRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.mustRegister(acctA, region1, dirID)
	ctx := as(acctA, region1)
	call := func(name string, f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Not REGISTERED yet.
	_, err := servicetest.Call(h.Svc, api.OpModifySelfservicePermissions, ctx, &api.ModifySelfservicePermissionsInput{
		ResourceId: api.String(dirID), SelfservicePermissions: &api.SelfservicePermissions{RebuildWorkspace: api.String("ENABLED")}})
	servicetest.WantCode(t, err, "OperationNotSupportedException", "REGISTERING")
	h.Advance(time.Minute)

	call("creation", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceCreationProperties, ctx, &api.ModifyWorkspaceCreationPropertiesInput{
			ResourceId: api.String(dirID), WorkspaceCreationProperties: &api.WorkspaceCreationProperties{
				EnableInternetAccess: api.Bool(true), DefaultOu: api.String("OU=WorkSpaces,DC=corp,DC=example,DC=com"),
				CustomSecurityGroupId: api.String("sg-0123456789abcdef0")}})
		return err
	})
	call("access", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceAccessProperties, ctx, &api.ModifyWorkspaceAccessPropertiesInput{
			ResourceId: api.String(dirID), WorkspaceAccessProperties: &api.WorkspaceAccessProperties{DeviceTypeWeb: api.String("ALLOW"), DeviceTypeOsx: api.String("DENY")}})
		return err
	})
	call("self-service", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifySelfservicePermissions, ctx, &api.ModifySelfservicePermissionsInput{
			ResourceId: api.String(dirID), SelfservicePermissions: &api.SelfservicePermissions{RebuildWorkspace: api.String("ENABLED")}})
		return err
	})
	call("saml", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifySamlProperties, ctx, &api.ModifySamlPropertiesInput{
			ResourceId: api.String(dirID), SamlProperties: &api.SamlProperties{Status: api.String("ENABLED"),
				UserAccessUrl: api.String("https://idp.example.com/sso"), RelayStateParameterName: api.String("RelayState")}})
		return err
	})
	call("cba", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifyCertificateBasedAuthProperties, ctx, &api.ModifyCertificateBasedAuthPropertiesInput{
			ResourceId: api.String(dirID), CertificateBasedAuthProperties: &api.CertificateBasedAuthProperties{Status: api.String("ENABLED"),
				CertificateAuthorityArn: api.String("arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/12345678-1234-1234-1234-123456789012")}})
		return err
	})
	call("streaming", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifyStreamingProperties, ctx, &api.ModifyStreamingPropertiesInput{
			ResourceId: api.String(dirID), StreamingProperties: &api.StreamingProperties{StreamingExperiencePreferredProtocol: api.String("UDP"),
				UserSettings: []api.UserSetting{{Action: api.String("CLIPBOARD_COPY_TO_LOCAL_DEVICE"), Permission: api.String("ENABLED"), MaximumLength: api.Int32(100)}}}})
		return err
	})
	call("encryption", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifyEndpointEncryptionMode, ctx, &api.ModifyEndpointEncryptionModeInput{
			DirectoryId: api.String(dirID), EndpointEncryptionMode: api.String("FIPS_VALIDATED")})
		return err
	})
	call("client", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifyClientProperties, ctx, &api.ModifyClientPropertiesInput{
			ResourceId: api.String(dirID), ClientProperties: &api.ClientProperties{ReconnectEnabled: api.String("DISABLED")}})
		return err
	})
	d := h.one(acctA, region1, dirID)
	checks := []struct {
		what      string
		got, want any
	}{
		{"EnableInternetAccess", *d.WorkspaceCreationProperties.EnableInternetAccess, true},
		{"DefaultOu", *d.WorkspaceCreationProperties.DefaultOu, "OU=WorkSpaces,DC=corp,DC=example,DC=com"},
		{"kept EnableMaintenanceMode", *d.WorkspaceCreationProperties.EnableMaintenanceMode, true},
		{"Web", *d.WorkspaceAccessProperties.DeviceTypeWeb, "ALLOW"},
		{"Osx", *d.WorkspaceAccessProperties.DeviceTypeOsx, "DENY"},
		{"kept Windows", *d.WorkspaceAccessProperties.DeviceTypeWindows, "ALLOW"},
		{"RebuildWorkspace", *d.SelfservicePermissions.RebuildWorkspace, "ENABLED"},
		{"kept RestartWorkspace", *d.SelfservicePermissions.RestartWorkspace, "ENABLED"},
		{"SAML", *d.SamlProperties.Status, "ENABLED"},
		{"SAML URL", *d.SamlProperties.UserAccessUrl, "https://idp.example.com/sso"},
		{"CBA", *d.CertificateBasedAuthProperties.Status, "ENABLED"},
		{"protocol", *d.StreamingProperties.StreamingExperiencePreferredProtocol, "UDP"},
		{"clipboard", *d.StreamingProperties.UserSettings[0].MaximumLength, int32(100)},
		{"encryption", *d.EndpointEncryptionMode, "FIPS_VALIDATED"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	cp, err := servicetest.Call(h.Svc, api.OpDescribeClientProperties, ctx, &api.DescribeClientPropertiesInput{ResourceIds: []string{dirID}})
	if err != nil || len(cp.ClientPropertiesList) != 1 || *cp.ClientPropertiesList[0].ClientProperties.ReconnectEnabled != "DISABLED" ||
		*cp.ClientPropertiesList[0].ClientProperties.LogUploadEnabled != "ENABLED" {
		t.Fatalf("DescribeClientProperties = %v, %v", cp, err)
	}
	// PropertiesToDelete removes one member; SAML cannot be disabled under
	// certificate-based authentication.
	call("saml delete", func() error {
		_, err := servicetest.Call(h.Svc, api.OpModifySamlProperties, ctx, &api.ModifySamlPropertiesInput{
			ResourceId: api.String(dirID), PropertiesToDelete: []string{"SAML_PROPERTIES_RELAY_STATE_PARAMETER_NAME"}})
		return err
	})
	if d := h.one(acctA, region1, dirID); d.SamlProperties.RelayStateParameterName != nil || d.SamlProperties.UserAccessUrl == nil {
		t.Errorf("after delete: %+v", d.SamlProperties)
	}
	_, err = servicetest.Call(h.Svc, api.OpModifySamlProperties, ctx, &api.ModifySamlPropertiesInput{
		ResourceId: api.String(dirID), SamlProperties: &api.SamlProperties{Status: api.String("DISABLED")}})
	servicetest.WantCode(t, err, "InvalidParameterValuesException", "certificate-based")
}

func TestPropertyErrors(t *testing.T) {
	h := newHarness(t)
	h.mustRegister(acctA, region1, dirID)
	h.Advance(time.Minute)
	ctx := as(acctA, region1)
	missing := "d-0000000000"
	tests := []struct {
		name string
		call func() error
		code string
		frag string
	}{
		{"creation, missing", func() error {
			_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceCreationProperties, ctx, &api.ModifyWorkspaceCreationPropertiesInput{
				ResourceId: api.String(missing), WorkspaceCreationProperties: &api.WorkspaceCreationProperties{EnableInternetAccess: api.Bool(true)}})
			return err
		}, "ResourceNotFoundException", missing},
		{"creation, other account", func() error {
			_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceCreationProperties, as(acctB, region1), &api.ModifyWorkspaceCreationPropertiesInput{
				ResourceId: api.String(dirID), WorkspaceCreationProperties: &api.WorkspaceCreationProperties{EnableInternetAccess: api.Bool(true)}})
			return err
		}, "ResourceNotFoundException", dirID},
		{"access, every device denied", func() error {
			deny := api.String("DENY")
			_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceAccessProperties, ctx, &api.ModifyWorkspaceAccessPropertiesInput{
				ResourceId: api.String(dirID), WorkspaceAccessProperties: &api.WorkspaceAccessProperties{DeviceTypeWindows: deny, DeviceTypeOsx: deny,
					DeviceTypeIos: deny, DeviceTypeAndroid: deny, DeviceTypeChromeOs: deny, DeviceTypeZeroClient: deny}})
			return err
		}, "InvalidParameterCombinationException", ""},
		{"saml enabled without url", func() error {
			_, err := servicetest.Call(h.Svc, api.OpModifySamlProperties, ctx, &api.ModifySamlPropertiesInput{
				ResourceId: api.String(dirID), SamlProperties: &api.SamlProperties{Status: api.String("ENABLED")}})
			return err
		}, "InvalidParameterValuesException", "UserAccessUrl"},
		{"cba before saml", func() error {
			_, err := servicetest.Call(h.Svc, api.OpModifyCertificateBasedAuthProperties, ctx, &api.ModifyCertificateBasedAuthPropertiesInput{
				ResourceId: api.String(dirID), CertificateBasedAuthProperties: &api.CertificateBasedAuthProperties{Status: api.String("ENABLED"),
					CertificateAuthorityArn: api.String("arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x")}})
			return err
		}, "InvalidParameterValuesException", "SAML"},
		{"streaming, max length on printing", func() error {
			_, err := servicetest.Call(h.Svc, api.OpModifyStreamingProperties, ctx, &api.ModifyStreamingPropertiesInput{
				ResourceId: api.String(dirID), StreamingProperties: &api.StreamingProperties{UserSettings: []api.UserSetting{
					{Action: api.String("PRINTING_TO_LOCAL_DEVICE"), Permission: api.String("ENABLED"), MaximumLength: api.Int32(5)}}}})
			return err
		}, "InvalidParameterValuesException", "MaximumLength"},
		{"encryption, bad enum", func() error {
			_, err := servicetest.Call(h.Svc, api.OpModifyEndpointEncryptionMode, ctx, &api.ModifyEndpointEncryptionModeInput{
				DirectoryId: api.String(dirID), EndpointEncryptionMode: api.String("ROT13")})
			return err
		}, "ValidationException", ""},
		{"client, not a directory", func() error {
			_, err := servicetest.Call(h.Svc, api.OpModifyClientProperties, ctx, &api.ModifyClientPropertiesInput{
				ResourceId: api.String("ws-abcdefghi"), ClientProperties: &api.ClientProperties{ReconnectEnabled: api.String("DISABLED")}})
			return err
		}, "ResourceNotFoundException", ""},
		{"describe client, one missing", func() error {
			_, err := servicetest.Call(h.Svc, api.OpDescribeClientProperties, ctx, &api.DescribeClientPropertiesInput{ResourceIds: []string{dirID, missing}})
			return err
		}, "ResourceNotFoundException", missing},
		{"describe client, 26 ids", func() error {
			ids := make([]string, 26)
			for i := range ids {
				ids[i] = fmt.Sprintf("d-%010x", i)
			}
			_, err := servicetest.Call(h.Svc, api.OpDescribeClientProperties, ctx, &api.DescribeClientPropertiesInput{ResourceIds: ids})
			return err
		}, "ValidationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servicetest.WantCode(t, tt.call(), tt.code, tt.frag)
		})
	}
}

func TestPoolsDirectoryProperties(t *testing.T) {
	h := newHarness(t)
	out, err := h.register(acctA, region1, &api.RegisterWorkspaceDirectoryInput{
		WorkspaceType: api.String("POOLS"), WorkspaceDirectoryName: api.String("pools"), WorkspaceDirectoryDescription: api.String("pools"),
		SubnetIds: []string{"subnet-0123abcd", "subnet-0123abce"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.DirectoryId
	h.Advance(time.Minute)
	d := h.one(acctA, region1, id)
	if *d.WorkspaceCreationProperties.UserEnabledAsLocalAdministrator || *d.WorkspaceCreationProperties.EnableMaintenanceMode {
		t.Errorf("POOLS creation defaults: %+v", d.WorkspaceCreationProperties)
	}
	ctx := as(acctA, region1)
	tests := []struct {
		name  string
		props *api.WorkspaceCreationProperties
		code  string
	}{
		{"internet access", &api.WorkspaceCreationProperties{EnableInternetAccess: api.Bool(true)}, ""},
		{"local administrator", &api.WorkspaceCreationProperties{UserEnabledAsLocalAdministrator: api.Bool(true)}, "InvalidParameterValuesException"},
		{"maintenance", &api.WorkspaceCreationProperties{EnableMaintenanceMode: api.Bool(true)}, "InvalidParameterValuesException"},
		{"default OU without AD", &api.WorkspaceCreationProperties{DefaultOu: api.String("OU=Pools,DC=corp,DC=example,DC=com")}, "InvalidParameterValuesException"},
	}
	for _, tt := range tests {
		_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceCreationProperties, ctx, &api.ModifyWorkspaceCreationPropertiesInput{
			ResourceId: api.String(id), WorkspaceCreationProperties: tt.props})
		if tt.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		servicetest.WantCode(t, err, tt.code)
	}
	_, err = servicetest.Call(h.Svc, api.OpModifySelfservicePermissions, ctx, &api.ModifySelfservicePermissionsInput{
		ResourceId: api.String(id), SelfservicePermissions: &api.SelfservicePermissions{RebuildWorkspace: api.String("ENABLED")}})
	servicetest.WantCode(t, err, "OperationNotSupportedException", "POOLS")
}
