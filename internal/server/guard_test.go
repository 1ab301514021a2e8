package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/server"
)

// TestGuard checks, request by request, what the guard lets through to the
// API and the control plane and what it answers instead.
func TestGuard(t *testing.T) {
	const token = "s3cret-token"
	type req struct {
		method, url, host string
		header            map[string]string
		body              string
	}
	for _, tt := range []struct {
		name  string
		guard server.GuardOptions
		req   req
		// status is what the client gets: 200 when the request reached
		// the control plane or the API's fake answer.
		status int
		// want is a fragment of the refusal's body ("" when passed).
		want string
	}{
		{"loopback IPv4 with port", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "127.0.0.1:4599", nil, ""}, 200, ""},
		{"other loopback IPv4", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "127.8.9.10", nil, ""}, 200, ""},
		{"loopback IPv6", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "[::1]:4599", nil, ""}, 200, ""},
		{"localhost any case", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "LocalHost:1", nil, ""}, 200, ""},
		{"localhost with final dot", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "localhost.:1", nil, ""}, 200, ""},
		{"rebinding name on control", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "attacker.example:4599", nil, ""}, 421, `"error":"wsim does not answer for Host \"attacker.example:4599\"`},
		{"rebinding name on API", server.GuardOptions{}, req{"POST", "/", "attacker.example", map[string]string{"X-Amz-Target": "WorkspacesService.DescribeWorkspaceImages"}, "{}"}, 421, `"__type":"MisdirectedRequestException"`},
		{"rebinding name on metrics", server.GuardOptions{}, req{"GET", "/metrics", "attacker.example", nil, ""}, 421, "MisdirectedRequestException"},
		{"rebinding name on moto", server.GuardOptions{}, req{"POST", "/moto-api/reset", "attacker.example", nil, ""}, 421, `"error"`},
		{"localhost lookalike", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "localhost.attacker.example", nil, ""}, 421, "does not answer"},
		{"no Host", server.GuardOptions{}, req{"GET", "/_wsim/pipelines", "", nil, ""}, 421, "does not answer"},
		{"listen address", server.GuardOptions{ListenAddr: "10.1.2.3:4599"}, req{"GET", "/_wsim/pipelines", "10.1.2.3:4599", nil, ""}, 200, ""},
		{"listen name", server.GuardOptions{ListenAddr: "wsim.internal:4599"}, req{"GET", "/_wsim/pipelines", "WSIM.internal:80", nil, ""}, 200, ""},
		{"another address than the listen one", server.GuardOptions{ListenAddr: "10.1.2.3:4599"}, req{"GET", "/_wsim/pipelines", "10.1.2.4:4599", nil, ""}, 421, "does not answer"},
		{"allowed host", server.GuardOptions{AllowedHosts: []string{"wsim"}}, req{"POST", "/", "wsim:4599", map[string]string{"X-Amz-Target": "WorkspacesService.DescribeWorkspaceImages"}, "{}"}, 200, ""},
		{"allowed host given with a port", server.GuardOptions{AllowedHosts: []string{"wsim:4599"}}, req{"GET", "/_wsim/clock", "wsim:1234", nil, ""}, 200, ""},
		{"not an allowed host", server.GuardOptions{AllowedHosts: []string{"wsim"}}, req{"GET", "/_wsim/clock", "wsim2", nil, ""}, 421, "does not answer"},

		{"JSON write", server.GuardOptions{}, req{"POST", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json"}, "{}"}, 200, ""},
		{"JSON write with charset", server.GuardOptions{}, req{"POST", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json; charset=utf-8"}, "{}"}, 200, ""},
		{"text/plain write", server.GuardOptions{}, req{"POST", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "text/plain"}, `{"failAt":"PENDING"}`}, 415, `must be sent with Content-Type: application/json, not \"text/plain\"`},
		{"form write", server.GuardOptions{}, req{"POST", "/_wsim/reset", "127.0.0.1:4599", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "a=b"}, 415, "Content-Type"},
		{"write without Content-Type", server.GuardOptions{}, req{"POST", "/_wsim/clock", "127.0.0.1:4599", nil, `{"action":"freeze"}`}, 415, "Content-Type"},
		{"DELETE without Content-Type", server.GuardOptions{}, req{"DELETE", "/_wsim/faults", "127.0.0.1:4599", nil, ""}, 415, "Content-Type"},
		{"DELETE as JSON", server.GuardOptions{}, req{"DELETE", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json"}, ""}, 200, ""},
		{"read without Content-Type", server.GuardOptions{}, req{"GET", "/_wsim/faults", "127.0.0.1:4599", nil, ""}, 200, ""},
		{"API write is not the guard's", server.GuardOptions{}, req{"POST", "/", "127.0.0.1:4599", map[string]string{"Content-Type": "text/plain", "X-Amz-Target": "WorkspacesService.DescribeWorkspaceImages"}, "{}"}, 200, ""},
		{"moto reset without body", server.GuardOptions{}, req{"POST", "/moto-api/reset", "127.0.0.1:4599", nil, ""}, 200, ""},
		{"moto reset as an empty form", server.GuardOptions{}, req{"POST", "/moto-api/reset", "127.0.0.1:4599", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, ""}, 200, ""},
		{"moto reset with a text body", server.GuardOptions{}, req{"POST", "/moto-api/reset", "127.0.0.1:4599", map[string]string{"Content-Type": "text/plain"}, "x"}, 415, "Content-Type"},
		{"moto reset from a foreign origin", server.GuardOptions{}, req{"POST", "/moto-api/reset", "127.0.0.1:4599", map[string]string{"Origin": "https://attacker.example"}, ""}, 403, "another origin (https://attacker.example)"},

		{"same origin", server.GuardOptions{}, req{"POST", "/_wsim/clock", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:4599"}, "{}"}, 200, ""},
		{"same origin, default port", server.GuardOptions{}, req{"POST", "/_wsim/clock", "localhost", map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:80"}, "{}"}, 200, ""},
		{"foreign origin", server.GuardOptions{}, req{"POST", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json", "Origin": "https://attacker.example"}, "{}"}, 403, "another origin"},
		{"other port is another origin", server.GuardOptions{}, req{"POST", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:8080"}, "{}"}, 403, "another origin"},
		{"other scheme is another origin", server.GuardOptions{}, req{"POST", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json", "Origin": "https://127.0.0.1:4599"}, "{}"}, 403, "another origin"},
		{"null origin", server.GuardOptions{}, req{"POST", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json", "Origin": "null"}, "{}"}, 403, "another origin (null)"},
		{"cross-site fetch without Origin", server.GuardOptions{}, req{"DELETE", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, ""}, 403, "another origin"},
		{"same-origin fetch", server.GuardOptions{}, req{"DELETE", "/_wsim/faults", "127.0.0.1:4599", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}, ""}, 200, ""},
		{"foreign origin may read", server.GuardOptions{}, req{"GET", "/_wsim/health", "127.0.0.1:4599", map[string]string{"Origin": "https://attacker.example"}, ""}, 200, ""},

		{"token: none sent", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/pipelines", "127.0.0.1:4599", nil, ""}, 401, "needs the control token"},
		{"token: wrong", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/pipelines", "127.0.0.1:4599", map[string]string{"Authorization": "Bearer s3cret-tokeN"}, ""}, 401, "needs the control token"},
		{"token: a prefix", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/pipelines", "127.0.0.1:4599", map[string]string{"Authorization": "Bearer s3cret"}, ""}, 401, "needs the control token"},
		{"token: not bearer", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/pipelines", "127.0.0.1:4599", map[string]string{"Authorization": token}, ""}, 401, "needs the control token"},
		{"token: bearer", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/pipelines", "127.0.0.1:4599", map[string]string{"Authorization": "Bearer " + token}, ""}, 200, ""},
		{"token: cookie", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/events", "127.0.0.1:4599", map[string]string{"Cookie": server.ControlTokenCookie + "=" + token}, ""}, 200, ""},
		{"token: wrong cookie", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/", "127.0.0.1:4599", map[string]string{"Cookie": server.ControlTokenCookie + "=x"}, ""}, 401, "needs the control token"},
		{"token: moto reset", server.GuardOptions{ControlToken: token}, req{"POST", "/moto-api/reset", "127.0.0.1:4599", nil, ""}, 401, "needs the control token"},
		{"token: pprof", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/debug/pprof/heap", "127.0.0.1:4599", nil, ""}, 401, "needs the control token"},
		{"token: wrong ?token=", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/?token=nope", "127.0.0.1:4599", nil, ""}, 401, "not wsim's control token"},
		{"token: the API needs none", server.GuardOptions{ControlToken: token}, req{"POST", "/", "127.0.0.1:4599", map[string]string{"X-Amz-Target": "WorkspacesService.DescribeWorkspaceImages"}, "{}"}, 200, ""},
		{"token: health needs none", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/health", "127.0.0.1:4599", nil, ""}, 200, ""},
		{"token: health on a foreign Host", server.GuardOptions{ControlToken: token}, req{"GET", "/_wsim/health", "attacker.example", nil, ""}, 421, "does not answer"},
		{"unspecified listen address itself", server.GuardOptions{ListenAddr: "0.0.0.0:4599"}, req{"GET", "/_wsim/health", "0.0.0.0:4599", nil, ""}, 200, ""},
		{"unspecified listen address, a name", server.GuardOptions{ListenAddr: ":4599"}, req{"GET", "/_wsim/health", "attacker.example:4599", nil, ""}, 421, "does not answer"},
		{"token: metrics need none", server.GuardOptions{ControlToken: token}, req{"GET", "/metrics", "127.0.0.1:4599", nil, ""}, 200, ""},
		{"token: and still JSON", server.GuardOptions{ControlToken: token}, req{"POST", "/_wsim/clock", "127.0.0.1:4599", map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, "{}"}, 415, "Content-Type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.guard
			srv := newGuarded(&g)
			r := httptest.NewRequest(tt.req.method, tt.req.url, strings.NewReader(tt.req.body))
			r.Host = tt.req.host
			for k, v := range tt.req.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("%s %s (Host %q) = %d %s, want %d", tt.req.method, tt.req.url, tt.req.host, w.Code, w.Body, tt.status)
			}
			if tt.want != "" && !strings.Contains(w.Body.String(), tt.want) {
				t.Errorf("body = %s, want it to contain %s", w.Body, tt.want)
			}
			if tt.want == "" && strings.HasPrefix(tt.req.url, "/_wsim/") && !strings.HasPrefix(w.Body.String(), "passed ") {
				t.Errorf("body = %s, want the request passed on", w.Body)
			}
			if tt.status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// newGuarded is an edge behind the guard g whose control plane and API
// answer "passed ..." when a request reaches them.
func newGuarded(g *server.GuardOptions) *server.Server {
	passed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("passed " + r.Method + " " + r.URL.Path))
	})
	reg := api.NewRegistry()
	api.Handle(reg, api.OpDescribeWorkspaceImages, func(_ context.Context, _ *api.DescribeWorkspaceImagesInput) (*api.DescribeWorkspaceImagesOutput, error) {
		return &api.DescribeWorkspaceImagesOutput{}, nil
	})
	return server.New(server.Options{API: reg, Control: passed, Guard: g, Registry: prometheus.NewRegistry()})
}

// TestGuardDashboardLogin: the right ?token= is kept in an HttpOnly,
// SameSite=Strict cookie and the browser sent on without it in the address.
func TestGuardDashboardLogin(t *testing.T) {
	srv := newGuarded(&server.GuardOptions{ControlToken: "tok"})
	r := httptest.NewRequest("GET", "/_wsim/?token=tok", nil)
	r.Host = "localhost:4599"
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/_wsim/" {
		t.Fatalf("GET /_wsim/?token= = %d, Location %q; want 303 to /_wsim/", w.Code, w.Header().Get("Location"))
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v", cookies)
	}
	c := cookies[0]
	if c.Name != server.ControlTokenCookie || c.Value != "tok" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/_wsim/" {
		t.Errorf("cookie = %+v, want %s=tok, HttpOnly, SameSite=Strict, Path=/_wsim/", c, server.ControlTokenCookie)
	}
}
