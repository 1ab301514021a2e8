package directories

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// registerProperties adds the property operations to r. Every one is
// synchronous: what it sets is what DescribeWorkspaceDirectories (or
// DescribeClientProperties) reads back at once.
func (s *Service) registerProperties(r *api.Registry) {
	api.Handle(r, api.OpModifyWorkspaceCreationProperties, s.ModifyWorkspaceCreationProperties)
	api.Handle(r, api.OpModifyWorkspaceAccessProperties, s.ModifyWorkspaceAccessProperties)
	api.Handle(r, api.OpModifySelfservicePermissions, s.ModifySelfservicePermissions)
	api.Handle(r, api.OpModifySamlProperties, s.ModifySamlProperties)
	api.Handle(r, api.OpModifyCertificateBasedAuthProperties, s.ModifyCertificateBasedAuthProperties)
	api.Handle(r, api.OpModifyStreamingProperties, s.ModifyStreamingProperties)
	api.Handle(r, api.OpModifyEndpointEncryptionMode, s.ModifyEndpointEncryptionMode)
	api.Handle(r, api.OpModifyClientProperties, s.ModifyClientProperties)
	api.Handle(r, api.OpDescribeClientProperties, s.DescribeClientProperties)
}

// modify changes the caller's directory in one read-modify-write: refused
// with ResourceNotFoundException when there is no such directory (or it is
// gone), and with OperationNotSupportedException unless it is REGISTERED
// (the property operations' model lists no InvalidResourceStateException).
func (s *Service) modify(ctx context.Context, id string, fn func(d *records.Directory) error) error {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return err
	}
	_, err = records.Directories.Mutate(ctx, s.env.DB, req.Account, req.Region, id, func(_ *records.Tx, d *records.Directory) error {
		if d.Gone(req.Now) {
			return records.Directories.NotFound(id)
		}
		if st := d.State(req.Now); st != api.WorkspaceDirectoryStateRegistered {
			return &api.OperationNotSupportedException{Message: fmt.Sprintf(
				"The directory %s is %s; its properties can be changed only while it is REGISTERED.", id, st)}
		}
		return fn(d)
	})
	return err
}

// set stores *v in *dst when v is given.
func set[T any](dst **T, v *T) {
	if v != nil {
		c := *v
		*dst = &c
	}
}

// setString stores a given string, and clears it when it is given empty.
func setString(dst **string, v *string) {
	switch {
	case v == nil:
	case *v == "":
		*dst = nil
	default:
		set(dst, v)
	}
}

