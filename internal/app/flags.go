package app

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/pflag"

	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/server"
	"github.com/wsim/wsim/internal/store"
)

// ServeFlags holds the values of `wsim serve`'s flags.
type ServeFlags struct {
	Addr           string
	Store          string
	DataDir        string
	StoreTimeout   time.Duration
	DefaultAccount string
	DefaultRegion  string
	Profile        string
	StageDurations []string
	ImageQuota     int
	BundleQuota    int
	BYOL           string
	Directories    string
	WorkspaceQuota int
	LogFormat      string
	LogLevel       string
	// AllowedHosts, ControlToken and AllowRemote guard the endpoint
	// (docs/security.md).
	AllowedHosts []string
	ControlToken string
	AllowRemote  bool
	// The HTTP server's limits (docs/security.md, "Limits").
	MaxConnections    int
	MaxRequests       int
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	// Auth is --auth (friendly or sigv4); Credentials --credentials, the
	// file sigv4 checks signatures against (docs/security.md).
	Auth        string
	Credentials string
}

// defaultDataDir is where the embedded store lives unless told otherwise:
// $WSIM_DATA_DIR, else $XDG_DATA_HOME/wsim, else ~/.local/share/wsim.
func defaultDataDir() string {
	if d := os.Getenv("WSIM_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "wsim")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "wsim")
	}
	return ".wsim"
}

// Register defines wsim serve's flags on fs, storing their values in f.
func (f *ServeFlags) Register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Addr, "addr", "127.0.0.1:4599", "address to listen on")
	fs.StringVar(&f.Store, "store", "sqlite", "state store: sqlite (a file in --data-dir), sqlite:/path/file.db, memory, or postgres://...")
	fs.StringVar(&f.DataDir, "data-dir", defaultDataDir(), "directory of the embedded store ($WSIM_DATA_DIR)")
	fs.DurationVar(&f.StoreTimeout, "store-timeout", store.DefaultTimeout, "how long a call to the SQLite or PostgreSQL store may take before the request fails with a retryable 503")
	fs.StringVar(&f.DefaultAccount, "default-account", DefaultAccount, "account of unsigned requests and of access keys that are not 12-digit account ids")
	fs.StringVar(&f.DefaultRegion, "default-region", DefaultRegion, "Region of unsigned requests")
	fs.StringVar(&f.Profile, "profile", pipeline.DefaultProfile, "timing profile of long-running operations: "+strings.Join(pipeline.ProfileNames(), ", "))
	fs.StringArrayVar(&f.StageDurations, "stage-duration", nil, "override one stage's duration, STAGE=DURATION (e.g. UPDATING_OPERATING_SYSTEM=10m); repeatable")
	fs.IntVar(&f.ImageQuota, "image-quota", DefaultImageQuota, "images an account may hold per Region")
	fs.IntVar(&f.BundleQuota, "bundle-quota", DefaultBundleQuota, "custom bundles an account may hold per Region")
	fs.StringVar(&f.BYOL, "byol", string(BYOLFriendly), "how accounts start: friendly (enabled for BYOL, imports work at once) or strict (BYOL imports refused until ModifyAccount has completed)")
	fs.StringVar(&f.Directories, "directories", string(DirectoriesFriendly), "how Directory Service is stood in for: friendly (any well-formed d- id is an existing directory, every user exists) or strict (only directories and users declared through the control API)")
	fs.IntVar(&f.WorkspaceQuota, "workspace-quota", DefaultWorkspaceQuota, "WorkSpaces an account may hold per Region (AWS's default for a new account is 1)")
	fs.StringVar(&f.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringArrayVar(&f.AllowedHosts, "allowed-host", nil, "a Host name wsim answers under besides loopback names and the listen address (e.g. a container's service name); repeatable")
	fs.StringVar(&f.ControlToken, "control-token", "", "token every /_wsim/ and /moto-api/ request must carry (Authorization: Bearer TOKEN; the dashboard: open /_wsim/?token=TOKEN once) ($WSIM_CONTROL_TOKEN)")
	fs.BoolVar(&f.AllowRemote, "allow-remote", false, "listen on a non-loopback address although signatures are not verified (anyone who reaches the port acts as any account)")
	fs.IntVar(&f.MaxConnections, "max-connections", server.DefaultMaxConnections, "connections open at once, lowered to fit the open-file limit; beyond, new ones wait to be accepted (0: no limit)")
	fs.IntVar(&f.MaxRequests, "max-requests", server.DefaultMaxRequests, "requests in flight at once; beyond, the API answers ThrottlingException at once (0: no limit; the health check is exempt)")
	fs.DurationVar(&f.ReadHeaderTimeout, "read-header-timeout", server.DefaultReadHeaderTimeout, "time a client has to send a request's headers before the connection is closed")
	fs.DurationVar(&f.ReadTimeout, "read-timeout", server.DefaultReadTimeout, "time a client has to send a request's body, after its headers (0: no limit)")
	fs.DurationVar(&f.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "time an idle keep-alive connection is kept open")
	fs.StringVar(&f.Auth, "auth", AuthFriendly, "how callers are identified: friendly (the caller is derived from the access key, unchecked) or sigv4 (every SigV4 signature is verified against --credentials, and its principal's policies apply)")
	fs.StringVar(&f.Credentials, "credentials", "", "JSON file of access keys, their principals and policies, for --auth sigv4 (docs/security.md)")
}

