package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"

	"github.com/wsim/wsim/e2e/process"
)

var jsonHeader = map[string]string{"Content-Type": "application/json"}

// withHeaders is h with more headers (later ones win).
func withHeaders(hs ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, h := range hs {
		for k, v := range h {
			out[k] = v
		}
	}
	return out
}

// TestGuardHost: a Host wsim does not answer for (as a DNS-rebinding page
// sends it: its own name, resolved to 127.0.0.1) is refused on the API, the
// control plane, moto's reset and the metrics, and reads nothing.
func TestGuardHost(t *testing.T) {
	t.Parallel()
	srv := process.Start(t, "--allowed-host", "wsim.test")
	c := srv.Client(t, accountA, usEast1)
	id := importImage(t, c, importInput("rebinding-target"))

	port := srv.Port()
	rebound := map[string]string{"Host": fmt.Sprintf("attacker.example:%d", port)}
	status, hdr, body := srv.Do(t, http.MethodGet, "/_wsim/pipelines", nil, rebound)
	if status != http.StatusMisdirectedRequest || hdr.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(body), `"error":"wsim does not answer for Host \"attacker.example:`) || strings.Contains(string(body), id) {
		t.Errorf("rebinding GET /_wsim/pipelines = %d %s %s, want 421 and a JSON error without the import", status, hdr.Get("Content-Type"), body)
	}
	status, hdr, body = srv.Raw(t, "WorkspacesService.DescribeWorkspaceImages", "{}", rebound)
	wantRawError(t, status, hdr, body, http.StatusMisdirectedRequest, "MisdirectedRequestException", "attacker.example")
	if strings.Contains(string(body), id) {
		t.Errorf("rebinding API read answered the image: %s", body)
	}
	for _, path := range []string{"/metrics", "/_wsim/", "/_wsim/health"} {
		if status, _, body := srv.Do(t, http.MethodGet, path, nil, rebound); status != http.StatusMisdirectedRequest {
			t.Errorf("rebinding GET %s = %d %s, want 421", path, status, body)
		}
	}
	if status, _, body := srv.Do(t, http.MethodPost, "/moto-api/reset", nil, rebound); status != http.StatusMisdirectedRequest {
		t.Errorf("rebinding POST /moto-api/reset = %d %s, want 421", status, body)
	}
	describeImport(t, c, id) // still there

	// The names wsim answers under: loopback, the listen address, --allowed-host.
	for _, host := range []string{"", fmt.Sprintf("localhost:%d", port), fmt.Sprintf("[::1]:%d", port), "127.0.0.2", "wsim.test", fmt.Sprintf("WSIM.test:%d", port)} {
		h := map[string]string{}
		if host != "" {
			h["Host"] = host
		}
		status, _, body := srv.Do(t, http.MethodGet, "/_wsim/pipelines", nil, h)
		if status != http.StatusOK || !strings.Contains(string(body), id) {
			t.Errorf("GET /_wsim/pipelines with Host %q = %d %s, want 200 with %s", host, status, body, id)
		}
		status, hdr, body = srv.Raw(t, "WorkspacesService.DescribeWorkspaceImages", "{}", h)
		if status != http.StatusOK {
			t.Errorf("DescribeWorkspaceImages with Host %q = %d %s %v", host, status, body, hdr)
		}
	}
}

