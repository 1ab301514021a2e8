package loadgen

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckTarget(t *testing.T) {
	loop := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
	}
	mixed := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3")}, nil
	}
	failing := func(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("no such host") }
	empty := func(context.Context, string) ([]netip.Addr, error) { return nil, nil }
	mustNotResolve := func(_ context.Context, h string) ([]netip.Addr, error) {
		t.Errorf("resolved %q; only localhost may be resolved", h)
		return nil, errors.New("unexpected lookup")
	}
	tests := []struct {
		target string
		lookup lookupFunc
		ok     bool
	}{
		{"http://127.0.0.1:4599", mustNotResolve, true},
		{"http://127.0.0.1:4599/", mustNotResolve, true},
		{"http://127.8.9.10:80", mustNotResolve, true},
		{"http://[::1]:4599", mustNotResolve, true},
		{"http://[::ffff:127.0.0.1]:4599", mustNotResolve, true},
		{"https://127.0.0.1:4599", mustNotResolve, true},
		{"http://localhost:4599", loop, true},
		{"http://LOCALHOST.:4599", loop, true},
		{"http://localhost:4599", mixed, false},
		{"http://localhost:4599", failing, false},
		{"http://localhost:4599", empty, false},
		{"http://10.0.0.1:4599", mustNotResolve, false},
		{"http://192.168.1.1", mustNotResolve, false},
		{"http://169.254.169.254/", mustNotResolve, false},
		{"http://[fe80::1]:4599", mustNotResolve, false},
		{"http://example.com", mustNotResolve, false},
		{"http://workspaces.us-east-1.amazonaws.com", mustNotResolve, false},
		{"http://localhost.example.com", mustNotResolve, false},
		// 0.0.0.0 and :: are "any address"; reaching this host through them
		// is an OS convention, so they are refused.
		{"http://0.0.0.0:4599", mustNotResolve, false},
		{"http://[::]:4599", mustNotResolve, false},
		{"http://127.1:4599", mustNotResolve, false},
		{"http://2130706433:4599", mustNotResolve, false},
		{"ftp://127.0.0.1", mustNotResolve, false},
		{"127.0.0.1:4599", mustNotResolve, false},
		{"http://user:pw@127.0.0.1:4599", mustNotResolve, false},
		{"http://127.0.0.1:4599/other", mustNotResolve, false},
		{"http://127.0.0.1:4599/?x=1", mustNotResolve, false},
		{"", mustNotResolve, false},
	}
	for _, tt := range tests {
		_, err := checkTarget(context.Background(), tt.target, tt.lookup)
		if (err == nil) != tt.ok {
			t.Errorf("checkTarget(%q) = %v, want ok=%v", tt.target, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrRefusedTarget) {
			t.Errorf("checkTarget(%q) error %v is not ErrRefusedTarget", tt.target, err)
		}
	}
}

func TestRunRefusesBeforeSending(t *testing.T) {
	for _, target := range []string{"http://10.0.0.1:4599", "http://example.com", "http://0.0.0.0:4599"} {
		_, err := Run(context.Background(), Config{Target: target, Mix: map[string]int{OpDescribeImages: 1},
			Concurrency: 1, Requests: 1, Duration: time.Second, Region: "us-east-1"})
		if !errors.Is(err, ErrRefusedTarget) {
			t.Errorf("Run(%q) error = %v, want ErrRefusedTarget", target, err)
		}
	}
}

