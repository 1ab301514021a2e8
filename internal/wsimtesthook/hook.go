// Package wsimtesthook lets wsim's own end-to-end tests start a
// wsimtest.Server from app.Options, the form `wsim serve`'s flags are turned
// into, which the public API of package wsimtest cannot name. Package
// wsimtest sets NewServer when it is initialised; importing wsimtest is
// therefore required before calling it.
package wsimtesthook

import (
	"context"

	"github.com/wsim/wsim/internal/app"
)

// NewServer starts a *wsimtest.Server from o on a free loopback port.
var NewServer func(ctx context.Context, o app.Options) (any, error)
