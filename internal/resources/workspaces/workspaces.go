// Package workspaces is the WorkSpaces themselves: launched from bundles
// into registered directories, started, stopped, rebooted, rebuilt,
// restored, modified, migrated, captured into images and terminated, each
// change taking time on the service clock.
package workspaces

import (
	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
)

// Service implements the WorkSpace operations.
type Service struct{ env *kit.Env }

// New returns the WorkSpace operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the WorkSpace operations to r.
func (s *Service) Register(r *api.Registry) {}
