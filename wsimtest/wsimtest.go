// Package wsimtest runs wsim, the emulator of the Amazon WorkSpaces API, inside
// a Go test: an HTTP server on a free loopback port serving the same API,
// control plane and metrics as `wsim serve`, with its state in memory unless
// told otherwise, so that code using aws-sdk-go-v2's WorkSpaces client can be
// tested against it without an AWS account or a separate process.
//
//	srv, err := wsimtest.NewServer(wsimtest.Options{})
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer srv.Close()
//	client := workspaces.NewFromConfig(srv.AWSConfig("111122223333", "us-east-1"))
//
// The access key id of AWSConfig is the account the client acts for, so two
// accounts give two isolated tenants, as with `wsim serve`. Long-running
// operations such as ImportCustomWorkspaceImage advance on the service clock,
// which Clock freezes, advances and sets, so a test never needs to sleep; and
// Faults installs server-side rules that make matching operations fail (the
// wsim:fail-at tags work too). Everything is described in wsim's README and
// docs/import-pipeline.md; the control plane is also served over HTTP under
// URL()+"/_wsim/".
//
// The methods of Clock and Faults take no context: they act on the server's
// store directly (no HTTP) and return as soon as it has answered, which for
// the memory and SQLite stores is at once.
package wsimtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wsim/wsim/internal/app"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/wsimtesthook"
)

// Defaults of Options.
const (
	// DefaultStore keeps the state in memory, gone when the server closes.
	DefaultStore = "memory"
	// DefaultProfile is wsim serve's default timing profile: every stage a
	// few seconds long, a custom image import 40 s in all.
	DefaultProfile = pipeline.DefaultProfile
	// DefaultAccount and DefaultRegion are whom unsigned requests act for.
	DefaultAccount = app.DefaultAccount
	DefaultRegion  = app.DefaultRegion
	// DefaultImageQuota and DefaultBundleQuota are the images and custom
	// bundles an account may hold per Region.
	DefaultImageQuota  = app.DefaultImageQuota
	DefaultBundleQuota = app.DefaultBundleQuota
)

// BYOLMode says how accounts start out with respect to BYOL.
type BYOLMode string

const (
	// BYOLFriendly accounts start enabled for BYOL, so imports work at once
	// (the default).
	BYOLFriendly BYOLMode = "friendly"
	// BYOLStrict accounts refuse BYOL imports with AccessDeniedException
	// until ModifyAccount has enabled them.
	BYOLStrict BYOLMode = "strict"
)

// Options configure a Server; the zero Options are wsim serve's defaults
// except for the store, which is in memory. Each field matches a flag of
// `wsim serve`, named in brackets.
type Options struct {
	// Store selects where the state lives [--store]: "memory" (when empty),
	// "sqlite" (file wsim.db in DataDir), "sqlite:/path/file.db", or a
	// "postgres://..." URL whose database may be shared with other servers.
	Store string
	// DataDir is the directory of the "sqlite" store [--data-dir]. When it
	// is empty a temporary directory is used and removed by Close.
	DataDir string
	// Profile names the timing profile of long-running operations
	// [--profile]: "realistic" (about 2.5 h per import), "quick" (the
	// default, 40 s) or "instant" (complete at creation).
	Profile string
	// StageDurations override the duration of single stages, by stage name,
	// in every kind of operation that has the stage [--stage-duration], e.g.
	// {"UPDATING_OPERATING_SYSTEM": 10 * time.Minute}.
	StageDurations map[string]time.Duration
	// ImageQuota and BundleQuota are the images and custom bundles an account
	// may hold per Region [--image-quota, --bundle-quota]; zero means
	// DefaultImageQuota and DefaultBundleQuota.
	ImageQuota  int
	BundleQuota int
	// BYOL is how accounts start [--byol]; empty means BYOLFriendly.
	BYOL BYOLMode
	// DefaultAccount and DefaultRegion are whom unsigned requests act for,
	// and DefaultAccount also access keys that are not 12-digit account ids
	// [--default-account, --default-region]; empty means DefaultAccount and
	// DefaultRegion.
	DefaultAccount string
	DefaultRegion  string
	// Logger receives one line per request and the server's own messages;
	// nil discards them.
	Logger *slog.Logger
}