// TestGuardControlWrites: a cross-origin page's text/plain POST of a fault
// rule is refused and changes nothing; control writes are taken as JSON only,
// from the same origin or from clients that send no Origin.
func TestGuardControlWrites(t *testing.T) {
	t.Parallel()
	srv := process.Start(t)
	c := srv.Client(t, accountA, usEast1)
	self := fmt.Sprintf("http://127.0.0.1:%d", srv.Port())
	rule := `{"failAt":"PENDING"}`

	for _, tt := range []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		want    string
	}{
		{"cross-origin text/plain (a form or no-cors fetch)", http.MethodPost, "/_wsim/faults",
			map[string]string{"Content-Type": "text/plain", "Origin": "http://attacker.example"}, rule, http.StatusForbidden, "another origin (http://attacker.example)"},
		{"cross-origin JSON", http.MethodPost, "/_wsim/faults",
			withHeaders(jsonHeader, map[string]string{"Origin": "http://attacker.example"}), rule, http.StatusForbidden, "another origin"},
		{"origin of another port", http.MethodPost, "/_wsim/faults",
			withHeaders(jsonHeader, map[string]string{"Origin": "http://127.0.0.1:1"}), rule, http.StatusForbidden, "another origin"},
		{"sandboxed page (Origin: null)", http.MethodPost, "/_wsim/reset",
			withHeaders(jsonHeader, map[string]string{"Origin": "null"}), "{}", http.StatusForbidden, "another origin (null)"},
		{"text/plain without Origin", http.MethodPost, "/_wsim/faults",
			map[string]string{"Content-Type": "text/plain"}, rule, http.StatusUnsupportedMediaType, `not \"text/plain\"`},
		{"form", http.MethodPost, "/_wsim/clock",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, `{"action":"freeze"}`, http.StatusUnsupportedMediaType, "application/json"},
		{"no Content-Type", http.MethodPost, "/_wsim/reset", nil, "{}", http.StatusUnsupportedMediaType, "application/json"},
		{"cross-origin moto reset", http.MethodPost, "/moto-api/reset",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://attacker.example"}, "", http.StatusForbidden, "another origin"},
	} {
		status, hdr, body := srv.Do(t, tt.method, tt.path, strings.NewReader(tt.body), tt.headers)
		if status != tt.status || hdr.Get("Content-Type") != "application/json" || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %s %s = %d %s, want %d with %q", tt.name, tt.method, tt.path, status, body, tt.status, tt.want)
		}
	}
	// Nothing changed: no rule, the clock running, imports succeed.
	if n := faultRuleCount(t, srv); n != 0 {
		t.Errorf("%d fault rules after refused writes", n)
	}
	if clk := srv.Clock(t); clk.Frozen {
		t.Error("the clock froze from a refused write")
	}
	id := importImage(t, c, importInput("after-refusals"))
	if out := describeImport(t, c, id); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("import after refused writes: %s, want COMPLETED", out.State)
	}

	// The same rule as JSON from wsim's own origin (its dashboard) is taken.
	status, _, body := srv.Do(t, http.MethodPost, "/_wsim/faults", strings.NewReader(rule),
		withHeaders(jsonHeader, map[string]string{"Origin": self, "Sec-Fetch-Site": "same-origin"}))
	if status != http.StatusCreated {
		t.Fatalf("same-origin JSON POST /_wsim/faults = %d %s, want 201", status, body)
	}
	failed := importImage(t, c, importInput("failed-by-rule"))
	if out := describeImport(t, c, failed); out.State != types.CustomWorkspaceImageImportStateError {
		t.Errorf("import with the rule: %s, want ERROR", out.State)
	}
	// A DELETE must be JSON too; then it removes the rule.
	if status, _, body := srv.Do(t, http.MethodDelete, "/_wsim/faults", nil, nil); status != http.StatusUnsupportedMediaType {
		t.Errorf("DELETE /_wsim/faults without Content-Type = %d %s, want 415", status, body)
	}
	if n := faultRuleCount(t, srv); n != 1 {
		t.Errorf("%d rules after a refused DELETE, want 1", n)
	}
	srv.ClearFaultRules(t)

	// moto's decorator posts /moto-api/reset bodiless, with no Content-Type.
	if status, _, body := srv.Do(t, http.MethodPost, "/moto-api/reset", nil, nil); status != http.StatusOK {
		t.Errorf("bodiless POST /moto-api/reset = %d %s, want 200", status, body)
	}
	if _, err := c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: &id}); err == nil {
		t.Errorf("%s survived the moto reset", id)
	}
	if status, _, body := srv.Do(t, http.MethodPost, "/moto-api/reset", strings.NewReader("x=1"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); status != http.StatusUnsupportedMediaType {
		t.Errorf("form POST /moto-api/reset with a body = %d %s, want 415", status, body)
	}
}

// faultRuleCount is how many fault rules GET /_wsim/faults lists.
func faultRuleCount(t *testing.T, srv *process.Server) int {
	t.Helper()
	status, _, body := srv.Do(t, http.MethodGet, "/_wsim/faults", nil, nil)
	var out struct{ Rules []json.RawMessage }
	if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil {
		t.Fatalf("GET /_wsim/faults = %d %s", status, body)
	}
	return len(out.Rules)
}

