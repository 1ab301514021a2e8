package directories

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// RegisterWorkspaceDirectory starts registering a directory: a Directory
// Service directory by its d- id (PERSONAL), or a POOLS or IAM Identity
// Center directory without one, which gets a wsd- id. The directory is
// REGISTERING until its plan ends, REGISTERED after, or ERROR when a
// failure was scripted with wsim: tags or a fault rule.
func (s *Service) RegisterWorkspaceDirectory(ctx context.Context, in *api.RegisterWorkspaceDirectoryInput) (*api.RegisterWorkspaceDirectoryOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.newDirectory(ctx, req, in)
	if err != nil {
		return nil, err
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	failure, err := s.env.ScriptedFailure(ctx, tags, pipeline.Subject{
		Kind: KindRegistration, Account: req.Account, Region: req.Region, Name: displayName(d), SourceID: d.ID,
	})
	if err != nil {
		return nil, err
	}
	d.Tags = tags
	d.Registration = s.env.Profile.Plan(KindRegistration, req.Now, failure)
	err = records.Directories.Create(ctx, s.env.DB, d, func(tx *records.Tx) error {
		if d.Tenancy == api.TenancyDedicated {
			st, err := s.env.DB.BYOL(ctx, tx, req.Account, req.Region, req.Now)
			if err != nil {
				return err
			}
			if !st.Enabled {
				return kit.InvalidParameter("The account %s is not enabled for BYOL in %s, so a directory cannot be registered with "+
					"Tenancy DEDICATED. Enable BYOL with ModifyAccount (DedicatedTenancySupport ENABLED) and try again.", req.Account, req.Region)
			}
		}
		return purgeAndCheck(ctx, tx, req, d)
	})
	if err != nil {
		return nil, err
	}
	return &api.RegisterWorkspaceDirectoryOutput{
		DirectoryId: api.String(d.ID),
		State:       api.String(d.State(req.Now)),
	}, nil
}

// purgeAndCheck deletes the account's directories in the Region that are
// gone or DEREGISTERED at now, so that they neither count against the quota
// nor keep their id or name taken, and refuses a d- id that is still
// registered.
func purgeAndCheck(ctx context.Context, tx *records.Tx, req kit.Request, d *records.Directory) error {
	all, err := records.Directories.List(ctx, tx, req.Account, req.Region)
	if err != nil {
		return err
	}
	for _, old := range all {
		st := old.State(req.Now)
		if old.Gone(req.Now) || st == api.WorkspaceDirectoryStateDeregistered {
			if err := records.Directories.Delete(ctx, tx, old); err != nil {
				return err
			}
			continue
		}
		if old.ID == d.ID {
			if st == api.WorkspaceDirectoryStateDeregistering {
				return &api.InvalidResourceStateException{Message: fmt.Sprintf(
					"The directory %s is being deregistered. Wait until the deregistration completes, then register it again.", d.ID)}
			}
			return &api.ResourceAlreadyExistsException{Message: fmt.Sprintf("The directory %s is already registered with WorkSpaces.", d.ID)}
		}
	}
	return nil
}

// newDirectory checks the request and builds the directory it registers,
// with AWS's defaults for every property.
func (s *Service) newDirectory(ctx context.Context, req kit.Request, in *api.RegisterWorkspaceDirectoryInput) (*records.Directory, error) {
	d := &records.Directory{
		Meta:             records.Meta{Account: req.Account, Region: req.Region, Created: req.Now},
		Tenancy:          deref(in.Tenancy, api.TenancyShared),
		WorkspaceType:    deref(in.WorkspaceType, api.WorkspaceTypePersonal),
		UserIdentityType: deref(in.UserIdentityType, ""),
		Creation: api.DefaultWorkspaceCreationProperties{
			EnableInternetAccess:            api.Bool(false),
			UserEnabledAsLocalAdministrator: api.Bool(true),
			EnableMaintenanceMode:           api.Bool(true),
		},
		Access:      defaultAccess(),
		SelfService: defaultSelfService(deref(in.EnableSelfService, false)),
		Client: api.ClientProperties{
			ReconnectEnabled: api.String(api.ReconnectEnumEnabled),
			LogUploadEnabled: api.String(api.LogUploadEnumEnabled),
		},
	}
	subnets, err := checkSubnets(in.SubnetIds)
	if err != nil {
		return nil, err
	}
	if in.DirectoryId != nil {
		if err := s.fromDirectoryService(ctx, req, in, d); err != nil {
			return nil, err
		}
	} else if err := fromNameAndConfig(in, d); err != nil {
		return nil, err
	}
	if subnets != nil {
		d.SubnetIDs = subnets
	}
	if len(d.SubnetIDs) == 0 {
		return nil, &api.OperationNotSupportedException{Message: "A directory that is not an AWS Directory Service directory needs SubnetIds: " +
			"two subnets in different Availability Zones that WorkSpaces supports."}
	}
	if d.WorkspaceType == api.WorkspaceTypePools {
		// Pool sessions are never local administrators and AWS maintains
		// the instances itself.
		d.Creation.UserEnabledAsLocalAdministrator = api.Bool(false)
		d.Creation.EnableMaintenanceMode = api.Bool(false)
	}
	d.SecurityGroupID, d.RegistrationCode = derivedIDs(req, d)
	if d.Tenancy == api.TenancyDedicated && d.WorkspaceType == api.WorkspaceTypePools {
		return nil, &api.OperationNotSupportedException{Message: "Tenancy DEDICATED is not supported for POOLS directories."}
	}
	return d, nil
}

// fromDirectoryService fills in a PERSONAL directory from the Directory
// Service directory it registers.
func (s *Service) fromDirectoryService(ctx context.Context, req kit.Request, in *api.RegisterWorkspaceDirectoryInput, d *records.Directory) error {
	id := *in.DirectoryId
	switch {
	case strings.HasPrefix(id, "wsd-"):
		return kit.InvalidParameter("The directory ID %s is not a Directory Service directory ID. WorkSpaces assigns wsd- IDs when a directory "+
			"is registered without a DirectoryId.", id)
	case d.WorkspaceType == api.WorkspaceTypePools:
		return kit.InvalidParameter("POOLS directories are registered without a DirectoryId: give WorkspaceDirectoryName, " +
			"WorkspaceDirectoryDescription and ActiveDirectoryConfig instead.")
	case d.UserIdentityType != "" && d.UserIdentityType != api.UserIdentityTypeAwsDirectoryService:
		return kit.InvalidParameter("A directory registered by its DirectoryId has UserIdentityType %s, not %s.",
			api.UserIdentityTypeAwsDirectoryService, d.UserIdentityType)
	case in.IdcInstanceArn != nil || in.MicrosoftEntraConfig != nil || in.ActiveDirectoryConfig != nil:
		return kit.InvalidParameter("IdcInstanceArn, MicrosoftEntraConfig and ActiveDirectoryConfig cannot be given with a DirectoryId.")
	}
	ds, err := records.LookupDSDirectory(ctx, s.env.DB, req.Account, req.Region, id)
	if err != nil {
		return err
	}
	if ds == nil {
		return kit.NotFound(id, "The specified directory %s could not be found in the specified region.", id)
	}
	if ds.Stage != records.DSStageActive {
		return &api.InvalidResourceStateException{Message: fmt.Sprintf(
			"The directory %s is in the %s stage. Only a directory in the Active stage can be registered.", id, ds.Stage)}
	}
	d.ID = id
	d.UserIdentityType = api.UserIdentityTypeAwsDirectoryService
	d.DirectoryType = ds.Type
	d.DirectoryName = ds.DomainName
	d.SubnetIDs = slices.Clone(ds.SubnetIDs)
	d.DNSIPAddresses = slices.Clone(ds.DNSIPAddresses)
	d.CustomerUserName = ds.CustomerUserName
	if in.WorkspaceDirectoryName != nil || in.WorkspaceDirectoryDescription != nil {
		d.WorkspaceDirectoryName = deref(in.WorkspaceDirectoryName, "")
		d.WorkspaceDirectoryDescription = deref(in.WorkspaceDirectoryDescription, "")
	}
	return nil
}

// fromNameAndConfig fills in a POOLS or IAM Identity Center directory,
// which has no Directory Service directory behind it.
func fromNameAndConfig(in *api.RegisterWorkspaceDirectoryInput, d *records.Directory) error {
	if d.WorkspaceType == api.WorkspaceTypePersonal && d.UserIdentityType == "" {
		return &api.ValidationException{Message: "The following arguments are required - DirectoryId."}
	}
	if in.WorkspaceDirectoryName == nil || in.WorkspaceDirectoryDescription == nil {
		return kit.InvalidParameter("A directory registered without a DirectoryId needs a WorkspaceDirectoryName and a WorkspaceDirectoryDescription.")
	}
	switch d.UserIdentityType {
	case "":
		d.UserIdentityType = api.UserIdentityTypeCustomerManaged
	case api.UserIdentityTypeAwsDirectoryService:
		return &api.ValidationException{Message: "The following arguments are required - DirectoryId."}
	}
	d.Name = *in.WorkspaceDirectoryName
	d.WorkspaceDirectoryName = *in.WorkspaceDirectoryName
	d.WorkspaceDirectoryDescription = *in.WorkspaceDirectoryDescription
	switch d.UserIdentityType {
	case api.UserIdentityTypeAwsIamIdentityCenter:
		if in.IdcInstanceArn == nil {
			return kit.InvalidParameter("IdcInstanceArn is required when UserIdentityType is %s.", api.UserIdentityTypeAwsIamIdentityCenter)
		}
		d.IdcInstanceArn = *in.IdcInstanceArn
		d.DirectoryType = api.WorkspaceDirectoryTypeAwsIamIdentityCenter
	case api.UserIdentityTypeCustomerManaged:
		if in.IdcInstanceArn != nil {
			return kit.InvalidParameter("IdcInstanceArn is only used when UserIdentityType is %s.", api.UserIdentityTypeAwsIamIdentityCenter)
		}
		d.DirectoryType = api.WorkspaceDirectoryTypeCustomerManaged
	}
	if c := in.ActiveDirectoryConfig; c != nil {
		cp := *c
		d.ActiveDirectoryConfig = &cp
		d.DirectoryName = *c.DomainName
	}
	if c := in.MicrosoftEntraConfig; c != nil {
		cp := *c
		d.MicrosoftEntraConfig = &cp
	}
	if d.WorkspaceType == api.WorkspaceTypePools && d.ActiveDirectoryConfig == nil && d.UserIdentityType == api.UserIdentityTypeCustomerManaged &&
		d.MicrosoftEntraConfig != nil {
		return kit.InvalidParameter("MicrosoftEntraConfig is not supported for POOLS directories.")
	}
	return nil
}

// checkSubnets refuses what AWS refuses of SubnetIds: WorkSpaces needs two
// subnets, in two Availability Zones; wsim cannot see zones, so it only
// refuses one subnet or the same one twice. nil means none were given.
func checkSubnets(ids []string) ([]string, error) {
	switch {
	case ids == nil:
		return nil, nil
	case len(ids) != 2:
		return nil, &api.OperationNotSupportedException{Message: fmt.Sprintf(
			"WorkSpaces needs two subnets in different Availability Zones; %d subnet was given.", len(ids))}
	case ids[0] == ids[1]:
		return nil, &api.OperationNotSupportedException{Message: fmt.Sprintf(
			"The subnets must be in different Availability Zones; %s was given twice.", ids[0])}
	}
	return slices.Clone(ids), nil
}

// regionCodes are the airport codes AWS puts in the registration codes of
// some Regions (WSpdx+... in us-west-2); other Regions get "wsim".
var regionCodes = map[string]string{
	"us-east-1": "SLiad", "us-west-2": "WSpdx", "eu-west-1": "WSdub", "eu-central-1": "WSfra", "eu-west-2": "WSlhr",
	"ap-southeast-1": "WSsin", "ap-southeast-2": "WSsyd", "ap-northeast-1": "WSnrt", "ap-northeast-2": "WSicn",
	"ca-central-1": "WSyul", "sa-east-1": "WSgru", "ap-south-1": "WSbom",
}

// derivedIDs are the directory's security group, which WorkSpaces creates
// at registration, and its registration code: drawn from the account,
// Region, id and time of the registration, so that they stay what they were
// for this registration.
func derivedIDs(req kit.Request, d *records.Directory) (sg, code string) {
	key := d.ID
	if key == "" {
		key = "name/" + d.Name
	}
	sum := sha256.Sum256([]byte("dir/" + req.Account + "/" + req.Region + "/" + key + "/" + req.Now.String()))
	sg = "sg-" + hex.EncodeToString(sum[:])[:17]
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	suffix := make([]byte, 7)
	for i := range suffix {
		suffix[i] = alnum[int(sum[10+i])%len(alnum)]
	}
	prefix, ok := regionCodes[req.Region]
	if !ok {
		prefix = "WSsim"
	}
	return sg, prefix + "+" + string(suffix)
}

func defaultAccess() api.WorkspaceAccessProperties {
	allow, deny := api.String(api.AccessPropertyValueAllow), api.String(api.AccessPropertyValueDeny)
	return api.WorkspaceAccessProperties{
		DeviceTypeWindows: allow, DeviceTypeOsx: allow, DeviceTypeWeb: deny, DeviceTypeIos: allow,
		DeviceTypeAndroid: allow, DeviceTypeChromeOs: allow, DeviceTypeZeroClient: allow, DeviceTypeLinux: deny,
	}
}

// defaultSelfService is RestartWorkspace alone, or every permission when
// the directory was registered with EnableSelfService.
func defaultSelfService(all bool) api.SelfservicePermissions {
	on, off := api.String(api.ReconnectEnumEnabled), api.String(api.ReconnectEnumDisabled)
	if all {
		off = on
	}
	return api.SelfservicePermissions{RestartWorkspace: on, IncreaseVolumeSize: off, ChangeComputeType: off, SwitchRunningMode: off, RebuildWorkspace: off}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
