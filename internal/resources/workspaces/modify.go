package workspaces

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// VolumeGrowthInterval is how often a WorkSpace's volumes can be grown:
// "once in a 6-hour period" [AG modify-workspaces.html].
const VolumeGrowthInterval = 6 * time.Hour

// maxModifications bounds the modifications a WorkSpace keeps: finished
// ones are folded into its properties.
const maxModifications = 8

// ModifyWorkspaceProperties changes an AVAILABLE or STOPPED WorkSpace's
// properties. The running mode and its timeout change at once; a volume
// size, the compute type or the protocol changes through a modification
// that ModificationStates shows (UPDATE_INITIATED, UPDATE_IN_PROGRESS, or
// UPDATE_FAILED when it failed) and that applies the new value when it
// ends. The WorkSpace's own state stays as it was, as at AWS.
func (s *Service) ModifyWorkspaceProperties(ctx context.Context, in *api.ModifyWorkspacePropertiesInput) (*api.ModifyWorkspacePropertiesOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if in.DataReplication != nil {
		return nil, &api.UnsupportedWorkspaceConfigurationException{Message: "DataReplication needs a standby WorkSpace in another Region, which wsim does not offer."}
	}
	p := in.WorkspaceProperties
	if p == nil {
		return nil, kit.InvalidParameter("WorkspaceProperties is required: give the properties to change.")
	}
	sc, err := s.script(ctx, req)
	if err != nil {
		return nil, err
	}
	id := *in.WorkspaceId
	err = s.change(ctx, req, id, func(w *records.Workspace, v view) error {
		if v.inFlight != nil {
			return &api.OperationInProgressException{Message: fmt.Sprintf(
				"The WorkSpace %s is being modified (%s is %s); wait until the modification ends.", id, v.inFlight.Resource, v.inFlight.Plan.At(req.Now).State)}
		}
		if !v.st.Done || (v.state != api.WorkspaceStateAvailable && v.state != api.WorkspaceStateStopped) {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The WorkSpace %s is %s; its properties can be modified only when it is AVAILABLE or STOPPED.", id, v.state)}
		}
		mods, err := checkModification(w, v, p, req.Now)
		if err != nil {
			return err
		}
		compact(w, req.Now)
		if p.RunningMode != nil {
			w.Properties.RunningMode = *p.RunningMode
			if *p.RunningMode == api.RunningModeAutoStop && w.Properties.AutoStopTimeout == 0 {
				w.Properties.AutoStopTimeout = DefaultAutoStopTimeout
			}
		}
		if p.RunningModeAutoStopTimeoutInMinutes != nil {
			w.Properties.AutoStopTimeout = *p.RunningModeAutoStopTimeoutInMinutes
		}
		for _, mod := range mods {
			failure, err := sc.failure(w, KindModify)
			if err != nil {
				return err
			}
			mod.Plan = s.env.Profile.Plan(KindModify, req.Now, failure)
			w.Modifications = append(w.Modifications, mod)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyWorkspacePropertiesOutput{}, nil
}

// checkModification applies AWS's rules for changing properties and
// returns the modifications to start.
func checkModification(w *records.Workspace, v view, p *api.WorkspaceProperties, now time.Time) ([]records.WorkspaceModification, error) {
	cur := v.props
	if p.RunningMode != nil || p.RunningModeAutoStopTimeoutInMinutes != nil {
		mode := cur.RunningMode
		if p.RunningMode != nil {
			mode = *p.RunningMode
		}
		if p.RunningModeAutoStopTimeoutInMinutes != nil {
			if err := checkAutoStop(mode, *p.RunningModeAutoStopTimeoutInMinutes); err != nil {
				return nil, kit.InvalidParameter("%s", err.(*itemError).message)
			}
		}
	}
	if p.OperatingSystemName != nil && *p.OperatingSystemName != cur.OperatingSystem {
		return nil, &api.UnsupportedWorkspaceConfigurationException{Message: fmt.Sprintf(
			"The operating system of the WorkSpace %s can't be changed with ModifyWorkspaceProperties; use MigrateWorkspace with a bundle of the other operating system.", w.ID)}
	}
	var mods []records.WorkspaceModification
	root, user := cur.RootVolumeGiB, cur.UserVolumeGiB
	rootChange := p.RootVolumeSizeGib != nil && *p.RootVolumeSizeGib != root
	userChange := p.UserVolumeSizeGib != nil && *p.UserVolumeSizeGib != user
	computeChange := p.ComputeTypeName != nil && *p.ComputeTypeName != cur.ComputeType
	if (rootChange || userChange) && computeChange {
		return nil, kit.InvalidParameter("The volume sizes and the compute type of a WorkSpace can't be changed at the same time; change one, wait for the modification to end, then the other.")
	}
	if rootChange && userChange {
		return nil, kit.InvalidParameter("The root and user volumes of a WorkSpace can't be grown at the same time; grow one, wait for the modification to end, then the other.")
	}
	if rootChange || userChange {
		newRoot, newUser := root, user
		if rootChange {
			newRoot = *p.RootVolumeSizeGib
		}
		if userChange {
			newUser = *p.UserVolumeSizeGib
		}
		if newRoot < root || newUser < user {
			return nil, kit.InvalidParameter("The volumes of a WorkSpace can only grow: root %d GiB and user %d GiB can't become root %d GiB and user %d GiB.", root, user, newRoot, newUser)
		}
		if err := checkVolumes(newRoot, newUser); err != nil {
			return nil, kit.InvalidParameter("%s", err.(*itemError).message)
		}
		if last, ok := lastVolumeGrowth(w); ok && now.Sub(last) < VolumeGrowthInterval {
			return nil, &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The volumes of the WorkSpace %s were grown at %s; they can be grown once in 6 hours, next at %s.",
				w.ID, last.UTC().Format(time.RFC3339), last.Add(VolumeGrowthInterval).UTC().Format(time.RFC3339))}
		}
		if rootChange {
			mods = append(mods, records.WorkspaceModification{Resource: api.ModificationResourceEnumRootVolume, Value: strconv.Itoa(int(newRoot))})
		}
		if userChange {
			mods = append(mods, records.WorkspaceModification{Resource: api.ModificationResourceEnumUserVolume, Value: strconv.Itoa(int(newUser))})
		}
	}
	if computeChange {
		to := *p.ComputeTypeName
		if isGraphics(to) != isGraphics(cur.ComputeType) {
			return nil, &api.UnsupportedWorkspaceConfigurationException{Message: fmt.Sprintf(
				"The compute type of the WorkSpace %s can't change between %s and %s: graphics and non-graphics compute types are not interchangeable.", w.ID, cur.ComputeType, to)}
		}
		mods = append(mods, records.WorkspaceModification{Resource: api.ModificationResourceEnumComputeType, Value: to})
	}
	if len(p.Protocols) > 0 {
		if err := checkProtocols(p.Protocols, cur.OperatingSystem, cur.ComputeType); err != nil {
			return nil, &api.UnsupportedWorkspaceConfigurationException{Message: err.(*itemError).message}
		}
		if len(cur.Protocols) == 0 || p.Protocols[0] != cur.Protocols[0] {
			mods = append(mods, records.WorkspaceModification{Resource: api.ModificationResourceEnumProtocol, Value: p.Protocols[0]})
		}
	}
	return mods, nil
}

// lastVolumeGrowth is when the latest volume modification that did not
// fail started.
func lastVolumeGrowth(w *records.Workspace) (time.Time, bool) {
	for i := len(w.Modifications) - 1; i >= 0; i-- {
		mod := w.Modifications[i]
		if mod.Resource != api.ModificationResourceEnumRootVolume && mod.Resource != api.ModificationResourceEnumUserVolume {
			continue
		}
		if st := mod.Plan.At(mod.Plan.End()); !st.Failed {
			return mod.Plan.Start, true
		}
	}
	return time.Time{}, false
}

// compact folds finished modifications into the stored properties, keeping
// the latest ones (for the 6-hour rule and UPDATE_FAILED) up to
// maxModifications.
func compact(w *records.Workspace, now time.Time) {
	if len(w.Modifications) < maxModifications {
		return
	}
	drop := len(w.Modifications) - maxModifications + 1
	for _, mod := range w.Modifications[:drop] {
		if st := mod.Plan.At(now); st.Done && !st.Failed {
			applyModification(&w.Properties, &mod)
		}
	}
	w.Modifications = append([]records.WorkspaceModification(nil), w.Modifications[drop:]...)
}