// appOptions turns o into the options wsim serve would run with.
func (o Options) appOptions() (opts app.Options, tmpDir string, err error) {
	name := o.Profile
	if name == "" {
		name = DefaultProfile
	}
	profile, err := pipeline.LookupProfile(name)
	if err != nil {
		return opts, "", fmt.Errorf("wsimtest: Profile: %w", err)
	}
	for _, stage := range slices.Sorted(maps.Keys(o.StageDurations)) {
		if profile, err = profile.WithOverride(stage, o.StageDurations[stage]); err != nil {
			return opts, "", fmt.Errorf("wsimtest: StageDurations: %w", err)
		}
	}
	byol := app.BYOLFriendly
	if o.BYOL != "" {
		if byol, err = app.ParseBYOLMode(string(o.BYOL)); err != nil {
			return opts, "", fmt.Errorf("wsimtest: BYOL: %w", err)
		}
	}
	if o.ImageQuota < 0 || o.BundleQuota < 0 {
		return opts, "", fmt.Errorf("wsimtest: ImageQuota %d and BundleQuota %d must not be negative", o.ImageQuota, o.BundleQuota)
	}
	spec := o.Store
	if spec == "" {
		spec = DefaultStore
	}
	dataDir := o.DataDir
	if spec == "sqlite" && dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "wsimtest-"); err != nil {
			return opts, "", fmt.Errorf("wsimtest: data directory: %w", err)
		}
		tmpDir = dataDir
	}
	return app.Options{
		Store: spec, DataDir: dataDir, Profile: profile,
		ImageQuota: o.ImageQuota, BundleQuota: o.BundleQuota, BYOL: byol,
		DefaultAccount: o.DefaultAccount, DefaultRegion: o.DefaultRegion,
		Logger: o.Logger,
	}, tmpDir, nil
}

// Server is wsim serving on a loopback port of this process. Its methods are
// safe for concurrent use.
type Server struct {
	app            *app.App
	http           *http.Server
	url            string
	defaultAccount string
	defaultRegion  string
	tmpDir         string
	served         chan struct{} // closed when Serve has returned

	closeOnce sync.Once
	closeErr  error
}

// NewServer starts a server on a free port of 127.0.0.1 configured by o. Close
// it when done, typically with t.Cleanup(func() { srv.Close() }).
func NewServer(o Options) (*Server, error) {
	opts, tmpDir, err := o.appOptions()
	if err != nil {
		return nil, err
	}
	s, err := newServer(context.Background(), opts)
	if err != nil {
		if tmpDir != "" {
			os.RemoveAll(tmpDir)
		}
		return nil, err
	}
	s.tmpDir = tmpDir
	return s, nil
}

func init() {
	wsimtesthook.NewServer = func(ctx context.Context, o app.Options) (any, error) { return newServer(ctx, o) }
}

func newServer(ctx context.Context, opts app.Options) (*Server, error) {
	a, err := app.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("wsimtest: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("wsimtest: %w", err)
	}
	s := &Server{
		app:            a,
		http:           &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute},
		url:            "http://" + ln.Addr().String(),
		defaultAccount: opts.DefaultAccount,
		defaultRegion:  opts.DefaultRegion,
		served:         make(chan struct{}),
	}
	if s.defaultAccount == "" {
		s.defaultAccount = DefaultAccount
	}
	if s.defaultRegion == "" {
		s.defaultRegion = DefaultRegion
	}
	if opts.Logger != nil {
		a.LogStartup(ctx, ln.Addr().String())
	}
	go func() {
		defer close(s.served)
		s.http.Serve(ln)
	}()
	return s, nil
}

// URL is the base URL of the API and of the control plane, such as
// http://127.0.0.1:43121.
func (s *Server) URL() string { return s.url }

// AWSConfig returns an aws-sdk-go-v2 configuration for a client acting as
// account in region: the server as BaseEndpoint, and static credentials whose
// access key id is the account (a 12-digit id; other keys act as the default
// account). An empty account or region means the server's defaults.
//
// So that tests of error handling are fast and deterministic, its retryer
// retries nothing the server answers (no throttling or 5xx retries, no
// backoff, no retry quota) and only retries, at once and up to three attempts
// in all, a connection the client itself broke: aws-sdk-go-v2 can close a
// connection while reading a response that arrived before it had finished
// writing the request, which loopback makes frequent
// (https://github.com/aws/aws-sdk-go-v2/issues/2737). Replace it by setting
// Retryer on the returned config, or on the client's options:
//
//	workspaces.NewFromConfig(cfg, func(o *workspaces.Options) { o.Retryer = retry.NewStandard() })
func (s *Server) AWSConfig(account, region string) aws.Config {
	if account == "" {
		account = s.defaultAccount
	}
	if region == "" {
		region = s.defaultRegion
	}
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(s.url),
		Credentials:  credentials.NewStaticCredentialsProvider(account, "wsimtest", ""),
		Retryer:      newRetryer,
	}
}

func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

// Clock returns the service clock of the server.
func (s *Server) Clock() *Clock { return &Clock{c: s.app.Clock()} }

// Faults returns the server-side fault rules of the server.
func (s *Server) Faults() *Faults { return &Faults{app: s.app} }

// Close stops the server, waiting up to 10 s for requests in flight, then
// closes its store (and removes the temporary data directory of a "sqlite"
// store without DataDir). Later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var errs []error
		if err := s.http.Shutdown(ctx); err != nil {
			s.http.Close()
			errs = append(errs, fmt.Errorf("wsimtest: shut down: %w", err))
		}
		<-s.served
		if err := s.app.Close(); err != nil {
			errs = append(errs, fmt.Errorf("wsimtest: close the store: %w", err))
		}
		if s.tmpDir != "" {
			if err := os.RemoveAll(s.tmpDir); err != nil {
				errs = append(errs, fmt.Errorf("wsimtest: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