// TestGuardControlToken: with --control-token, the control plane, the
// dashboard, its event stream, moto's reset and pprof want the token, the
// operator CLI sends it from --control-token or $WSIM_CONTROL_TOKEN, and the
// API and the health check are as before.
func TestGuardControlToken(t *testing.T) {
	t.Parallel()
	const token = "tok-9f2c1d7e"
	srv := process.Start(t, "--control-token", token)
	bearer := map[string]string{"Authorization": "Bearer " + token}

	for _, tt := range []struct {
		method, path string
		headers      map[string]string
	}{
		{http.MethodGet, "/_wsim/pipelines", nil},
		{http.MethodGet, "/_wsim/", nil},
		{http.MethodGet, "/_wsim/events", nil},
		{http.MethodGet, "/_wsim/debug/pprof/heap", nil},
		{http.MethodGet, "/_wsim/clock", map[string]string{"Authorization": "Bearer " + token + "x"}},
		{http.MethodGet, "/_wsim/clock", map[string]string{"Authorization": "Bearer tok"}},
		{http.MethodPost, "/_wsim/clock", jsonHeader},
		{http.MethodPost, "/moto-api/reset", nil},
	} {
		status, hdr, body := srv.Do(t, tt.method, tt.path, strings.NewReader(`{"action":"freeze"}`), tt.headers)
		if status != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" || !strings.Contains(string(body), "needs the control token") {
			t.Errorf("%s %s without the token = %d %s, want 401", tt.method, tt.path, status, body)
		}
	}
	// With the token: the control plane answers, and nothing changed.
	status, _, body := srv.Do(t, http.MethodGet, "/_wsim/clock", nil, bearer)
	if status != http.StatusOK || strings.Contains(string(body), `"frozen":true`) {
		t.Errorf("GET /_wsim/clock with the token = %d %s, want 200, running", status, body)
	}
	if status, _, body := srv.Do(t, http.MethodPost, "/_wsim/clock", strings.NewReader(`{"action":"freeze"}`), withHeaders(jsonHeader, bearer)); status != http.StatusOK {
		t.Errorf("POST /_wsim/clock with the token = %d %s", status, body)
	}
	// The API and the health check need no token.
	if _, err := srv.Client(t, accountA, usEast1).DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
		t.Errorf("API with a control token set: %v", err)
	}
	if status, _, body := srv.Do(t, http.MethodGet, "/_wsim/health", nil, nil); status != http.StatusOK {
		t.Errorf("GET /_wsim/health without the token = %d %s", status, body)
	}

	// The operator CLI: refused without the token, working with it.
	cli := func(env []string, args ...string) (string, error) {
		cmd := process.Command(t, append(args, "--endpoint", srv.URL)...)
		cmd.Env = append(os.Environ(), "WSIM_CONTROL_TOKEN=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := cli(nil, "clock", "show")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out, "401") {
		t.Errorf("wsim clock show without the token: %v %s, want a failure naming 401", err, out)
	}
	if out, err := cli(nil, "clock", "show", "--control-token", token); err != nil || !strings.Contains(out, "frozen") {
		t.Errorf("wsim clock show --control-token: %v %s", err, out)
	}
	if out, err := cli([]string{"WSIM_CONTROL_TOKEN=" + token}, "clock", "resume"); err != nil {
		t.Errorf("wsim clock resume with $WSIM_CONTROL_TOKEN: %v %s", err, out)
	}
	if out, err := cli([]string{"WSIM_CONTROL_TOKEN=" + token}, "reset"); err != nil {
		t.Errorf("wsim reset with $WSIM_CONTROL_TOKEN: %v %s", err, out)
	}
	if status, _, body := srv.Do(t, http.MethodGet, "/_wsim/clock", nil, bearer); status != http.StatusOK || strings.Contains(string(body), `"frozen":true`) {
		t.Errorf("after wsim clock resume: %d %s, want running", status, body)
	}

	// The browser dashboard: ?token= once sets a cookie and leaves the
	// address; the page and its event stream then work with the cookie.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(srv.URL + "/_wsim/?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "wsim_control_token" {
			cookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/_wsim/" || cookie == nil ||
		!cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("GET /_wsim/?token= = %d, Location %q, cookie %+v; want 303 to /_wsim/ with an HttpOnly SameSite=Strict cookie",
			resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	withCookie := map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}
	if status, hdr, body := srv.Do(t, http.MethodGet, "/_wsim/", nil, withCookie); status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Errorf("dashboard with the cookie = %d %s %.200s", status, hdr.Get("Content-Type"), body)
	}
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, srv.URL+"/_wsim/events", nil)
	req.AddCookie(cookie)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("event stream with the cookie = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if status, _, body := srv.Do(t, http.MethodGet, "/_wsim/?token=wrong", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("GET /_wsim/?token=wrong = %d %s, want 401", status, body)
	}
}

