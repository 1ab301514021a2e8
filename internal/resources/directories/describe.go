package directories

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/records"
)

// defaultLimit is the page size of DescribeWorkspaceDirectories without a
// Limit: the largest Limit the model allows.
const defaultLimit = 25

// DescribeWorkspaceDirectories lists the caller's directories in the Region
// by id, a page at a time: those named by DirectoryIds and by
// WorkspaceDirectoryNames when given (both when both are), that match every
// filter. Ids and names that match nothing are left out, as AWS leaves
// them out. Gone directories are never listed.
func (s *Service) DescribeWorkspaceDirectories(ctx context.Context, in *api.DescribeWorkspaceDirectoriesInput) (*api.DescribeWorkspaceDirectoriesOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	_, after, err := records.DecodeToken(in.NextToken, records.Directories.Name)
	if err != nil {
		return nil, err
	}
	keep, err := filters(in)
	if err != nil {
		return nil, err
	}
	limit := defaultLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	all, err := records.Directories.List(ctx, s.env.DB, req.Account, req.Region)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspaceDirectoriesOutput{Directories: []api.WorkspaceDirectory{}}
	for _, d := range all {
		if d.ID <= after || d.Gone(req.Now) || !keep(d) {
			continue
		}
		if len(out.Directories) == limit {
			out.NextToken = records.EncodeToken(records.Directories.Name, *out.Directories[limit-1].DirectoryId)
			break
		}
		out.Directories = append(out.Directories, toAPI(d, req.Now))
	}
	return out, nil
}

// filters is what DescribeWorkspaceDirectories selects by.
func filters(in *api.DescribeWorkspaceDirectoriesInput) (func(*records.Directory) bool, error) {
	byFilter := map[string][]string{}
	for _, f := range in.Filters {
		name := *f.Name
		if _, dup := byFilter[name]; dup {
			return nil, &api.InvalidParameterValuesException{Message: fmt.Sprintf("The filter %s is given more than once.", name)}
		}
		byFilter[name] = f.Values
	}
	for name, values := range byFilter {
		valid := api.UserIdentityTypeValues
		if name == api.DescribeWorkspaceDirectoriesFilterNameWorkspaceType {
			valid = api.WorkspaceTypeValues
		}
		for _, v := range values {
			if !slices.Contains(valid, v) {
				return nil, &api.InvalidParameterValuesException{Message: fmt.Sprintf(
					"The value %s of filter %s is not valid. Valid values are %v.", v, name, valid)}
			}
		}
	}
	return func(d *records.Directory) bool {
		if in.DirectoryIds != nil && !slices.Contains(in.DirectoryIds, d.ID) {
			return false
		}
		if in.WorkspaceDirectoryNames != nil && !slices.Contains(in.WorkspaceDirectoryNames, d.WorkspaceDirectoryName) {
			return false
		}
		if v, ok := byFilter[api.DescribeWorkspaceDirectoriesFilterNameUserIdentityType]; ok && !slices.Contains(v, d.UserIdentityType) {
			return false
		}
		if v, ok := byFilter[api.DescribeWorkspaceDirectoriesFilterNameWorkspaceType]; ok && !slices.Contains(v, d.WorkspaceType) {
			return false
		}
		return true
	}, nil
}

