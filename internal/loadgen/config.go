// Package loadgen drives a wsim endpoint with a weighted mix of signed
// WorkSpaces requests and reports throughput, latency percentiles and errors.
//
// It is built to be pointed at a local emulator only: Run refuses any target
// that is not a loopback address before it sends anything, and the dialer
// re-checks every connection, so a typo cannot turn it on a real endpoint.
// Every run is bounded by both a request count and a duration.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Limits on a run. They are generous for an emulator on one machine and keep
// a mistyped flag from running for hours or holding gigabytes of samples.
const (
	MaxRequests    = 10_000_000
	MaxDuration    = 10 * time.Minute
	MaxConcurrency = 1024
	MaxPool        = 100_000
)

// DefaultImportsPerAccount keeps each generated account below the default
// WorkSpaces image quota (40 per account and Region).
const DefaultImportsPerAccount = 30

// Operation names accepted in Config.Mix.
const (
	OpImport         = "import"
	OpDescribeImport = "describe-import"
	OpDescribeImages = "describe-images"
	OpListImages     = "list-images"
	// OpDescribeImage is DescribeWorkspaceImages of one image of the pool
	// by id: the single read a page of list-images is measured against.
	OpDescribeImage = "describe-image"
	// The listings other than images, each a full page from the fixture
	// account (see Config), and a by-id describe of one of its items.
	OpListBundles          = "list-bundles"
	OpDescribeBundle       = "describe-bundle"
	OpListAmazonBundles    = "list-amazon-bundles"
	OpDescribeAmazonBundle = "describe-amazon-bundle"
	OpListDirectories      = "list-directories"
	OpDescribeDirectory    = "describe-directory"
	OpListWorkspaces       = "list-workspaces"
	OpDescribeWorkspace    = "describe-workspace"
	OpListIPGroups         = "list-ip-groups"
	OpDescribeIPGroup      = "describe-ip-group"
)

// ListPage is the page size of the list-* operations: a full page of the
// listing, from an account that holds more than that.
const ListPage = 25

// FixtureSize is how many bundles, directories, WorkSpaces and IP groups
// the fixture account holds for the list-* and describe-* operations: a
// full page and one more, so that every page has a next one.
const FixtureSize = ListPage + 1

// MaxPrefill bounds Config.Prefill.
const MaxPrefill = 1_000_000

// opNames is every operation, in report order.
var opNames = []string{OpDescribeImages, OpDescribeImport, OpImport, OpListImages, OpDescribeImage,
	OpListBundles, OpDescribeBundle, OpListAmazonBundles, OpDescribeAmazonBundle, OpListDirectories, OpDescribeDirectory,
	OpListWorkspaces, OpDescribeWorkspace, OpListIPGroups, OpDescribeIPGroup}

// Operations lists the operations a mix may name, in report order.
func Operations() []string { return slices.Clone(opNames) }

var opTargets = map[string]string{
	OpImport:               "WorkspacesService.ImportCustomWorkspaceImage",
	OpDescribeImport:       "WorkspacesService.DescribeCustomWorkspaceImageImport",
	OpDescribeImages:       "WorkspacesService.DescribeWorkspaceImages",
	OpListImages:           "WorkspacesService.DescribeWorkspaceImages",
	OpDescribeImage:        "WorkspacesService.DescribeWorkspaceImages",
	OpListBundles:          "WorkspacesService.DescribeWorkspaceBundles",
	OpDescribeBundle:       "WorkspacesService.DescribeWorkspaceBundles",
	OpListAmazonBundles:    "WorkspacesService.DescribeWorkspaceBundles",
	OpDescribeAmazonBundle: "WorkspacesService.DescribeWorkspaceBundles",
	OpListDirectories:      "WorkspacesService.DescribeWorkspaceDirectories",
	OpDescribeDirectory:    "WorkspacesService.DescribeWorkspaceDirectories",
	OpListWorkspaces:       "WorkspacesService.DescribeWorkspaces",
	OpDescribeWorkspace:    "WorkspacesService.DescribeWorkspaces",
	OpListIPGroups:         "WorkspacesService.DescribeIpGroups",
	OpDescribeIPGroup:      "WorkspacesService.DescribeIpGroups",
}

