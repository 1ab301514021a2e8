package workspaces

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// UndefinedUser is the UserName of a user-decoupled WorkSpace.
const UndefinedUser = "[UNDEFINED]"

// The ErrorCode values of CreateWorkspaces' FailedRequests. The first is
// AWS's own (seen in real responses); AWS publishes no list, so the others
// follow its Resource.Kind form.
const (
	codeDirectoryNotFound  = "ResourceNotFound.Directory"
	codeDirectoryState     = "InvalidResourceState.Directory"
	codeBundleNotFound     = "ResourceNotFound.Bundle"
	codeUserNotFound       = "ResourceNotFound.User"
	codeWorkspaceExists    = "ResourceExists.Workspace"
	codeLimitExceeded      = "ResourceLimitExceeded"
	codeInvalidParameter   = "InvalidParameterValues"
	codeUnsupportedTenancy = "UnsupportedWorkspaceConfiguration.Tenancy"
	codeBundleUnavailable  = "ResourceUnavailable.Image"
)

// itemError is the refusal of one item of a batch: a FailedRequests entry.
type itemError struct{ code, message string }

func (e *itemError) Error() string { return e.code + ": " + e.message }

func fail(code, format string, args ...any) *itemError {
	return &itemError{code: code, message: fmt.Sprintf(format, args...)}
}

// asItemError turns err into a FailedRequests entry when it is an AWS error;
// anything else (a store failure) fails the whole request.
func asItemError(err error) (*itemError, bool) {
	var ie *itemError
	if errors.As(err, &ie) {
		return ie, true
	}
	var ae api.APIError
	if errors.As(err, &ae) {
		code := strings.TrimSuffix(ae.ErrorCode(), "Exception")
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, ae.ErrorCode()) {
			msg = msg[i+2:]
		}
		return &itemError{code: code, message: msg}, true
	}
	return nil, false
}

// CreateWorkspaces launches up to 25 WorkSpaces, each independently: a
// request that cannot be honoured is listed in FailedRequests with why, the
// others start PENDING and become AVAILABLE on the service clock (or ERROR
// when scripted to fail).
func (s *Service) CreateWorkspaces(ctx context.Context, in *api.CreateWorkspacesInput) (*api.CreateWorkspacesOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.CreateWorkspacesOutput{FailedRequests: []api.FailedCreateWorkspaceRequest{}, PendingRequests: []api.Workspace{}}
	for i := range in.Workspaces {
		wr := in.Workspaces[i]
		w, err := s.createOne(ctx, req, &wr)
		if err != nil {
			ie, ok := asItemError(err)
			if !ok {
				return nil, err
			}
			out.FailedRequests = append(out.FailedRequests, api.FailedCreateWorkspaceRequest{
				WorkspaceRequest: &wr, ErrorCode: api.String(ie.code), ErrorMessage: api.String(ie.message),
			})
			continue
		}
		out.PendingRequests = append(out.PendingRequests, pendingAPI(w))
	}
	return out, nil
}

// pendingAPI is a new WorkSpace as CreateWorkspaces returns it.
func pendingAPI(w *records.Workspace) api.Workspace {
	out := api.Workspace{
		WorkspaceId: api.String(w.ID), DirectoryId: api.String(w.DirectoryID), UserName: api.String(w.UserName),
		State: api.String(api.WorkspaceStatePending), BundleId: api.String(w.BundleID),
	}
	if w.WorkspaceName != "" {
		out.WorkspaceName = api.String(w.WorkspaceName)
	}
	return out
}

// launchBundle is what a WorkSpace takes from its bundle.
type launchBundle struct {
	id, imageID, imageOwner string
	compute                 string
	root, user              int32
	os                      string
	protocol                string
	byol                    bool
}

