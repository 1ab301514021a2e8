package workspaces

import (
	"context"
	"fmt"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/records"
)

// MigrateWorkspace recreates an AVAILABLE or STOPPED WorkSpace from another
// bundle: a new WorkSpace (new id, PENDING, then AVAILABLE) with the target
// bundle's root volume and compute type and the source's user volume,
// running mode and tags. The source is removed in the same transaction, so
// the migration needs no room in the WorkSpace quota; when the migration is
// refused the source stays as it is.
func (s *Service) MigrateWorkspace(ctx context.Context, in *api.MigrateWorkspaceInput) (*api.MigrateWorkspaceOutput, error) {
	req, sc, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	srcID, bundleID := *in.SourceWorkspaceId, *in.BundleId
	var target *records.Workspace
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		src, err := getLive(ctx, tx, req, srcID)
		if err != nil {
			return err
		}
		v := look(src, req.Now)
		if !v.st.Done || v.inFlight != nil {
			return &api.OperationInProgressException{Message: fmt.Sprintf(
				"The WorkSpace %s is %s; it can be migrated once the operation in progress ends.", srcID, v.state)}
		}
		if v.state != api.WorkspaceStateAvailable && v.state != api.WorkspaceStateStopped {
			return &api.OperationNotSupportedException{Message: fmt.Sprintf(
				"The WorkSpace %s is %s; only AVAILABLE or STOPPED WorkSpaces can be migrated.", srcID, v.state)}
		}
		if bundleID == src.BundleID {
			return &api.InvalidParameterValuesException{Message: fmt.Sprintf(
				"The WorkSpace %s already uses the bundle %s; migrate it to a different bundle.", srcID, bundleID)}
		}
		b, err := findBundle(ctx, tx, req, bundleID)
		if ie, ok := err.(*itemError); ok {
			if ie.code == codeBundleNotFound {
				return records.Bundles.NotFound(bundleID)
			}
			return &api.ResourceUnavailableException{ResourceId: api.String(bundleID), Message: ie.message}
		}
		if err != nil {
			return err
		}
		d, err := records.FindDirectory(ctx, tx, req.Account, req.Region, src.DirectoryID, req.Now)
		if err != nil {
			return err
		}
		if d == nil || !d.Registered(req.Now) {
			return &api.ResourceUnavailableException{ResourceId: api.String(src.DirectoryID), Message: fmt.Sprintf(
				"The directory %s of the WorkSpace %s is not REGISTERED.", src.DirectoryID, srcID)}
		}
		if b.byol && d.Tenancy != api.TenancyDedicated {
			return &api.OperationNotSupportedException{Message: fmt.Sprintf(
				"The bundle %s uses a BYOL image, which can be launched only in a directory registered with Tenancy DEDICATED; the directory %s is %s.",
				bundleID, d.ID, tenancyOf(d))}
		}
		props := v.props
		// The user volume comes along when the target's root volume allows
		// its size; otherwise the target bundle's sizes are taken.
		props.ComputeType, props.RootVolumeGiB, props.OperatingSystem = b.compute, b.root, b.os
		if checkVolumes(b.root, props.UserVolumeGiB) != nil {
			props.UserVolumeGiB = b.user
		}
		props.Protocols = []string{b.protocol}
		target = &records.Workspace{
			Meta:        records.Meta{Account: req.Account, Region: req.Region, Created: req.Now},
			DirectoryID: src.DirectoryID, UserName: src.UserName, BundleID: bundleID, Tags: src.Tags,
			WorkspaceName: src.WorkspaceName, ImageID: b.imageID, ImageOwner: b.imageOwner, BYOL: b.byol,
			Properties: props, VolumeEncryptionKey: src.VolumeEncryptionKey,
			RootEncrypted: src.RootEncrypted, UserEncrypted: src.UserEncrypted,
		}
		target.ID = records.NewID(records.Workspaces.Prefix, records.Workspaces.IDLen)
		target.ComputerName = computerName(req.Account, req.Region, target.ID)
		target.IPAddress = ipAddress(req.Account, req.Region, target.ID, "")
		target.SubnetID = src.SubnetID
		if err := s.begin(sc, target, KindCreate); err != nil {
			return err
		}
		target.Launch = target.History[0]
		if err := records.Workspaces.Delete(ctx, tx, src); err != nil {
			return err
		}
		return records.Workspaces.Insert(ctx, tx, target)
	})
	if err != nil {
		return nil, err
	}
	return &api.MigrateWorkspaceOutput{SourceWorkspaceId: api.String(srcID), TargetWorkspaceId: api.String(target.ID)}, nil
}