// TestGuardRemoteListen: with signatures not verified, wsim refuses a listen
// address other machines reach unless --allow-remote says so; then it
// answers under this machine's own addresses.
func TestGuardRemoteListen(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		out, err := process.Command(t, "serve", "--store", "memory", "--addr", addr).CombinedOutput()
		var exit *exec.ExitError
		want := "wsim: --addr " + addr + ": refusing to listen on a non-loopback address while request signatures are not verified"
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "--allow-remote") {
			t.Errorf("wsim serve --addr %s: %v, output %q; want exit status 1 and %q", addr, err, out, want)
		}
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on every interface: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := process.Start(t, "--addr", fmt.Sprintf("0.0.0.0:%d", port), "--allow-remote")
	if _, err := srv.Client(t, accountA, usEast1).DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
		t.Errorf("API on 0.0.0.0 with --allow-remote: %v", err)
	}
	// Reached through one of this machine's other addresses, with it as Host.
	if ip := nonLoopbackIP(); ip != "" {
		e := process.NewEndpoint(fmt.Sprintf("http://%s", net.JoinHostPort(ip, fmt.Sprint(port))))
		defer e.CloseIdleConnections()
		if status, _, body := e.Do(t, http.MethodGet, "/_wsim/health", nil, nil); status != http.StatusOK {
			t.Errorf("GET http://%s/_wsim/health = %d %s", net.JoinHostPort(ip, fmt.Sprint(port)), status, body)
		}
		if status, _, body := e.Do(t, http.MethodGet, "/_wsim/health", nil, map[string]string{"Host": "attacker.example"}); status != http.StatusMisdirectedRequest {
			t.Errorf("GET /_wsim/health, Host attacker.example = %d %s, want 421", status, body)
		}
	}
}

// nonLoopbackIP is one of this machine's IPv4 addresses that is not a
// loopback one, "" when it has none.
func nonLoopbackIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// TestGuardPprof: every named profile answers its own content, and the
// durations are bounded.
func TestGuardPprof(t *testing.T) {
	t.Parallel()
	srv := process.Start(t)
	const base = "/_wsim/debug/pprof/"
	status, hdr, body := srv.Do(t, http.MethodGet, base, nil, nil)
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "Types of profiles available") {
		t.Errorf("GET %s = %d %s %.200s, want the index", base, status, hdr.Get("Content-Type"), body)
	}
	for _, name := range []string{"heap", "goroutine", "allocs", "block", "mutex", "threadcreate", "profile?seconds=1", "trace?seconds=0.2"} {
		status, hdr, body := srv.Do(t, http.MethodGet, base+name, nil, nil)
		file, _, _ := strings.Cut(name, "?")
		if status != http.StatusOK || hdr.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="%s"`, file) || len(body) == 0 {
			t.Errorf("GET %s%s = %d, Content-Disposition %q, %d bytes; want %s itself", base, name, status, hdr.Get("Content-Disposition"), len(body), file)
			continue
		}
		switch file {
		case "trace":
			if !bytes.HasPrefix(body, []byte("go 1.")) {
				t.Errorf("trace starts %q, want an execution trace", body[:min(16, len(body))])
			}
		default: // profiles are gzipped protocol buffers
			if !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
				t.Errorf("%s starts %q, want a gzipped profile", name, body[:min(16, len(body))])
			}
		}
	}
	// In text, each says what it is.
	for name, want := range map[string]string{
		"heap": "heap profile:", "goroutine": "goroutine profile: total", "allocs": "heap profile:",
		"threadcreate": "threadcreate profile: total", "block": "--- contention:", "mutex": "--- mutex:",
	} {
		if status, _, body := srv.Do(t, http.MethodGet, base+name+"?debug=1", nil, nil); status != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s%s?debug=1 = %d %.200s, want %q", base, name, status, body, want)
		}
	}
	if status, _, body := srv.Do(t, http.MethodGet, base+"cmdline", nil, nil); status != http.StatusOK || !strings.Contains(string(body), "serve\x00") {
		t.Errorf("GET %scmdline = %d %q, want wsim's command line", base, status, body)
	}
	if status, _, body := srv.Do(t, http.MethodGet, base+"symbol", nil, nil); status != http.StatusOK || !strings.HasPrefix(string(body), "num_symbols:") {
		t.Errorf("GET %ssymbol = %d %q, want num_symbols", base, status, body)
	}
	if status, _, body := srv.Do(t, http.MethodGet, base+"nosuch", nil, nil); status != http.StatusNotFound {
		t.Errorf("GET %snosuch = %d %s, want 404", base, status, body)
	}
	for _, q := range []string{"profile?seconds=31", "profile?seconds=3600", "profile?seconds=0", "profile?seconds=-1", "profile?seconds=1.5",
		"profile?seconds=abc", "trace?seconds=30.5", "trace?seconds=0", "heap?seconds=31", "goroutine?seconds=999999"} {
		status, hdr, body := srv.Do(t, http.MethodGet, base+q, nil, nil)
		var e struct{ Error string }
		json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || hdr.Get("Content-Type") != "application/json" || !strings.Contains(e.Error, "at most 30 seconds") {
			t.Errorf("GET %s%s = %d %s, want 400 naming the bound", base, q, status, body)
		}
	}
}
