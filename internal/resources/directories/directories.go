// Package directories is the directories registered with WorkSpaces
// (register, describe, deregister, their property operations) and wsim's
// stand-in for the Directory Service directories behind them.
package directories

import (
	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
)

// Service implements the directory operations.
type Service struct{ env *kit.Env }

// New returns the directory operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the directory operations to r.
func (s *Service) Register(r *api.Registry) {}
