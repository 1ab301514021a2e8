package directories

import "github.com/wsim/wsim/internal/api"

// registerProperties adds the property operations to r.
func (s *Service) registerProperties(r *api.Registry) {}