// toAPI is the directory as DescribeWorkspaceDirectories shows it at now.
func toAPI(d *records.Directory, now time.Time) api.WorkspaceDirectory {
	state := d.State(now)
	creation := d.Creation
	access := d.Access
	self := d.SelfService
	out := api.WorkspaceDirectory{
		DirectoryId:                 api.String(d.ID),
		Alias:                       api.String(d.ID),
		RegistrationCode:            api.String(d.RegistrationCode),
		SubnetIds:                   slices.Clone(d.SubnetIDs),
		DnsIpAddresses:              slices.Clone(d.DNSIPAddresses),
		IamRoleId:                   api.String(fmt.Sprintf("arn:aws:iam::%s:role/workspaces_DefaultRole", d.Account)),
		DirectoryType:               api.String(d.DirectoryType),
		WorkspaceSecurityGroupId:    api.String(d.SecurityGroupID),
		State:                       api.String(state),
		WorkspaceCreationProperties: &creation,
		IpGroupIds:                  slices.Clone(d.IPGroupIDs),
		WorkspaceAccessProperties:   &access,
		Tenancy:                     api.String(d.Tenancy),
		SelfservicePermissions:      &self,
		UserIdentityType:            api.String(d.UserIdentityType),
		WorkspaceType:               api.String(d.WorkspaceType),
	}
	if d.DirectoryName != "" {
		out.DirectoryName = api.String(d.DirectoryName)
	}
	if d.CustomerUserName != "" {
		out.CustomerUserName = api.String(d.CustomerUserName)
	}
	if d.WorkspaceDirectoryName != "" {
		out.WorkspaceDirectoryName = api.String(d.WorkspaceDirectoryName)
	}
	if d.WorkspaceDirectoryDescription != "" {
		out.WorkspaceDirectoryDescription = api.String(d.WorkspaceDirectoryDescription)
	}
	if d.IdcInstanceArn != "" {
		out.IDCConfig = &api.IDCConfig{InstanceArn: api.String(d.IdcInstanceArn), ApplicationArn: api.String(idcApplicationArn(d))}
	}
	if d.ActiveDirectoryConfig != nil {
		c := *d.ActiveDirectoryConfig
		out.ActiveDirectoryConfig = &c
	}
	if d.MicrosoftEntraConfig != nil {
		c := *d.MicrosoftEntraConfig
		out.MicrosoftEntraConfig = &c
	}
	if d.Saml != nil {
		c := *d.Saml
		out.SamlProperties = &c
	}
	if d.CertificateBasedAuth != nil {
		c := *d.CertificateBasedAuth
		out.CertificateBasedAuthProperties = &c
	}
	if d.Streaming != nil {
		c := *d.Streaming
		out.StreamingProperties = &c
	}
	if d.EndpointEncryptionMode != "" {
		out.EndpointEncryptionMode = api.String(d.EndpointEncryptionMode)
	}
	if state == api.WorkspaceDirectoryStateError {
		out.ErrorMessage = api.String(d.Registration.At(now).ErrorMessage)
	}
	return out
}

// idcApplicationArn is the Identity Center application WorkSpaces creates
// for a directory registered with an Identity Center instance.
func idcApplicationArn(d *records.Directory) string {
	return fmt.Sprintf("arn:aws:sso::%s:application/%s/apl-%s", d.Account, instanceID(d.IdcInstanceArn), d.ID[len("wsd-"):])
}

func instanceID(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}

// DeregisterWorkspaceDirectory starts deregistering a directory: it is
// DEREGISTERING, then DEREGISTERED briefly, then gone. It is refused while
// WorkSpaces remain in the directory, and while the directory is still
// REGISTERING or already DEREGISTERING. The IP access control groups
// associated with it are disassociated in the same transaction.
func (s *Service) DeregisterWorkspaceDirectory(ctx context.Context, in *api.DeregisterWorkspaceDirectoryInput) (*api.DeregisterWorkspaceDirectoryOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	id := *in.DirectoryId
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		d, err := records.GetDirectory(ctx, tx, req.Account, req.Region, id, req.Now)
		if err != nil {
			return err
		}
		switch st := d.State(req.Now); st {
		case api.WorkspaceDirectoryStateDeregistered:
			return records.Directories.NotFound(id)
		case api.WorkspaceDirectoryStateRegistering, api.WorkspaceDirectoryStateDeregistering:
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The directory %s is %s and cannot be deregistered now. Try again when it is REGISTERED.", id, st)}
		}
		ws, err := records.WorkspacesWhere(ctx, tx, req.Account, req.Region, func(w *records.Workspace) bool {
			if g, ok := any(w).(interface{ Gone(time.Time) bool }); ok && g.Gone(req.Now) {
				return false
			}
			return w.DirectoryID == id
		})
		if err != nil {
			return err
		}
		if len(ws) > 0 {
			return &api.OperationNotSupportedException{Message: fmt.Sprintf(
				"The directory %s cannot be deregistered because it has %d WorkSpaces (%s). Terminate them first.",
				id, len(ws), ws[0])}
		}
		for _, gid := range d.IPGroupIDs {
			g, err := records.IPGroups.Find(ctx, tx, req.Account, req.Region, gid)
			if err != nil {
				return err
			}
			if g == nil {
				continue
			}
			g.Directories = slices.DeleteFunc(g.Directories, func(x string) bool { return x == id })
			if err := records.IPGroups.Put(ctx, tx, g); err != nil {
				return err
			}
		}
		d.IPGroupIDs = nil
		plan := s.env.Profile.Plan(KindDeregistration, req.Now, nil)
		d.Deregistration = &plan
		return records.Directories.Put(ctx, tx, d)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeregisterWorkspaceDirectoryOutput{}, nil
}
