// Package ipgroups is the IP access control groups and their association
// with directories.
package ipgroups

import (
	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
)

// Service implements the IP access control group operations.
type Service struct{ env *kit.Env }

// New returns the IP access control group operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the IP access control group operations to r.
func (s *Service) Register(r *api.Registry) {}
