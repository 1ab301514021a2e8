package directories

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
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
	page, more, err := s.page(ctx, req, in, after, limit, keep)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspaceDirectoriesOutput{Directories: make([]api.WorkspaceDirectory, len(page))}
	views := make([]directoryView, len(page))
	// Every directory of the page is the caller's, so they share its role.
	role := iamRole(req.Account)
	for i, d := range page {
		views[i].iamRole = role
		out.Directories[i] = toAPI(d, req.Now, &views[i])
		out.Directories[i].Encoded = records.Encoded(&d.Meta, views[i].answerKey(), &out.Directories[i])
	}
	if more {
		out.NextToken = records.EncodeToken(records.Directories.Name, page[len(page)-1].ID)
	}
	return out, nil
}

// page is up to limit of the directories after the id after that keep
// selects and that are not gone, by id, and whether more follow. Named ids
// are read one by one; otherwise the account is read a page at a time, so
// that neither a by-id describe nor a first page reads every directory of
// the account.
func (s *Service) page(ctx context.Context, req kit.Request, in *api.DescribeWorkspaceDirectoriesInput, after string, limit int,
	keep func(*records.Directory) bool) ([]*records.Directory, bool, error) {
	out := make([]*records.Directory, 0, limit)
	take := func(d *records.Directory) bool {
		if d.ID <= after || d.Gone(req.Now) || !keep(d) {
			return false
		}
		if len(out) == limit {
			return true
		}
		out = append(out, d)
		return false
	}
	if in.DirectoryIds != nil {
		ids := slices.Clone(in.DirectoryIds)
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			d, err := records.Directories.Find(ctx, s.env.DB, req.Account, req.Region, id)
			if err != nil {
				return nil, false, err
			}
			if d != nil && take(d) {
				return out, true, nil
			}
		}
		return out, false, nil
	}
	for from := after; ; {
		batch, more, err := records.Directories.After(ctx, s.env.DB, req.Account, req.Region, from, limit+1)
		if err != nil {
			return nil, false, err
		}
		for _, d := range batch {
			if take(d) {
				return out, true, nil
			}
		}
		if !more {
			return out, false, nil
		}
		from = batch[len(batch)-1].ID
	}
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

// directoryView holds what toAPI's answer points to that the record does
// not hold as such.
type directoryView struct {
	state, iamRole, idcApplication, errorMessage string
	idc                                          api.IDCConfig
}

// answerKey is what a directory's answer depends on besides its record:
// the state and the error message toAPI computed from the clock. Every
// other member is read from the record or derived from it alone.
func (v *directoryView) answerKey() string {
	if v.errorMessage == "" {
		return v.state
	}
	return v.state + "\x00" + v.errorMessage
}

// iamRole is the IamRoleId of the account's directories.
func iamRole(account string) string {
	return "arn:aws:iam::" + account + ":role/workspaces_DefaultRole"
}

// toAPI is the directory as DescribeWorkspaceDirectories shows it at now,
// pointing into d (which no reader changes) and v instead of copying every
// member: a page of 25 directories made some 450 allocations when each had
// its own. v.iamRole, when set, is the account's role, which a page makes
// once for all its directories.
func toAPI(d *records.Directory, now time.Time, v *directoryView) api.WorkspaceDirectory {
	v.state = d.State(now)
	if v.iamRole == "" {
		v.iamRole = iamRole(d.Account)
	}
	out := api.WorkspaceDirectory{
		DirectoryId:                    &d.ID,
		Alias:                          &d.ID,
		RegistrationCode:               &d.RegistrationCode,
		SubnetIds:                      d.SubnetIDs,
		DnsIpAddresses:                 d.DNSIPAddresses,
		IamRoleId:                      &v.iamRole,
		DirectoryType:                  &d.DirectoryType,
		WorkspaceSecurityGroupId:       &d.SecurityGroupID,
		State:                          &v.state,
		WorkspaceCreationProperties:    &d.Creation,
		IpGroupIds:                     d.IPGroupIDs,
		WorkspaceAccessProperties:      &d.Access,
		Tenancy:                        &d.Tenancy,
		SelfservicePermissions:         &d.SelfService,
		UserIdentityType:               &d.UserIdentityType,
		WorkspaceType:                  &d.WorkspaceType,
		ActiveDirectoryConfig:          d.ActiveDirectoryConfig,
		MicrosoftEntraConfig:           d.MicrosoftEntraConfig,
		SamlProperties:                 d.Saml,
		CertificateBasedAuthProperties: d.CertificateBasedAuth,
		StreamingProperties:            d.Streaming,
	}
	if d.DirectoryName != "" {
		out.DirectoryName = &d.DirectoryName
	}
	if d.CustomerUserName != "" {
		out.CustomerUserName = &d.CustomerUserName
	}
	if d.WorkspaceDirectoryName != "" {
		out.WorkspaceDirectoryName = &d.WorkspaceDirectoryName
	}
	if d.WorkspaceDirectoryDescription != "" {
		out.WorkspaceDirectoryDescription = &d.WorkspaceDirectoryDescription
	}
	if d.IdcInstanceArn != "" {
		v.idcApplication = idcApplicationArn(d)
		v.idc = api.IDCConfig{InstanceArn: &d.IdcInstanceArn, ApplicationArn: &v.idcApplication}
		out.IDCConfig = &v.idc
	}
	if d.EndpointEncryptionMode != "" {
		out.EndpointEncryptionMode = &d.EndpointEncryptionMode
	}
	if v.state == api.WorkspaceDirectoryStateError {
		v.errorMessage = d.Registration.At(now).ErrorMessage
		out.ErrorMessage = &v.errorMessage
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