// findBundle finds a bundle the caller can launch: one of its own custom
// bundles, or a public one.
func findBundle(ctx context.Context, r records.Reader, req kit.Request, id string) (*launchBundle, error) {
	if pb, ok := records.FindPublicBundle(id); ok {
		return &launchBundle{
			id: pb.ID, imageID: pb.ImageID, compute: pb.ComputeType,
			root: atoi32(pb.RootCapacity), user: atoi32(pb.UserCapacity),
			os: osFromName(pb.Name), protocol: defaultProtocol(osFromName(pb.Name), pb.ComputeType),
		}, nil
	}
	b, err := records.Bundles.Find(ctx, r, req.Account, req.Region, id)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fail(codeBundleNotFound, "The specified bundle %s could not be found in the specified region.", id)
	}
	lb := &launchBundle{id: b.ID, imageID: b.ImageID, imageOwner: b.ImageOwner, compute: b.ComputeType,
		root: atoi32(b.RootCapacity), user: atoi32(b.UserCapacity)}
	img, err := records.VisibleImage(ctx, r, req.Account, req.Region, b.ImageID)
	if err != nil {
		return nil, err
	}
	if img == nil || !img.Available(req.Now) {
		return nil, fail(codeBundleUnavailable, "The image %s of the bundle %s is not available; WorkSpaces can be launched only from bundles whose image is AVAILABLE.", b.ImageID, id)
	}
	lb.byol = img.BYOL()
	switch {
	case img.CustomImport != nil:
		lb.os = osVersionName(img.CustomImport.OsVersion)
		lb.protocol = api.ProtocolWsp
		if img.CustomImport.Protocol == api.CustomImageProtocolPcoip {
			lb.protocol = api.ProtocolPcoip
		}
	case img.LegacyImport != nil:
		lb.os = osVersionName(img.LegacyImport.OsVersion)
		lb.protocol = api.ProtocolPcoip
		if strings.HasSuffix(img.LegacyImport.IngestionProcess, "_WSP") || strings.HasSuffix(img.LegacyImport.IngestionProcess, "_DCV") {
			lb.protocol = api.ProtocolWsp
		}
	default:
		lb.protocol = api.ProtocolPcoip
	}
	return lb, nil
}

func atoi32(s string) int32 {
	var n int32
	fmt.Sscanf(s, "%d", &n)
	return n
}

// osFromName reads a public bundle's operating system from its name.
func osFromName(name string) string {
	for _, c := range []struct{ frag, os string }{
		{"Amazon Linux 2", "AMAZON_LINUX_2"}, {"Ubuntu 22.04", "UBUNTU_22_04"}, {"Ubuntu 20.04", "UBUNTU_20_04"},
		{"Rocky Linux 8", "ROCKY_8"}, {"Red Hat Enterprise Linux 8", "RHEL_8"},
		{"Windows 11", "WINDOWS_11"}, {"Windows 10", "WINDOWS_10"}, {"Windows 7", "WINDOWS_7"},
		{"Windows Server 2025", "WINDOWS_SERVER_2025"}, {"Windows Server 2022", "WINDOWS_SERVER_2022"},
		{"Windows Server 2019", "WINDOWS_SERVER_2019"}, {"Windows Server 2016", "WINDOWS_SERVER_2016"},
	} {
		if strings.Contains(name, c.frag) {
			return c.os
		}
	}
	return ""
}

func osVersionName(v string) string {
	switch v {
	case api.OSVersionWindows10:
		return "WINDOWS_10"
	case api.OSVersionWindows11:
		return "WINDOWS_11"
	}
	return ""
}

func isLinux(os string) bool {
	return strings.HasPrefix(os, "AMAZON_LINUX") || strings.HasPrefix(os, "UBUNTU") || os == "RHEL_8" || os == "ROCKY_8"
}

func isGraphics(compute string) bool { return strings.HasPrefix(compute, "GRAPHICS") }

// defaultProtocol is DCV (WSP) on Linux and GPU bundles, where PCoIP is not
// offered, else PCoIP.
func defaultProtocol(os, compute string) string {
	if isLinux(os) || isGraphics(compute) {
		return api.ProtocolWsp
	}
	return api.ProtocolPcoip
}

// DefaultAutoStopTimeout is RunningModeAutoStopTimeoutInMinutes when an
// AUTO_STOP WorkSpace is given none.
const DefaultAutoStopTimeout = 60

var kmsKey = regexp.MustCompile(`^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[0-9a-f-]{36}|alias/[a-zA-Z0-9/_-]+)|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|alias/[a-zA-Z0-9/_-]+)$`)