// Config describes one load run.
type Config struct {
	// Target is the endpoint URL, e.g. http://127.0.0.1:4599. Its host must
	// be a loopback IP literal or localhost resolving only to loopback.
	Target string
	// Mix maps an operation (OpImport, OpDescribeImport, ...) to its
	// relative weight.
	Mix map[string]int
	// Concurrency is the number of workers, each with one request in flight.
	Concurrency int
	// Requests caps the measured requests (the pool is not counted).
	Requests int
	// Duration caps the whole run, pool creation included.
	Duration time.Duration
	// Region is signed into every credential scope.
	Region string
	// AccountsPrefix starts every generated 12-digit account id (the access
	// key id); a counter fills the remaining digits. Empty picks a random
	// 4-digit prefix, reported in Report.AccountsPrefix.
	AccountsPrefix string
	// ImportsPerAccount is how many images each generated account imports
	// before the next account is used (DefaultImportsPerAccount when 0).
	ImportsPerAccount int
	// Pool is the number of images imported before the measured phase, which
	// describe-import then picks from at random. Used only when the mix
	// contains describe-import.
	Pool int
	// Prefill is a number of images imported, like the measured imports
	// and into the same accounts, before the measured phase: with
	// ImportsPerAccount above it, the measured imports go into an account
	// that already holds Prefill images (the server's image quota must
	// allow them).
	Prefill int
}

// The operations that read the fixture account, and what it must hold for
// each.
var fixtureNeeds = map[string]string{
	OpListBundles: "bundles", OpDescribeBundle: "bundles",
	OpListDirectories: "directories", OpDescribeDirectory: "directories",
	OpListWorkspaces: "workspaces", OpDescribeWorkspace: "workspaces",
	OpListIPGroups: "ip-groups", OpDescribeIPGroup: "ip-groups",
	OpListAmazonBundles: "amazon-bundles", OpDescribeAmazonBundle: "amazon-bundles",
}

// needsFixture reports whether the mix reads the fixture account.
func (c *Config) needsFixture() bool {
	for op := range fixtureNeeds {
		if c.Mix[op] > 0 {
			return true
		}
	}
	return false
}

func (c *Config) normalize() error {
	if c.ImportsPerAccount == 0 {
		c.ImportsPerAccount = DefaultImportsPerAccount
	}
	if c.AccountsPrefix == "" {
		c.AccountsPrefix = fmt.Sprintf("%04d", randUint64()%10_000)
	}
	var errs []error
	if c.Requests <= 0 || c.Requests > MaxRequests {
		errs = append(errs, fmt.Errorf("requests must be between 1 and %d, got %d", MaxRequests, c.Requests))
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("duration must be above 0 and at most %s, got %s", MaxDuration, c.Duration))
	}
	if c.Concurrency <= 0 || c.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("concurrency must be between 1 and %d, got %d", MaxConcurrency, c.Concurrency))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("region is required"))
	}
	if c.ImportsPerAccount < 0 || c.ImportsPerAccount > MaxRequests {
		errs = append(errs, fmt.Errorf("imports per account must be between 1 and %d, got %d", MaxRequests, c.ImportsPerAccount))
	}
	if len(c.AccountsPrefix) > 8 || strings.Trim(c.AccountsPrefix, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("accounts prefix must be at most 8 digits, got %q", c.AccountsPrefix))
	}
	total := 0
	for op, w := range c.Mix {
		if _, ok := opTargets[op]; !ok {
			errs = append(errs, fmt.Errorf("unknown operation %q in mix (want %s)", op, strings.Join(opNames, ", ")))
		}
		if w < 0 {
			errs = append(errs, fmt.Errorf("weight of %q must not be negative", op))
		}
		total += w
	}
	if total <= 0 {
		errs = append(errs, errors.New("mix must give at least one operation a positive weight"))
	}
	if c.Mix[OpDescribeImport] > 0 && (c.Pool <= 0 || c.Pool > MaxPool) {
		errs = append(errs, fmt.Errorf("describe-import needs a pool between 1 and %d, got %d", MaxPool, c.Pool))
	}
	if c.Mix[OpDescribeImage] > 0 && (c.Pool <= 0 || c.Pool > MaxPool) {
		errs = append(errs, fmt.Errorf("describe-image needs a pool between 1 and %d, got %d", MaxPool, c.Pool))
	}
	if c.Prefill < 0 || c.Prefill > MaxPrefill {
		errs = append(errs, fmt.Errorf("prefill must be between 0 and %d, got %d", MaxPrefill, c.Prefill))
	}
	if c.Mix[OpListImages] > 0 && (c.Pool < ListPage || c.Pool > MaxPool || c.ImportsPerAccount < ListPage) {
		errs = append(errs, fmt.Errorf("list-images needs a pool between %d and %d and at least %d imports per account, so that the pool's first account holds a full page; got a pool of %d and %d per account",
			ListPage, MaxPool, ListPage, c.Pool, c.ImportsPerAccount))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Every import may need a fresh account slot; make sure the counter fits.
	imports := int64(c.Requests) + int64(c.Prefill)
	if c.needsPool() {
		imports += int64(c.Pool)
	}
	accounts := (imports + int64(c.ImportsPerAccount) - 1) / int64(c.ImportsPerAccount)
	if c.needsFixture() {
		accounts++ // the last account of the prefix is the fixture's
	}
	if capacity := pow10(12 - len(c.AccountsPrefix)); accounts > capacity {
		return fmt.Errorf("accounts prefix %q leaves room for %d accounts, the run may need %d", c.AccountsPrefix, capacity, accounts)
	}
	return nil
}