func TestLoopbackControl(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "10.0.0.1:1": false, "[fe80::1]:1": false, "0.0.0.0:1": false} {
		if err := loopbackControl("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("loopbackControl(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestConfigLimits(t *testing.T) {
	valid := func() Config {
		return Config{Target: "http://127.0.0.1:1", Mix: map[string]int{OpImport: 1}, Concurrency: 1, Requests: 1,
			Duration: time.Second, Region: "us-east-1", AccountsPrefix: "42"}
	}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no requests", func(c *Config) { c.Requests = 0 }},
		{"too many requests", func(c *Config) { c.Requests = MaxRequests + 1 }},
		{"no duration", func(c *Config) { c.Duration = 0 }},
		{"too long", func(c *Config) { c.Duration = MaxDuration + time.Second }},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }},
		{"too much concurrency", func(c *Config) { c.Concurrency = MaxConcurrency + 1 }},
		{"no region", func(c *Config) { c.Region = "" }},
		{"unknown op", func(c *Config) { c.Mix = map[string]int{"noop": 1} }},
		{"zero weights", func(c *Config) { c.Mix = map[string]int{OpImport: 0} }},
		{"describe-import without pool", func(c *Config) { c.Mix = map[string]int{OpDescribeImport: 1} }},
		{"prefix not digits", func(c *Config) { c.AccountsPrefix = "12a" }},
		{"prefix leaves too few accounts", func(c *Config) {
			c.AccountsPrefix, c.ImportsPerAccount, c.Requests = "12345678", 1, 10_001
		}},
	}
	c := valid()
	if err := c.normalize(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tt := range tests {
		c := valid()
		tt.edit(&c)
		if err := c.normalize(); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestSigning(t *testing.T) {
	c := newClient(Config{Target: "http://127.0.0.1:4599/", Region: "eu-west-2", Concurrency: 1})
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	body := []byte(`{"ImageId":"wsi-123456789"}`)
	req, err := c.newRequest(context.Background(), OpDescribeImport, "123456789012", body, now)
	if err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	re := regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)
	m := re.FindStringSubmatch(auth)
	if m == nil {
		t.Fatalf("Authorization = %q, not a SigV4 header", auth)
	}
	if want := "123456789012/20250304/eu-west-2/workspaces/aws4_request"; m[1] != want {
		t.Errorf("credential = %q, want %q", m[1], want)
	}
	for _, h := range []string{"content-type", "host", "x-amz-date", "x-amz-target"} {
		if !strings.Contains(";"+m[2]+";", ";"+h+";") {
			t.Errorf("SignedHeaders %q lacks %s", m[2], h)
		}
	}
	if got := req.Header.Get("X-Amz-Target"); got != "WorkspacesService.DescribeCustomWorkspaceImageImport" {
		t.Errorf("X-Amz-Target = %q", got)
	}
	if got := req.Header.Get("X-Amz-Date"); got != "20250304T050607Z" {
		t.Errorf("X-Amz-Date = %q", got)
	}
	// The signature covers the payload: another body signs differently.
	other, err := c.newRequest(context.Background(), OpDescribeImport, "123456789012", []byte(`{}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if other.Header.Get("Authorization") == auth {
		t.Error("different payloads produced the same signature")
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	one2hundred := make([]int, 100)
	for i := range one2hundred {
		one2hundred[i] = i + 1
	}
	tests := []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2), 51, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 91, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 100, 10 * time.Millisecond},
		{ms(one2hundred...), 50, 50 * time.Millisecond},
		{ms(one2hundred...), 90, 90 * time.Millisecond},
		{ms(one2hundred...), 99, 99 * time.Millisecond},
		{ms(one2hundred...), 99.9, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.samples, tt.p); got != tt.want {
			t.Errorf("percentile(%d samples, %v) = %v, want %v", len(tt.samples), tt.p, got, tt.want)
		}
	}
}

func TestSummarizeSortedMatchesConcatenation(t *testing.T) {
	a := []time.Duration{1, 4, 4, 9, 20, 21}
	b := []time.Duration{2, 3, 50}
	c := []time.Duration{}
	d := []time.Duration{5, 6, 7, 8, 10, 11, 12, 13, 100}
	var all []time.Duration
	for _, l := range [][]time.Duration{a, b, c, d} {
		all = append(all, l...)
	}
	want := summarize(all)
	got := summarizeSorted([][]time.Duration{a, b, c, d})
	if got != want {
		t.Errorf("summarizeSorted = %+v, want %+v", got, want)
	}
	if want.Min != 1 || want.Max != 100 || want.P50 != 8 || want.P90 != 50 || want.P99 != 100 {
		t.Errorf("summarize = %+v", want)
	}
}

// fakeWsim answers imports, describes and the listings like wsim and
// records who called.
type fakeWsim struct {
	mu       sync.Mutex
	byTarget map[string]int
	imports  map[string]int // account → imports
	names    map[string]bool
	ids      map[string]string // image id → owner account
	n        int
	// pages counts DescribeWorkspaceImages with MaxResults, by the number
	// of images the calling account held when it asked.
	pages map[int]int
	// held lists, for every import in arrival order, how many images its
	// account held before it.
	held []int
	// items holds each account's bundles, directories, WorkSpaces and IP
	// groups by kind (as fixtureNeeds names them), in creation order.
	items map[string]map[string][]string
	// lists counts listings, fullPages those answered with a full page and
	// a NextToken, hits the by-id describes that named an item of the
	// caller, misses those that named none; by kind.
	lists, fullPages, hits, misses map[string]int
	// workspaceQuota bounds each account's WorkSpaces (0: none).
	workspaceQuota int
}

func newFakeWsim() *fakeWsim {
	return &fakeWsim{byTarget: map[string]int{}, imports: map[string]int{}, names: map[string]bool{}, ids: map[string]string{}, pages: map[int]int{},
		items: map[string]map[string][]string{}, lists: map[string]int{}, fullPages: map[string]int{}, hits: map[string]int{}, misses: map[string]int{}}
}

// publicBundles are the fake's Amazon bundles: fewer than a page, as AWS's.
var publicBundles = []string{"wsb-public01", "wsb-public02", "wsb-public03"}

var credentialRE = regexp.MustCompile(`Credential=([0-9]{12})/[0-9]{8}/([a-z0-9-]+)/workspaces/aws4_request`)

func (f *fakeWsim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	target := r.Header.Get("X-Amz-Target")
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	fail := func(status int, typ, msg string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
	}
	if m == nil || m[2] != "us-west-2" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		fail(400, "IncompleteSignatureException", "bad request")
		return
	}
	account := m[1]
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byTarget[target]++
	var in struct {
		ImageName, ImageId, Owner, DirectoryId, BundleId, GroupName, BundleName string
		MaxResults, Limit                                                       int
		ImageIds, BundleIds, DirectoryIds, WorkspaceIds, GroupIds               []string
		Workspaces                                                              []struct{ DirectoryId, UserName, BundleId string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fail(400, "SerializationException", err.Error())
		return
	}
	mine := f.items[account]
	if mine == nil {
		mine = map[string][]string{}
		f.items[account] = mine
	}
	add := func(kind, prefix string) string {
		id := fmt.Sprintf("%s%09d", prefix, len(mine[kind]))
		mine[kind] = append(mine[kind], id)
		return id
	}
	// list answers a listing or a by-id describe of kind under member.
	list := func(kind, member string, have, byID []string) {
		var page []string
		next := ""
		if byID != nil {
			for _, id := range byID {
				if slices.Contains(have, id) {
					f.hits[kind]++
					page = append(page, id)
				} else {
					f.misses[kind]++
				}
			}
		} else {
			f.lists[kind]++
			page = have[:min(len(have), ListPage)]
			if len(have) > ListPage {
				next = "more"
				f.fullPages[kind]++
			}
		}
		items := []string{}
		for _, id := range page {
			member := map[string]string{"bundles": "BundleId", "amazon-bundles": "BundleId", "directories": "DirectoryId", "workspaces": "WorkspaceId", "ip-groups": "groupId"}[kind]
			state := map[string]string{"directories": "REGISTERED", "workspaces": "PENDING"}[kind]
			items = append(items, fmt.Sprintf(`{%q:%q,"State":%q}`, member, id, cmp.Or(state, "AVAILABLE")))
		}
		fmt.Fprintf(w, `{%q:[%s],"NextToken":%q}`, member, strings.Join(items, ","), next)
	}
	switch target {
	case "WorkspacesService.ImportCustomWorkspaceImage":
		if f.names[account+"/"+in.ImageName] {
			fail(400, "ResourceAlreadyExistsException", "name taken")
			return
		}
		f.names[account+"/"+in.ImageName] = true
		f.held = append(f.held, f.imports[account])
		f.imports[account]++
		f.n++
		id := fmt.Sprintf("wsi-%09d", f.n)
		f.ids[id] = account
		fmt.Fprintf(w, `{"ImageId":%q,"State":"PENDING"}`, id)
	case "WorkspacesService.DescribeCustomWorkspaceImageImport":
		if f.ids[in.ImageId] != account {
			fail(400, "ResourceNotFoundException", "no such import")
			return
		}
		fmt.Fprintf(w, `{"ImageId":%q,"State":"PENDING"}`, in.ImageId)
	case "WorkspacesService.DescribeWorkspaceImages":
		if in.ImageIds != nil {
			var imgs []string
			for _, id := range in.ImageIds {
				if f.ids[id] == account {
					f.hits["images"]++
					imgs = append(imgs, fmt.Sprintf(`{"ImageId":%q,"State":"AVAILABLE"}`, id))
				} else {
					f.misses["images"]++
				}
			}
			fmt.Fprintf(w, `{"Images":[%s]}`, strings.Join(imgs, ","))
			return
		}
		if in.MaxResults > 0 {
			f.pages[min(in.MaxResults, f.imports[account])]++
		}
		fmt.Fprint(w, `{"Images":[]}`)
	case "WorkspacesService.DescribeWorkspaceBundles":
		switch {
		case in.Owner == "AMAZON":
			list("amazon-bundles", "Bundles", publicBundles, nil)
		case in.BundleIds != nil && strings.HasPrefix(in.BundleIds[0], "wsb-public"):
			list("amazon-bundles", "Bundles", publicBundles, in.BundleIds)
		default:
			list("bundles", "Bundles", mine["bundles"], in.BundleIds)
		}
	case "WorkspacesService.CreateWorkspaceBundle":
		if f.ids[in.ImageId] != account {
			fail(400, "ResourceNotFoundException", "no such image")
			return
		}
		fmt.Fprintf(w, `{"WorkspaceBundle":{"BundleId":%q}}`, add("bundles", "wsb-"))
	case "WorkspacesService.DescribeWorkspaceDirectories":
		list("directories", "Directories", mine["directories"], in.DirectoryIds)
	case "WorkspacesService.RegisterWorkspaceDirectory":
		mine["directories"] = append(mine["directories"], in.DirectoryId)
		fmt.Fprintf(w, `{"DirectoryId":%q,"State":"REGISTERING"}`, in.DirectoryId)
	case "WorkspacesService.DescribeWorkspaces":
		list("workspaces", "Workspaces", mine["workspaces"], in.WorkspaceIds)
	case "WorkspacesService.CreateWorkspaces":
		var failed []string
		for _, req := range in.Workspaces {
			switch {
			case f.workspaceQuota > 0 && len(mine["workspaces"]) >= f.workspaceQuota:
				failed = append(failed, `{"ErrorCode":"ResourceLimitExceeded","ErrorMessage":"quota"}`)
			case !slices.Contains(mine["directories"], req.DirectoryId) || !slices.Contains(publicBundles, req.BundleId):
				failed = append(failed, `{"ErrorCode":"ResourceNotFound.Directory","ErrorMessage":"no such directory or bundle"}`)
			default:
				add("workspaces", "ws-")
			}
		}
		fmt.Fprintf(w, `{"FailedRequests":[%s],"PendingRequests":[]}`, strings.Join(failed, ","))
	case "WorkspacesService.DescribeIpGroups":
		list("ip-groups", "Result", mine["ip-groups"], in.GroupIds)
	case "WorkspacesService.CreateIpGroup":
		fmt.Fprintf(w, `{"GroupId":%q}`, add("ip-groups", "wsipg-"))
	default:
		fail(400, "UnknownOperationException", target)
	}
}

func TestRunRequestCap(t *testing.T) {
	fake := newFakeWsim()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := Config{
		Target:            srv.URL,
		Mix:               map[string]int{OpDescribeImport: 6, OpImport: 3, OpDescribeImages: 1},
		Concurrency:       8,
		Requests:          1003,
		Duration:          time.Minute,
		Region:            "us-west-2",
		AccountsPrefix:    "9999",
		ImportsPerAccount: 7,
		Pool:              25,
	}
	rep, err := Run(bounded(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Stopped != StoppedRequests {
		t.Errorf("Stopped = %q, want %q", rep.Stopped, StoppedRequests)
	}
	if rep.Total.Requests != cfg.Requests || rep.Total.OK != cfg.Requests || rep.Total.Failed != 0 || rep.Aborted != 0 {
		t.Errorf("total = %+v, aborted %d; want exactly %d ok", rep.Total, rep.Aborted, cfg.Requests)
	}
	if rep.Setup == nil || rep.Setup.OK != cfg.Pool || rep.Setup.Requests != cfg.Pool {
		t.Errorf("setup = %+v, want %d ok", rep.Setup, cfg.Pool)
	}
	got := map[string]int{}
	sum := 0
	for _, s := range rep.Ops {
		got[s.Op] = s.Requests
		sum += s.Requests
		if s.Requests > 0 && (s.Latency.Min <= 0 || s.Latency.P50 > s.Latency.P99 || s.Latency.P99 > s.Latency.Max) {
			t.Errorf("%s latency %+v is not ordered", s.Op, s.Latency)
		}
	}
	if sum != cfg.Requests {
		t.Errorf("ops sum to %d, want %d", sum, cfg.Requests)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if n := fake.byTarget["WorkspacesService.ImportCustomWorkspaceImage"]; n != cfg.Pool+got[OpImport] {
		t.Errorf("server saw %d imports, want pool %d + %d", n, cfg.Pool, got[OpImport])
	}
	if n := fake.byTarget["WorkspacesService.DescribeCustomWorkspaceImageImport"]; n != got[OpDescribeImport] {
		t.Errorf("server saw %d describe-imports, report says %d", n, got[OpDescribeImport])
	}
	if n := fake.byTarget["WorkspacesService.DescribeWorkspaceImages"]; n != got[OpDescribeImages] {
		t.Errorf("server saw %d describe-images, report says %d", n, got[OpDescribeImages])
	}
	for account, n := range fake.imports {
		if !strings.HasPrefix(account, "9999") || n > cfg.ImportsPerAccount {
			t.Errorf("account %s imported %d images (prefix 9999, at most %d)", account, n, cfg.ImportsPerAccount)
		}
	}
	// The JSON form carries the same numbers.
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Total struct {
			Requests int `json:"requests"`
			Latency  struct {
				P99 float64 `json:"p99_ms"`
			} `json:"latency"`
		} `json:"total"`
		Wall float64 `json:"wall_seconds"`
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Total.Requests != cfg.Requests || back.Total.Latency.P99 <= 0 || back.Wall <= 0 {
		t.Errorf("JSON report = %s", raw)
	}
}

// TestRunListImages: list-images asks for full pages of
// DescribeWorkspaceImages from the pool's first account, which holds one;
// a pool or an account too small for a page is refused.
func TestRunListImages(t *testing.T) {
	fake := newFakeWsim()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := Config{Target: srv.URL, Mix: map[string]int{OpListImages: 1}, Concurrency: 4, Requests: 200,
		Duration: time.Minute, Region: "us-west-2", AccountsPrefix: "9999", ImportsPerAccount: 30, Pool: 60}
	rep, err := Run(bounded(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.OK != cfg.Requests || rep.Setup == nil || rep.Setup.OK != cfg.Pool {
		t.Fatalf("report: total %+v, setup %+v", rep.Total, rep.Setup)
	}
	fake.mu.Lock()
	if fake.pages[ListPage] != cfg.Requests || len(fake.pages) != 1 {
		t.Errorf("pages by images held = %v, want all %d full pages of %d", fake.pages, cfg.Requests, ListPage)
	}
	fake.mu.Unlock()
	for _, bad := range []Config{
		{Pool: ListPage - 1, ImportsPerAccount: 30},
		{Pool: 100, ImportsPerAccount: ListPage - 1},
	} {
		c := cfg
		c.Pool, c.ImportsPerAccount = bad.Pool, bad.ImportsPerAccount
		if _, err := Run(bounded(t), c); err == nil || !strings.Contains(err.Error(), "list-images needs") {
			t.Errorf("pool %d, %d per account: %v, want refused", c.Pool, c.ImportsPerAccount, err)
		}
	}
}

// TestRunListings: each list-* operation asks for a full page, with a
// next one, from the fixture account, and each describe-* one names an
// item of it (describe-image one of the pool's images); the fixture is
// made once and reused by the next run.
func TestRunListings(t *testing.T) {
	tests := []struct {
		op, kind string
		pool     int
	}{
		{OpDescribeImage, "images", 10},
		{OpListBundles, "bundles", 0},
		{OpDescribeBundle, "bundles", 0},
		{OpListDirectories, "directories", 0},
		{OpDescribeDirectory, "directories", 0},
		{OpListWorkspaces, "workspaces", 0},
		{OpDescribeWorkspace, "workspaces", 0},
		{OpListIPGroups, "ip-groups", 0},
		{OpDescribeIPGroup, "ip-groups", 0},
		{OpListAmazonBundles, "amazon-bundles", 0},
		{OpDescribeAmazonBundle, "amazon-bundles", 0},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			fake := newFakeWsim()
			srv := httptest.NewServer(fake)
			defer srv.Close()
			cfg := Config{Target: srv.URL, Mix: map[string]int{tt.op: 1}, Concurrency: 4, Requests: 100,
				Duration: time.Minute, Region: "us-west-2", AccountsPrefix: "9999", Pool: tt.pool}
			for run := range 2 {
				rep, err := Run(bounded(t), cfg)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if rep.Total.OK != cfg.Requests {
					t.Fatalf("run %d: total %+v", run, rep.Total)
				}
				if (rep.Fixture != nil) != (tt.pool == 0) || rep.Fixture != nil && rep.Fixture.Failed > 0 {
					t.Errorf("run %d: fixture %+v", run, rep.Fixture)
				}
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			measured := 2 * cfg.Requests
			switch {
			case tt.op == OpListAmazonBundles:
				// All of them, fewer than a page, as AWS has.
				if n := fake.lists[tt.kind]; n < measured || n > measured+2 {
					t.Errorf("%d lists of %s, want %d", n, tt.kind, measured)
				}
			case strings.HasPrefix(tt.op, "list-"):
				// The fixture lists each kind it reads: at most twice a run.
				if n := fake.fullPages[tt.kind]; n < measured || n > measured+4 {
					t.Errorf("%d full pages of %s, want %d", n, tt.kind, measured)
				}
			case fake.hits[tt.kind] != measured || fake.misses[tt.kind] != 0:
				t.Errorf("by-id describes of %s: %d hits, %d misses; want %d hits", tt.kind, fake.hits[tt.kind], fake.misses[tt.kind], measured)
			}
			if tt.pool == 0 {
				// The first run made the fixture, the second reused it.
				for account, kinds := range fake.items {
					if account != "999999999999" && len(kinds) > 0 {
						t.Errorf("account %s holds %v; only the fixture account should", account, kinds)
					}
				}
				if n := len(fake.items["999999999999"][tt.kind]); tt.kind != "amazon-bundles" && n != FixtureSize {
					t.Errorf("the fixture account holds %d %s, want %d", n, tt.kind, FixtureSize)
				}
			}
		})
	}
}

// TestFixtureRefusals: a fixture the server cannot make fails the run
// before anything is measured, saying why.
func TestFixtureRefusals(t *testing.T) {
	fake := newFakeWsim()
	fake.workspaceQuota = 1
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := Config{Target: srv.URL, Mix: map[string]int{OpListWorkspaces: 1}, Concurrency: 2, Requests: 10,
		Duration: time.Minute, Region: "us-west-2", AccountsPrefix: "9999"}
	rep, err := Run(bounded(t), cfg)
	if err == nil || !strings.Contains(err.Error(), "--workspace-quota 26") {
		t.Errorf("error = %v, want the WorkSpaces quota named", err)
	}
	if rep.Fixture == nil || rep.Total.Requests != 0 || fake.byTarget["WorkspacesService.DescribeWorkspaces"] != 1 {
		t.Errorf("fixture %+v, measured %d, listings %d", rep.Fixture, rep.Total.Requests, fake.byTarget["WorkspacesService.DescribeWorkspaces"])
	}
	// The fixture's account slot is kept free of imports.
	c := Config{Target: srv.URL, Mix: map[string]int{OpImport: 1, OpListIPGroups: 1}, Concurrency: 1, Requests: 10_000,
		Duration: time.Minute, Region: "us-west-2", AccountsPrefix: "99999999", ImportsPerAccount: 1}
	if err := c.normalize(); err == nil {
		t.Error("10,000 imports and the fixture fit in 10,000 accounts")
	}
	c.Requests = 9_999
	if err := c.normalize(); err != nil {
		t.Error(err)
	}
}

// TestRunPrefill: --prefill imports into the accounts the measured imports
// go to, so that with room for them all in one account every measured
// import lands in an account already holding the prefill.
func TestRunPrefill(t *testing.T) {
	fake := newFakeWsim()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := Config{Target: srv.URL, Mix: map[string]int{OpImport: 1}, Concurrency: 4, Requests: 50,
		Duration: time.Minute, Region: "us-west-2", AccountsPrefix: "9999", ImportsPerAccount: 1000, Prefill: 300}
	rep, err := Run(bounded(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Prefill == nil || rep.Prefill.OK != cfg.Prefill || rep.Total.OK != cfg.Requests {
		t.Fatalf("prefill %+v, total %+v", rep.Prefill, rep.Total)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.imports) != 1 || len(fake.held) != cfg.Prefill+cfg.Requests {
		t.Fatalf("imports by account %v, %d in all", fake.imports, len(fake.held))
	}
	for i, held := range fake.held[cfg.Prefill:] {
		if held < cfg.Prefill {
			t.Fatalf("measured import %d went into an account holding %d, want at least %d", i, held, cfg.Prefill)
		}
	}
	for _, bad := range []int{-1, MaxPrefill + 1} {
		c := cfg
		c.Prefill = bad
		if err := c.normalize(); err == nil {
			t.Errorf("prefill %d accepted", bad)
		}
	}
}

// TestWait: the fixture polls until done, and gives up when the run's time
// is up, saying how to avoid the wait.
func TestWait(t *testing.T) {
	defer func(d time.Duration) { pollInterval = d }(pollInterval)
	pollInterval = 0
	calls := 0
	err := wait(context.Background(), "x", func() (bool, error) { calls++; return calls == 3, nil })
	if err != nil || calls != 3 {
		t.Errorf("wait = %v after %d checks, want nil after 3", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pollInterval = time.Hour
	if err := wait(ctx, "x", func() (bool, error) { return false, nil }); err == nil || !strings.Contains(err.Error(), "--profile instant") {
		t.Errorf("wait on an ended run = %v", err)
	}
	boom := errors.New("boom")
	if err := wait(context.Background(), "x", func() (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("wait = %v, want the check's error", err)
	}
}

func TestRunDurationCap(t *testing.T) {
	// The handler never answers, so the run can only end by its duration cap.
	var seen atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		// Draining the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := Config{Target: srv.URL, Mix: map[string]int{OpDescribeImages: 1}, Concurrency: 4,
		Requests: MaxRequests, Duration: 50 * time.Millisecond, Region: "us-west-2"}
	rep, err := Run(bounded(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != StoppedDuration {
		t.Errorf("Stopped = %q, want %q", rep.Stopped, StoppedDuration)
	}
	// A worker the scheduler starts only after the deadline sends nothing,
	// so up to Concurrency requests are aborted, never more.
	if rep.Total.Requests != 0 || rep.Aborted > cfg.Concurrency || rep.Aborted < int(seen.Load()) {
		t.Errorf("completed %d, aborted %d (server saw %d); want 0 completed and at most %d aborted", rep.Total.Requests, rep.Aborted, seen.Load(), cfg.Concurrency)
	}
	if n := seen.Load(); n > int64(cfg.Concurrency) {
		t.Errorf("server saw %d requests, more than the %d workers", n, cfg.Concurrency)
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		cancel()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	rep, err := Run(ctx, Config{Target: srv.URL, Mix: map[string]int{OpDescribeImages: 1}, Concurrency: 1,
		Requests: 10, Duration: time.Minute, Region: "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != StoppedCanceled || rep.Total.Requests != 0 || rep.Aborted != 1 {
		t.Errorf("Stopped %q, completed %d, aborted %d", rep.Stopped, rep.Total.Requests, rep.Aborted)
	}
}

func TestRunErrorAccounting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("x-amzn-RequestId", "r-1")
		if r.Header.Get("X-Amz-Target") == "WorkspacesService.ImportCustomWorkspaceImage" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"__type":"com.amazonaws.workspaces#ResourceLimitExceededException","message":"quota"}`)
			return
		}
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"ValidationException","message":"bad input"}`)
	}))
	defer srv.Close()
	cfg := Config{Target: srv.URL, Mix: map[string]int{OpImport: 1, OpDescribeImages: 1}, Concurrency: 3,
		Requests: 200, Duration: time.Minute, Region: "us-west-2"}
	rep, err := Run(bounded(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Total.Requests != 200 || rep.Total.OK != 0 || rep.Total.Failed != 200 {
		t.Fatalf("total = %+v", rep.Total)
	}
	want := map[string]ErrorCount{
		OpImport:         {Status: 400, Type: "ResourceLimitExceededException", Example: "quota"},
		OpDescribeImages: {Status: 400, Type: "ValidationException", Example: "bad input"},
	}
	for _, s := range rep.Ops {
		w := want[s.Op]
		w.Count = s.Requests
		if len(s.Errors) != 1 || s.Errors[0] != w {
			t.Errorf("%s errors = %+v, want [%+v]", s.Op, s.Errors, w)
		}
	}
	if len(rep.Total.Errors) != 2 {
		t.Errorf("total errors = %+v, want two kinds", rep.Total.Errors)
	}
	if !strings.Contains(rep.String(), "ResourceLimitExceededException") {
		t.Error("String() does not list the error type")
	}

	// A pool that cannot be built is an error, reported with its cause.
	cfg.Mix, cfg.Pool = map[string]int{OpDescribeImport: 1}, 5
	rep, err = Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "ResourceLimitExceededException") {
		t.Errorf("pool error = %v", err)
	}
	if rep.Setup == nil || rep.Setup.Failed != 5 {
		t.Errorf("setup = %+v", rep.Setup)
	}
}

func TestBaseline(t *testing.T) {
	rep, err := Baseline(context.Background(), Config{Mix: map[string]int{OpDescribeImport: 1, OpImport: 1},
		Concurrency: 4, Requests: 300, Duration: time.Minute, Region: "us-west-2", Pool: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Baseline || rep.Total.OK != 300 || rep.Setup != nil || !strings.HasPrefix(rep.Target, "http://127.0.0.1:") {
		t.Errorf("baseline report = %+v", rep)
	}
}

// bounded is a context that ends a hung run long before the test binary's
// own timeout, so a hang fails one test with a clear message.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