// ModifyWorkspaceCreationProperties changes the properties new WorkSpaces
// of the directory are created with; members left out keep their values,
// and an empty DefaultOu, CustomSecurityGroupId or InstanceIamRoleArn
// removes it.
func (s *Service) ModifyWorkspaceCreationProperties(ctx context.Context, in *api.ModifyWorkspaceCreationPropertiesInput) (*api.ModifyWorkspaceCreationPropertiesOutput, error) {
	p := in.WorkspaceCreationProperties
	err := s.modify(ctx, *in.ResourceId, func(d *records.Directory) error {
		if d.WorkspaceType == api.WorkspaceTypePools {
			if err := checkPoolsCreation(d, p); err != nil {
				return err
			}
		}
		c := &d.Creation
		set(&c.EnableInternetAccess, p.EnableInternetAccess)
		set(&c.UserEnabledAsLocalAdministrator, p.UserEnabledAsLocalAdministrator)
		set(&c.EnableMaintenanceMode, p.EnableMaintenanceMode)
		setString(&c.DefaultOu, p.DefaultOu)
		setString(&c.CustomSecurityGroupId, p.CustomSecurityGroupId)
		setString(&c.InstanceIamRoleArn, p.InstanceIamRoleArn)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyWorkspaceCreationPropertiesOutput{}, nil
}

// checkPoolsCreation refuses what a POOLS directory cannot have: its
// sessions' users are never local administrators, AWS maintains the
// instances itself, and a default OU needs the Active Directory the pool
// joins.
func checkPoolsCreation(d *records.Directory, p *api.WorkspaceCreationProperties) error {
	switch {
	case p.UserEnabledAsLocalAdministrator != nil && *p.UserEnabledAsLocalAdministrator:
		return kit.InvalidParameter("UserEnabledAsLocalAdministrator cannot be enabled for the POOLS directory %s.", d.ID)
	case p.EnableMaintenanceMode != nil && *p.EnableMaintenanceMode:
		return kit.InvalidParameter("EnableMaintenanceMode cannot be enabled for the POOLS directory %s.", d.ID)
	case p.DefaultOu != nil && *p.DefaultOu != "" && d.ActiveDirectoryConfig == nil:
		return kit.InvalidParameter("DefaultOu can be set for the POOLS directory %s only when it was registered with an ActiveDirectoryConfig.", d.ID)
	}
	return nil
}

// ModifyWorkspaceAccessProperties changes which client devices may connect;
// device types left out keep their values.
func (s *Service) ModifyWorkspaceAccessProperties(ctx context.Context, in *api.ModifyWorkspaceAccessPropertiesInput) (*api.ModifyWorkspaceAccessPropertiesOutput, error) {
	p := in.WorkspaceAccessProperties
	if c := p.AccessEndpointConfig; c != nil && len(c.AccessEndpoints) == 0 {
		return nil, kit.InvalidParameter("AccessEndpointConfig needs at least one access endpoint.")
	}
	err := s.modify(ctx, *in.ResourceId, func(d *records.Directory) error {
		a := &d.Access
		set(&a.DeviceTypeWindows, p.DeviceTypeWindows)
		set(&a.DeviceTypeOsx, p.DeviceTypeOsx)
		set(&a.DeviceTypeWeb, p.DeviceTypeWeb)
		set(&a.DeviceTypeIos, p.DeviceTypeIos)
		set(&a.DeviceTypeAndroid, p.DeviceTypeAndroid)
		set(&a.DeviceTypeChromeOs, p.DeviceTypeChromeOs)
		set(&a.DeviceTypeZeroClient, p.DeviceTypeZeroClient)
		set(&a.DeviceTypeLinux, p.DeviceTypeLinux)
		set(&a.DeviceTypeWorkSpacesThinClient, p.DeviceTypeWorkSpacesThinClient)
		if c := p.AccessEndpointConfig; c != nil {
			cp := api.AccessEndpointConfig{AccessEndpoints: slices.Clone(c.AccessEndpoints), InternetFallbackProtocols: slices.Clone(c.InternetFallbackProtocols)}
			a.AccessEndpointConfig = &cp
		}
		allDenied := true
		for _, v := range []*string{a.DeviceTypeWindows, a.DeviceTypeOsx, a.DeviceTypeWeb, a.DeviceTypeIos, a.DeviceTypeAndroid,
			a.DeviceTypeChromeOs, a.DeviceTypeZeroClient, a.DeviceTypeLinux, a.DeviceTypeWorkSpacesThinClient} {
			if v != nil && *v == api.AccessPropertyValueAllow {
				allDenied = false
			}
		}
		if allDenied {
			return &api.InvalidParameterCombinationException{Message: "At least one device type must be allowed to access the WorkSpaces of the directory."}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyWorkspaceAccessPropertiesOutput{}, nil
}

// ModifySelfservicePermissions changes what users may do to their own
// WorkSpaces; permissions left out keep their values.
func (s *Service) ModifySelfservicePermissions(ctx context.Context, in *api.ModifySelfservicePermissionsInput) (*api.ModifySelfservicePermissionsOutput, error) {
	p := in.SelfservicePermissions
	err := s.modify(ctx, *in.ResourceId, func(d *records.Directory) error {
		if d.WorkspaceType == api.WorkspaceTypePools {
			return &api.OperationNotSupportedException{Message: fmt.Sprintf(
				"Self-service permissions are not supported for the POOLS directory %s.", d.ID)}
		}
		sp := &d.SelfService
		set(&sp.RestartWorkspace, p.RestartWorkspace)
		set(&sp.IncreaseVolumeSize, p.IncreaseVolumeSize)
		set(&sp.ChangeComputeType, p.ChangeComputeType)
		set(&sp.SwitchRunningMode, p.SwitchRunningMode)
		set(&sp.RebuildWorkspace, p.RebuildWorkspace)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifySelfservicePermissionsOutput{}, nil
}

func samlEnabled(p *api.SamlProperties) bool {
	return p != nil && p.Status != nil && *p.Status != api.SamlStatusEnumDisabled
}

func cbaEnabled(p *api.CertificateBasedAuthProperties) bool {
	return p != nil && p.Status != nil && *p.Status == api.CertificateBasedAuthStatusEnumEnabled
}

// ModifySamlProperties changes SAML 2.0 authentication: the members given
// are set, those in PropertiesToDelete removed. Enabling SAML needs a user
// access URL; disabling it is refused while certificate-based
// authentication, which depends on it, is enabled.
func (s *Service) ModifySamlProperties(ctx context.Context, in *api.ModifySamlPropertiesInput) (*api.ModifySamlPropertiesOutput, error) {
	err := s.modify(ctx, *in.ResourceId, func(d *records.Directory) error {
		p := api.SamlProperties{Status: api.String(api.SamlStatusEnumDisabled)}
		if d.Saml != nil {
			p = *d.Saml
		}
		if g := in.SamlProperties; g != nil {
			set(&p.Status, g.Status)
			set(&p.UserAccessUrl, g.UserAccessUrl)
			set(&p.RelayStateParameterName, g.RelayStateParameterName)
		}
		for _, del := range in.PropertiesToDelete {
			given := in.SamlProperties != nil
			switch del {
			case api.DeletableSamlPropertySamlPropertiesUserAccessUrl:
				if given && in.SamlProperties.UserAccessUrl != nil {
					return kit.InvalidParameter("UserAccessUrl cannot be both set and deleted.")
				}
				p.UserAccessUrl = nil
			case api.DeletableSamlPropertySamlPropertiesRelayStateParameterName:
				if given && in.SamlProperties.RelayStateParameterName != nil {
					return kit.InvalidParameter("RelayStateParameterName cannot be both set and deleted.")
				}
				p.RelayStateParameterName = nil
			}
		}
		if samlEnabled(&p) && p.UserAccessUrl == nil {
			return kit.InvalidParameter("SAML 2.0 authentication with Status %s needs a UserAccessUrl: the sign-in URL of your identity provider.", *p.Status)
		}
		if !samlEnabled(&p) && cbaEnabled(d.CertificateBasedAuth) {
			return kit.InvalidParameter("SAML 2.0 authentication cannot be disabled while certificate-based authentication is enabled. " +
				"Disable certificate-based authentication first.")
		}
		d.Saml = &p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifySamlPropertiesOutput{}, nil
}

// ModifyCertificateBasedAuthProperties changes certificate-based
// authentication, which needs SAML 2.0 authentication enabled first and a
// certificate authority.
func (s *Service) ModifyCertificateBasedAuthProperties(ctx context.Context, in *api.ModifyCertificateBasedAuthPropertiesInput) (*api.ModifyCertificateBasedAuthPropertiesOutput, error) {
	err := s.modify(ctx, *in.ResourceId, func(d *records.Directory) error {
		p := api.CertificateBasedAuthProperties{Status: api.String(api.CertificateBasedAuthStatusEnumDisabled)}
		if d.CertificateBasedAuth != nil {
			p = *d.CertificateBasedAuth
		}
		if g := in.CertificateBasedAuthProperties; g != nil {
			set(&p.Status, g.Status)
			set(&p.CertificateAuthorityArn, g.CertificateAuthorityArn)
		}
		for _, del := range in.PropertiesToDelete {
			if del == api.DeletableCertificateBasedAuthPropertyCertificateBasedAuthPropertiesCertificateAuthorityArn {
				if g := in.CertificateBasedAuthProperties; g != nil && g.CertificateAuthorityArn != nil {
					return kit.InvalidParameter("CertificateAuthorityArn cannot be both set and deleted.")
				}
				p.CertificateAuthorityArn = nil
			}
		}
		if cbaEnabled(&p) {
			if !samlEnabled(d.Saml) {
				return kit.InvalidParameter("Certificate-based authentication needs SAML 2.0 authentication enabled first: " +
					"enable it with ModifySamlProperties, then try again.")
			}
			if p.CertificateAuthorityArn == nil {
				return kit.InvalidParameter("Certificate-based authentication needs a CertificateAuthorityArn: the AWS Private CA that issues the certificates.")
			}
		}
		d.CertificateBasedAuth = &p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyCertificateBasedAuthPropertiesOutput{}, nil
}

// clipboardActions are the user settings that take a MaximumLength.
var clipboardActions = []string{"CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "CLIPBOARD_COPY_TO_LOCAL_DEVICE"}

// ModifyStreamingProperties changes the streaming properties; each member
// given replaces the one stored, members left out keep their values.
func (s *Service) ModifyStreamingProperties(ctx context.Context, in *api.ModifyStreamingPropertiesInput) (*api.ModifyStreamingPropertiesOutput, error) {
	g := in.StreamingProperties
	if g != nil {
		seen := map[string]bool{}
		for _, u := range g.UserSettings {
			if seen[*u.Action] {
				return nil, kit.InvalidParameter("The user setting %s is given more than once.", *u.Action)
			}
			seen[*u.Action] = true
			if u.MaximumLength != nil && !slices.Contains(clipboardActions, *u.Action) {
				return nil, kit.InvalidParameter("MaximumLength applies only to %s, not to %s.", strings.Join(clipboardActions, " and "), *u.Action)
			}
		}
		seen = map[string]bool{}
		for _, c := range g.StorageConnectors {
			if seen[*c.ConnectorType] {
				return nil, kit.InvalidParameter("The storage connector %s is given more than once.", *c.ConnectorType)
			}
			seen[*c.ConnectorType] = true
		}
	}
	err := s.modify(ctx, *in.ResourceId, func(d *records.Directory) error {
		if g == nil {
			return nil
		}
		p := api.StreamingProperties{}
		if d.Streaming != nil {
			p = *d.Streaming
		}
		set(&p.StreamingExperiencePreferredProtocol, g.StreamingExperiencePreferredProtocol)
		set(&p.GlobalAccelerator, g.GlobalAccelerator)
		if g.UserSettings != nil {
			p.UserSettings = slices.Clone(g.UserSettings)
		}
		if g.StorageConnectors != nil {
			p.StorageConnectors = slices.Clone(g.StorageConnectors)
		}
		d.Streaming = &p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyStreamingPropertiesOutput{}, nil
}

// ModifyEndpointEncryptionMode sets how the directory's streaming
// endpoints encrypt: STANDARD_TLS or FIPS_VALIDATED.
func (s *Service) ModifyEndpointEncryptionMode(ctx context.Context, in *api.ModifyEndpointEncryptionModeInput) (*api.ModifyEndpointEncryptionModeOutput, error) {
	err := s.modify(ctx, *in.DirectoryId, func(d *records.Directory) error {
		d.EndpointEncryptionMode = *in.EndpointEncryptionMode
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyEndpointEncryptionModeOutput{}, nil
}

// ModifyClientProperties changes the client properties of a directory
// (reconnection, log upload); members left out keep their values.
func (s *Service) ModifyClientProperties(ctx context.Context, in *api.ModifyClientPropertiesInput) (*api.ModifyClientPropertiesOutput, error) {
	p := in.ClientProperties
	if !isDirectoryID(*in.ResourceId) {
		return nil, records.Directories.NotFound(*in.ResourceId)
	}
	err := s.modify(ctx, *in.ResourceId, func(d *records.Directory) error {
		set(&d.Client.ReconnectEnabled, p.ReconnectEnabled)
		set(&d.Client.LogUploadEnabled, p.LogUploadEnabled)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyClientPropertiesOutput{}, nil
}

// DescribeClientProperties reads the client properties of up to 25
// directories, in the order asked; any id that is not a directory of the
// caller fails the request with ResourceNotFoundException.
func (s *Service) DescribeClientProperties(ctx context.Context, in *api.DescribeClientPropertiesInput) (*api.DescribeClientPropertiesOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeClientPropertiesOutput{ClientPropertiesList: []api.ClientPropertiesResult{}}
	seen := map[string]bool{}
	for _, id := range in.ResourceIds {
		if seen[id] {
			continue
		}
		seen[id] = true
		d, err := s.find(ctx, req.Account, req.Region, id, req.Now)
		if err != nil {
			return nil, err
		}
		c := d.Client
		out.ClientPropertiesList = append(out.ClientPropertiesList, api.ClientPropertiesResult{ResourceId: api.String(id), ClientProperties: &c})
	}
	return out, nil
}

func (s *Service) find(ctx context.Context, account, region, id string, now time.Time) (*records.Directory, error) {
	if !isDirectoryID(id) {
		return nil, records.Directories.NotFound(id)
	}
	return records.GetDirectory(ctx, s.env.DB, account, region, id, now)
}

func isDirectoryID(id string) bool {
	return dsIDPattern.MatchString(id) || wsdIDPattern.MatchString(id)
}