// Options turns the flag values into Options, with a logger writing to logs
// (wsim serve's standard error) and a metrics registry that also holds the
// Go runtime's and the process's collectors. Errors name the flag at fault.
func (f *ServeFlags) Options(logs io.Writer) (Options, error) {
	logger, err := newLogger(logs, f.LogFormat, f.LogLevel)
	if err != nil {
		return Options{}, err
	}
	profile, err := pipeline.LookupProfile(f.Profile)
	if err != nil {
		return Options{}, fmt.Errorf("--profile: %w", err)
	}
	if profile, err = pipeline.ParseOverrides(profile, f.StageDurations); err != nil {
		return Options{}, fmt.Errorf("--stage-duration: %w", err)
	}
	if f.StoreTimeout <= 0 {
		return Options{}, fmt.Errorf("--store-timeout must be positive, not %s", f.StoreTimeout)
	}
	byol, err := ParseBYOLMode(f.BYOL)
	if err != nil {
		return Options{}, fmt.Errorf("--byol: %w", err)
	}
	dirs, err := ParseDirectoryMode(f.Directories)
	if err != nil {
		return Options{}, fmt.Errorf("--directories: %w", err)
	}
	if err := f.checkLimits(); err != nil {
		return Options{}, err
	}
	if f.ControlToken == "" {
		f.ControlToken = os.Getenv("WSIM_CONTROL_TOKEN")
	}
	var keys *auth.Keyring
	switch f.Auth {
	case AuthFriendly:
		if f.Credentials != "" {
			return Options{}, fmt.Errorf("--credentials needs --auth sigv4: in the friendly mode nothing is checked against it")
		}
	case AuthSigV4:
		if f.Credentials == "" {
			return Options{}, fmt.Errorf("--auth sigv4 needs --credentials FILE, the access keys signatures are checked against")
		}
		if keys, err = auth.LoadCredentials(f.Credentials); err != nil {
			return Options{}, fmt.Errorf("--credentials: %w", err)
		}
	default:
		return Options{}, fmt.Errorf("--auth must be friendly or sigv4, not %q", f.Auth)
	}
	if err := f.checkRemote(); err != nil {
		return Options{}, err
	}
	for _, h := range f.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/ ,") {
			return Options{}, fmt.Errorf("--allowed-host: %q is not a host name", h)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return Options{
		Store: f.Store, DataDir: f.DataDir, StoreTimeout: f.StoreTimeout, Profile: profile,
		ImageQuota: f.ImageQuota, BundleQuota: f.BundleQuota, BYOL: byol,
		Directories: dirs, WorkspaceQuota: f.WorkspaceQuota,
		DefaultAccount: f.DefaultAccount, DefaultRegion: f.DefaultRegion,
		Logger: logger, Registry: reg,
		ListenAddr: f.Addr, AllowedHosts: f.AllowedHosts, ControlToken: f.ControlToken,
		Credentials: keys,
	}, nil
}

// checkLimits refuses negative limits; a timeout of 0 would mean none, which
// only --read-timeout accepts.
func (f *ServeFlags) checkLimits() error {
	switch {
	case f.MaxConnections < 0:
		return fmt.Errorf("--max-connections must be 0 or more, not %d", f.MaxConnections)
	case f.MaxRequests < 0:
		return fmt.Errorf("--max-requests must be 0 or more, not %d", f.MaxRequests)
	case f.ReadHeaderTimeout <= 0:
		return fmt.Errorf("--read-header-timeout must be positive, not %s", f.ReadHeaderTimeout)
	case f.ReadTimeout < 0:
		return fmt.Errorf("--read-timeout must be 0 or more, not %s", f.ReadTimeout)
	case f.IdleTimeout <= 0:
		return fmt.Errorf("--idle-timeout must be positive, not %s", f.IdleTimeout)
	}
	return nil
}

// signaturesVerified reports whether the flags make wsim verify request
// signatures (--auth sigv4); otherwise the caller is derived from the
// request and never checked.
func (f *ServeFlags) signaturesVerified() bool { return f.Auth == AuthSigV4 }

// checkRemote refuses a listen address other machines can reach while
// signatures are not verified, unless --allow-remote says so.
func (f *ServeFlags) checkRemote() error {
	if f.AllowRemote || f.signaturesVerified() || LoopbackAddr(f.Addr) {
		return nil
	}
	return fmt.Errorf("--addr %s: refusing to listen on a non-loopback address while request signatures are not verified: "+
		"anyone who reaches the port could act as any account and drive the control plane; "+
		"listen on 127.0.0.1, or pass --allow-remote to accept that (in a container, publish the port on the host's loopback only: docker run -p 127.0.0.1:4599:4599)", f.Addr)
}

// LoopbackAddr reports whether the listen address addr (host:port) can be
// reached only from this machine: its host is localhost or a loopback IP.
func LoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseServeArgs parses args as wsim serve's flags (no positional arguments)
// and turns them into Options as Options does.
func ParseServeArgs(args []string, logs io.Writer) (*ServeFlags, Options, error) {
	f := &ServeFlags{}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, Options{}, err
	}
	if fs.NArg() > 0 {
		return nil, Options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o, err := f.Options(logs)
	return f, o, err
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}
