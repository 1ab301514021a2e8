package app

// This file is the only one of package app that knows package service: it
// wires the service to the control plane and to the HTTP edge as `wsim
// serve` runs them. When the way the service is built changes, this file is
// what changes.

import (
	"context"
	"net/http"
	"time"

	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/iam"
	"github.com/wsim/wsim/internal/metrics"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/server"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/store"
)

// Defaults of Options.ImageQuota and Options.BundleQuota (and of wsim serve's
// --image-quota and --bundle-quota).
const (
	DefaultImageQuota  = service.DefaultImageQuota
	DefaultBundleQuota = service.DefaultBundleQuota
	// DefaultWorkspaceQuota is the default of Options.WorkspaceQuota and
	// --workspace-quota.
	DefaultWorkspaceQuota = service.DefaultWorkspaceQuota
)

// ParseDirectoryMode reads a --directories value: friendly or strict.
func ParseDirectoryMode(s string) (DirectoryMode, error) {
	m, err := service.ParseDirectoryMode(s)
	return DirectoryMode(m), err
}

// Errors of the fault-rule methods, for errors.Is.
var (
	// ErrInvalidFaultRule wraps what is wrong with a rule AddFaultRule refuses.
	ErrInvalidFaultRule = service.ErrInvalidRule
	// ErrNoSuchFaultRule is returned by DeleteFaultRule for an unknown id.
	ErrNoSuchFaultRule = service.ErrNoSuchRule
)

// ParseBYOLMode reads a --byol value: friendly or strict.
func ParseBYOLMode(s string) (BYOLMode, error) {
	m, err := service.ParseBYOLMode(s)
	return BYOLMode(m), err
}

// compose builds the service over st, its control plane and the HTTP edge in
// front of both. o has its defaults applied.
func compose(o Options, st store.Store, clockCacheTTL time.Duration) (http.Handler, services) {
	svc := service.New(service.Config{
		Profile: o.Profile, ImageQuota: o.ImageQuota, BundleQuota: o.BundleQuota, BYOL: service.BYOLMode(o.BYOL),
		Directories: service.DirectoryMode(o.Directories), WorkspaceQuota: o.WorkspaceQuota,
		ClockCacheTTL: clockCacheTTL, Now: o.Now,
	}, st)
	o.Registry.MustRegister(metrics.NewCollector(metrics.Config{
		Pipelines: svc.Pipelines,
		Clock: func(ctx context.Context) (metrics.ClockReading, error) {
			s, err := svc.Clock().State(ctx)
			if err != nil {
				return metrics.ClockReading{}, err
			}
			real := o.Now()
			return metrics.ClockReading{Frozen: s.Frozen, Offset: s.Now(real).Sub(real)}, nil
		},
		Logger: o.Logger,
	}))
	countAction := metrics.ControlActions(o.Registry, control.Actions...)
	opts := server.Options{
		API:      svc.Registry(),
		Defaults: auth.Defaults{Account: o.DefaultAccount, Region: o.DefaultRegion},
		Logger:   o.Logger,
		Control: control.New(svc, control.WithLogger(o.Logger), control.WithActionHook(countAction), control.WithPolicies(o.Credentials),
			control.WithAbout(control.About{Version: o.Version, Store: store.Describe(o.Store, o.DataDir)})),
		Registry: o.Registry,
		Guard:    &server.GuardOptions{ListenAddr: o.ListenAddr, AllowedHosts: o.AllowedHosts, ControlToken: o.ControlToken},
	}
	if o.Credentials != nil {
		opts.Verifier, opts.Authorize = verification(o, svc)
	}
	return server.New(opts), svc
}

// verification is --auth sigv4: signatures checked against the credentials
// file's keys at real time (a signature's date is the client's clock, not
// the service clock), and the principals' policies applied, with the
// resources' tags read at service time for aws:ResourceTag.
func verification(o Options, svc *service.Service) (*auth.Verifier, func(context.Context, auth.Caller, string, any) error) {
	authorizer := &iam.Authorizer{
		Policies: o.Credentials.Policies,
		Tags: func(ctx context.Context, account, region, id string) (map[string]string, error) {
			now, err := svc.Clock().Now(ctx)
			if err != nil {
				return nil, err
			}
			tags, _, err := records.Tags(ctx, svc.Records(), account, region, id, now)
			if err != nil {
				return nil, err
			}
			m := make(map[string]string, len(tags))
			for _, t := range tags {
				if t.Key != nil && t.Value != nil {
					m[*t.Key] = *t.Value
				}
			}
			return m, nil
		},
	}
	authorize := func(ctx context.Context, c auth.Caller, operation string, in any) error {
		return authorizer.Authorize(ctx, iam.Principal{ARN: c.Principal, Account: c.Account, Region: c.Region}, operation, in)
	}
	return &auth.Verifier{Keys: o.Credentials, Now: time.Now}, authorize
}