// properties checks what a request asks of the new WorkSpace and fills the
// rest from the bundle.
func properties(wr *api.WorkspaceRequest, b *launchBundle) (records.WorkspaceProperties, error) {
	p := records.WorkspaceProperties{
		RunningMode: api.RunningModeAlwaysOn, RootVolumeGiB: b.root, UserVolumeGiB: b.user,
		ComputeType: b.compute, Protocols: []string{b.protocol}, OperatingSystem: b.os,
	}
	in := wr.WorkspaceProperties
	if in == nil {
		return p, nil
	}
	if in.RunningMode != nil {
		p.RunningMode = *in.RunningMode
	}
	if p.RunningMode == api.RunningModeAutoStop {
		p.AutoStopTimeout = DefaultAutoStopTimeout
	}
	if in.RunningModeAutoStopTimeoutInMinutes != nil {
		if err := checkAutoStop(p.RunningMode, *in.RunningModeAutoStopTimeoutInMinutes); err != nil {
			return p, err
		}
		p.AutoStopTimeout = *in.RunningModeAutoStopTimeoutInMinutes
	}
	if in.ComputeTypeName != nil {
		p.ComputeType = *in.ComputeTypeName
	}
	if in.RootVolumeSizeGib != nil {
		p.RootVolumeGiB = *in.RootVolumeSizeGib
	}
	if in.UserVolumeSizeGib != nil {
		p.UserVolumeGiB = *in.UserVolumeSizeGib
	}
	if err := checkVolumes(p.RootVolumeGiB, p.UserVolumeGiB); err != nil {
		return p, err
	}
	if len(in.Protocols) > 0 {
		if err := checkProtocols(in.Protocols, p.OperatingSystem, p.ComputeType); err != nil {
			return p, err
		}
		p.Protocols = []string{in.Protocols[0]}
	}
	return p, nil
}

func checkAutoStop(mode string, minutes int32) error {
	if mode != api.RunningModeAutoStop {
		return fail(codeInvalidParameter, "RunningModeAutoStopTimeoutInMinutes applies only to the AUTO_STOP running mode, not %s.", mode)
	}
	if minutes < 60 || minutes%60 != 0 {
		return fail(codeInvalidParameter, "RunningModeAutoStopTimeoutInMinutes must be a positive multiple of 60; %d is not.", minutes)
	}
	return nil
}

// checkVolumes applies the volume sizes of the Administration Guide: a root
// volume of 80 GB with a user volume of 10, 50 or 100 GB, or a root volume of
// 175 to 2000 GB with a user volume of 100 to 2000 GB.
func checkVolumes(root, user int32) error {
	switch {
	case root == 80 && (user == 10 || user == 50 || user == 100):
		return nil
	case root >= 175 && root <= 2000 && user >= 100 && user <= 2000:
		return nil
	}
	return fail(codeInvalidParameter, "The volume sizes root %d GiB and user %d GiB are not a valid combination: use a root volume of 80 GiB "+
		"with a user volume of 10, 50 or 100 GiB, or a root volume of 175-2000 GiB with a user volume of 100-2000 GiB.", root, user)
}

func checkProtocols(protocols []string, os, compute string) error {
	if len(protocols) > 1 {
		return fail(codeInvalidParameter, "Only one protocol can be specified; %d were given.", len(protocols))
	}
	if protocols[0] == api.ProtocolPcoip && (isLinux(os) || isGraphics(compute)) {
		return fail(codeInvalidParameter, "The PCOIP protocol is not available for this WorkSpace: Linux and GPU-based bundles use DCV (WSP).")
	}
	return nil
}