// needsPool says whether the mix needs images imported before measuring.
func (c *Config) needsPool() bool {
	return c.Mix[OpDescribeImport] > 0 || c.Mix[OpListImages] > 0 || c.Mix[OpDescribeImage] > 0
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// ErrRefusedTarget is returned, wrapped, for a target that is not loopback.
var ErrRefusedTarget = errors.New("refused target")

// lookupFunc resolves a host name; tests replace net.DefaultResolver.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func defaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckTarget parses target and refuses it unless it is an http(s) URL whose
// host is a loopback IP literal (127.0.0.0/8, ::1) or localhost resolving
// only to loopback addresses. 0.0.0.0 and :: are refused: they mean "any
// address" when listening, and only reach this host by an OS convention
// that is not portable, so they are not an unambiguous local target.
func CheckTarget(ctx context.Context, target string) (*url.URL, error) {
	return checkTarget(ctx, target, defaultLookup)
}

func checkTarget(ctx context.Context, target string, lookup lookupFunc) (*url.URL, error) {
	refuse := func(format string, args ...any) (*url.URL, error) {
		return nil, fmt.Errorf("%w %q: %s", ErrRefusedTarget, target, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(target)
	if err != nil {
		return refuse("%v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("scheme must be http or https")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return refuse("want scheme://host:port only, without user, path or query")
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		if !isLoopback(addr) {
			return refuse("%s is not a loopback address", addr)
		}
		return u, nil
	}
	if !strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return refuse("host must be a loopback IP literal or localhost")
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return refuse("resolving %s: %v", host, err)
	}
	if len(addrs) == 0 {
		return refuse("%s resolves to no address", host)
	}
	for _, a := range addrs {
		if !isLoopback(a) {
			return refuse("%s resolves to %s, which is not loopback", host, a)
		}
	}
	return u, nil
}

func isLoopback(a netip.Addr) bool { return a.Unmap().IsLoopback() }

// loopbackControl runs before every connect and refuses non-loopback peers,
// so a name that resolves differently after CheckTarget still cannot escape.
func loopbackControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse peer %q", ErrRefusedTarget, address)
	}
	if !isLoopback(ap.Addr()) {
		return fmt.Errorf("%w: peer %s is not loopback", ErrRefusedTarget, ap.Addr())
	}
	return nil
}
