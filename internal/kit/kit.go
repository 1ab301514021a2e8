// Package kit is what every resource package shares: the environment an
// operation runs in (the typed store, the service clock, the timing
// profile), the request's caller and time, the errors operations answer
// most, tag rules and scripted failures. Resource packages are built on it
// and on package records; nothing here knows any one resource.
package kit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// Env is what operations run against; one is shared by every resource
// package of a service.
type Env struct {
	DB    *records.DB
	Clock *clock.Clock
	// Profile gives the stage durations of new long-running operations.
	Profile pipeline.Profile
}

// Request is who calls and when: the account and Region that own everything
// the request touches, and the service time it happens at.
type Request struct {
	Account, Region string
	Now             time.Time
}

// NewImage is a new image of the caller, named name, whose plan of kind
// starts at the request's time: what every operation that adds an image to
// the catalogue (imports, copies, updated images, images captured from a
// WorkSpace) starts from.
func (e *Env) NewImage(req Request, name, description string, kind pipeline.Kind, failure *pipeline.Failure, tags []api.Tag) *records.Image {
	return &records.Image{
		Meta:        records.Meta{Account: req.Account, Region: req.Region, Name: name, Created: req.Now},
		Description: description,
		Plan:        e.Profile.Plan(kind, req.Now, failure),
		Tags:        tags,
	}
}

// Begin starts an operation: the caller from the context, the time from the
// service clock.
func (e *Env) Begin(ctx context.Context) (Request, error) {
	c, ok := auth.FromContext(ctx)
	if !ok {
		return Request{}, errors.New("kit: no caller in context")
	}
	now, err := e.Clock.Now(ctx)
	if err != nil {
		return Request{}, err
	}
	return Request{Account: c.Account, Region: c.Region, Now: now}, nil
}

// InvalidParameter is the InvalidParameterValuesException most refusals are.
func InvalidParameter(format string, args ...any) error {
	return &api.InvalidParameterValuesException{Message: fmt.Sprintf(format, args...)}
}

// NotFound is a ResourceNotFoundException naming the resource id.
func NotFound(id, format string, args ...any) error {
	return &api.ResourceNotFoundException{Message: fmt.Sprintf(format, args...), ResourceId: api.String(id)}
}