// createOne validates one request and launches it in a transaction of its
// own, so that one refusal leaves the other requests of the batch alone.
func (s *Service) createOne(ctx context.Context, req kit.Request, wr *api.WorkspaceRequest) (*records.Workspace, error) {
	tags, err := kit.CheckTags(wr.Tags)
	if err != nil {
		return nil, err
	}
	if err := checkFailureTags(tags); err != nil {
		return nil, err
	}
	dirID, user, bundleID := *wr.DirectoryId, *wr.UserName, *wr.BundleId
	name := api.ToString(wr.WorkspaceName)
	switch {
	case user == UndefinedUser && name == "":
		return nil, fail(codeInvalidParameter, "WorkspaceName is required when UserName is %s (a user-decoupled WorkSpace).", UndefinedUser)
	case user != UndefinedUser && name != "":
		return nil, fail(codeInvalidParameter, "WorkspaceName applies only to user-decoupled WorkSpaces, whose UserName is %s.", UndefinedUser)
	}
	if k := api.ToString(wr.VolumeEncryptionKey); k != "" && !kmsKey.MatchString(k) {
		return nil, fail(codeInvalidParameter, "The VolumeEncryptionKey %s is not a KMS key id, key ARN or alias.", k)
	}
	sc, err := s.script(ctx, req)
	if err != nil {
		return nil, err
	}
	var w *records.Workspace
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		d, err := records.FindDirectory(ctx, tx, req.Account, req.Region, dirID, req.Now)
		if err != nil {
			return err
		}
		if d == nil {
			return fail(codeDirectoryNotFound, "The specified directory could not be found in the specified region.")
		}
		if !d.Registered(req.Now) {
			return fail(codeDirectoryState, "The directory %s is %s; WorkSpaces can be launched only in a REGISTERED directory.", dirID, d.State(req.Now))
		}
		b, err := findBundle(ctx, tx, req, bundleID)
		if err != nil {
			return err
		}
		if b.byol && d.Tenancy != api.TenancyDedicated {
			return fail(codeUnsupportedTenancy, "The bundle %s uses a BYOL image, which can be launched only in a directory registered with Tenancy DEDICATED; the directory %s is %s.",
				bundleID, dirID, tenancyOf(d))
		}
		props, err := properties(wr, b)
		if err != nil {
			return err
		}
		if user != UndefinedUser {
			ok, err := records.DirectoryUserExists(ctx, tx, req.Account, req.Region, dirID, user)
			if err != nil {
				return err
			}
			if !ok {
				return fail(codeUserNotFound, "The specified user %s could not be found in the directory %s.", user, dirID)
			}
			taken, err := records.LiveWorkspacesWhere(ctx, tx, req.Account, req.Region, req.Now, func(o *records.Workspace) bool {
				return o.DirectoryID == dirID && strings.EqualFold(o.UserName, user)
			})
			if err != nil {
				return err
			}
			if len(taken) > 0 {
				return fail(codeWorkspaceExists, "The user %s already has a WorkSpace (%s) in the directory %s.", user, taken[0], dirID)
			}
		}
		if err := records.PurgeGoneWorkspaces(ctx, tx, req.Account, req.Region, req.Now); err != nil {
			return err
		}
		w = &records.Workspace{
			Meta:        records.Meta{Account: req.Account, Region: req.Region, Created: req.Now},
			DirectoryID: dirID, UserName: user, BundleID: bundleID, Tags: tags, WorkspaceName: name,
			ImageID: b.imageID, ImageOwner: b.imageOwner, BYOL: b.byol, Properties: props,
			VolumeEncryptionKey: api.ToString(wr.VolumeEncryptionKey),
			RootEncrypted:       toBool(wr.RootVolumeEncryptionEnabled),
			UserEncrypted:       toBool(wr.UserVolumeEncryptionEnabled),
		}
		if (w.RootEncrypted || w.UserEncrypted) && w.VolumeEncryptionKey == "" {
			w.VolumeEncryptionKey = "alias/aws/workspaces"
		}
		w.ID = records.NewID(records.Workspaces.Prefix, records.Workspaces.IDLen)
		w.ComputerName = computerName(req.Account, req.Region, w.ID)
		w.IPAddress = ipAddress(req.Account, req.Region, w.ID, "")
		w.SubnetID = subnetID(d, w.ID)
		if err := s.begin(sc, w, KindCreate); err != nil {
			return err
		}
		w.Launch = w.History[0]
		return records.Workspaces.Insert(ctx, tx, w)
	})
	return w, err
}

func toBool(p *bool) bool { return p != nil && *p }

func tenancyOf(d *records.Directory) string {
	if d.Tenancy == "" {
		return api.TenancyShared
	}
	return d.Tenancy
}
