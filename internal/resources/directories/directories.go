// Package directories is the directories registered with WorkSpaces
// (register, describe, deregister, their property operations) and wsim's
// stand-in for the Directory Service directories behind them.
package directories

import (
	"context"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// The lifecycles of a directory: registration and deregistration.
const (
	KindRegistration   pipeline.Kind = "directory-registration"
	KindDeregistration pipeline.Kind = "directory-deregistration"
)

// stateGone is the final state of a deregistration: the directory no longer
// exists. No API shows it; the dashboard does.
const stateGone = "GONE"

// AWS publishes no duration for either operation. A Terraform test that
// registered and deregistered a POOLS directory took about 45 seconds in
// all, so the realistic profile takes 30 s to register and 15 s to
// deregister, after which DEREGISTERED is shown for 5 s ("very briefly")
// before the directory is gone. Quick keeps each state visible for a few
// seconds of polling; instant makes both immediate.
func init() {
	pipeline.Register(pipeline.Lifecycle{
		Kind: KindRegistration, Label: "Directory registration", Noun: "directory registration",
		Stages: []pipeline.StageSpec{{
			State: api.WorkspaceDirectoryStateRegistering, Message: "The directory is being registered with WorkSpaces.",
			ErrorCode: "UnsupportedNetworkConfiguration", Realistic: 30 * time.Second, Quick: 3 * time.Second,
		}},
		Final: api.WorkspaceDirectoryStateRegistered, FinalMessage: "The directory is registered with WorkSpaces.",
		FailureMessage: "The directory could not be registered with WorkSpaces. Check that its subnets are in supported " +
			"Availability Zones, that its DNS servers can be reached from them and that the workspaces_DefaultRole role exists, " +
			"then deregister it and register it again.",
	})
	pipeline.Register(pipeline.Lifecycle{
		Kind: KindDeregistration, Label: "Directory deregistration", Noun: "directory deregistration",
		Stages: []pipeline.StageSpec{
			{State: api.WorkspaceDirectoryStateDeregistering, Message: "The directory is being deregistered from WorkSpaces.",
				ErrorCode: "UnknownError", Realistic: 15 * time.Second, Quick: 3 * time.Second},
			{State: api.WorkspaceDirectoryStateDeregistered, Message: "The directory is deregistered and about to disappear.",
				ErrorCode: "UnknownError", Realistic: 5 * time.Second, Quick: 2 * time.Second},
		},
		Final: stateGone, FinalMessage: "The directory was deregistered and no longer exists.",
	})
}

// Service implements the directory operations.
type Service struct{ env *kit.Env }

// New returns the directory operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the directory operations to r.
func (s *Service) Register(r *api.Registry) {
	api.Handle(r, api.OpRegisterWorkspaceDirectory, s.RegisterWorkspaceDirectory)
	api.Handle(r, api.OpDescribeWorkspaceDirectories, s.DescribeWorkspaceDirectories)
	api.Handle(r, api.OpDeregisterWorkspaceDirectory, s.DeregisterWorkspaceDirectory)
	s.registerProperties(r)
}

// Sources are the directory pipelines: each directory shows its
// deregistration once it has one, else its registration.
func (s *Service) Sources() []dashboard.Source {
	kinds := []pipeline.Kind{KindRegistration, KindDeregistration}
	return []dashboard.Source{dashboard.KindSource(s.env.DB, records.Directories, kinds, directoryPipeline)}
}

func directoryPipeline(d *records.Directory, now time.Time) dashboard.Pipeline {
	plan := d.Registration
	state := d.State(now)
	if d.Deregistration != nil {
		plan = *d.Deregistration
		if d.Gone(now) {
			state = stateGone
		}
	}
	p := dashboard.New(plan, now, state)
	p.Account, p.Region, p.ResourceID = d.Account, d.Region, d.ID
	p.Name, p.Description, p.Created = displayName(d), d.WorkspaceDirectoryDescription, d.Created
	return p
}

// CatalogSources are the registered directories, as the dashboard's
// catalogue lists them; a gone directory shows as DEREGISTERED until its
// record is purged.
func (s *Service) CatalogSources() []dashboard.CatalogSource {
	return []dashboard.CatalogSource{dashboard.KindCatalog(s.env.DB, "directory", records.Directories, directoryResource)}
}

func directoryResource(_ context.Context, d *records.Directory, now time.Time) (dashboard.Resource, error) {
	r := dashboard.Resource{
		Name: displayName(d), Description: d.WorkspaceDirectoryDescription, State: d.State(now), Created: d.Created,
		Attributes: map[string]string{
			"directoryType": d.DirectoryType, "workspaceType": d.WorkspaceType, "tenancy": d.Tenancy,
		},
	}
	if len(d.Tags) > 0 {
		r.Tags = kit.TagMap(d.Tags)
	}
	for _, g := range d.IPGroupIDs {
		r.Relations = append(r.Relations, dashboard.Relation{Type: "ip-group", Account: d.Account, Region: d.Region, ID: g})
	}
	return r, nil
}

// displayName is the WorkSpaces directory name, else the domain name.
func displayName(d *records.Directory) string {
	if d.WorkspaceDirectoryName != "" {
		return d.WorkspaceDirectoryName
	}
	return d.DirectoryName
}
