package server

// The guard runs before routing, for every request: it answers only the Host
// names wsim serves under (so that a DNS-rebinding page, whose requests carry
// its own domain name, reads nothing), lets control-plane writes through only
// as JSON from no foreign Origin (so that a browser must preflight them, and
// a cross-origin form or text/plain POST never acts), and, when a control
// token is set, lets nothing under /_wsim/ or /moto-api/ through without it.
// docs/security.md, "The control plane's guards", documents all of it.

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/awsjson"
)

// GuardOptions configures the checks of every request.
type GuardOptions struct {
	// ListenAddr is the address wsim listens on (--addr): its host is a Host
	// wsim answers under. An unspecified host (0.0.0.0, ::, "") stands for
	// the addresses of this machine's interfaces.
	ListenAddr string
	// AllowedHosts are further names (--allowed-host) wsim answers under,
	// with any port.
	AllowedHosts []string
	// ControlToken, when not empty, must come with every request under
	// /_wsim/ and /moto-api/ (--control-token).
	ControlToken string
}

// ControlTokenCookie is the cookie that carries the control token for the
// browser dashboard, set by GET /_wsim/?token=TOKEN.
const ControlTokenCookie = "wsim_control_token"

// guard is the middleware of GuardOptions in front of next.
type guard struct {
	next   http.Handler
	logger *slog.Logger
	// hosts are the allowed Host names and IP literals, lower-case, without
	// port; loopback names and addresses are allowed besides.
	hosts map[string]bool
	// tokenSum is the SHA-256 of the control token, nil when none is set:
	// comparing digests takes the same time whatever the token's length.
	tokenSum []byte
}

func newGuard(o GuardOptions, next http.Handler, logger *slog.Logger) *guard {
	g := &guard{next: next, logger: logger, hosts: map[string]bool{}}
	for _, h := range o.AllowedHosts {
		g.hosts[normalHost(h)] = true
	}
	host := o.ListenAddr
	if h, _, err := net.SplitHostPort(o.ListenAddr); err == nil {
		host = h
	}
	if host != "" {
		g.hosts[normalHost(host)] = true
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// Listening on every interface: the machine's own addresses are its
		// names (a rebinding page never sends an IP literal as its Host).
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				g.hosts[n.IP.String()] = true
			}
		}
	}
	if o.ControlToken != "" {
		sum := sha256.Sum256([]byte(o.ControlToken))
		g.tokenSum = sum[:]
	}
	return g
}

// normalHost is h as the guard compares it: lower-case, without a port,
// brackets or a final dot, and IP addresses in their canonical form.
func normalHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}

// allowedHost reports whether wsim answers requests for the Host header h.
func (g *guard) allowedHost(h string) bool {
	n := normalHost(h)
	if n == "" {
		return false
	}
	if n == "localhost" || g.hosts[n] {
		return true
	}
	ip := net.ParseIP(n)
	return ip != nil && ip.IsLoopback()
}

// isControl reports whether path is the control plane's.
func isControl(path string) bool {
	return path == "/_wsim" || strings.HasPrefix(path, "/_wsim/") || path == "/moto-api" || strings.HasPrefix(path, "/moto-api/")
}

// isWrite reports whether a request with method changes something: anything
// but the safe methods.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	control := isControl(r.URL.Path)
	if !g.allowedHost(r.Host) {
		g.refuse(w, r, control, http.StatusMisdirectedRequest, "MisdirectedRequestException",
			fmt.Sprintf("wsim does not answer for Host %q: it answers for localhost, loopback addresses, its listen address and the names given with --allowed-host.", r.Host))
		return
	}
	if !control {
		g.next.ServeHTTP(w, r)
		return
	}
	if g.tokenSum != nil {
		if r.Method == http.MethodGet && r.URL.Path == "/_wsim/" && r.URL.Query().Has("token") {
			g.dashboardLogin(w, r)
			return
		}
		if !g.hasToken(r) && !isHealthCheck(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsim control plane"`)
			g.refuse(w, r, true, http.StatusUnauthorized, "",
				"the control plane needs the control token: send Authorization: Bearer <token> (wsim's CLI sends --control-token or $WSIM_CONTROL_TOKEN), or open the dashboard once at /_wsim/?token=<token>")
			return
		}
	}
	if isWrite(r.Method) {
		if origin, ok := foreignOrigin(r); ok {
			g.refuse(w, r, true, http.StatusForbidden, "",
				fmt.Sprintf("control-plane writes are refused from another origin (%s); only pages served by wsim itself, or clients that send no Origin, may change its state", origin))
			return
		}
		if !jsonContent(r) && !emptyMotoReset(r) {
			g.refuse(w, r, true, http.StatusUnsupportedMediaType, "",
				fmt.Sprintf("control-plane writes must be sent with Content-Type: application/json, not %q", r.Header.Get("Content-Type")))
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

// isHealthCheck reports whether r reads the health check, which needs no
// token: orchestrators and load balancers probe it without credentials, and
// it shows how wsim runs, not what any account holds.
func isHealthCheck(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/_wsim/health"
}

// hasToken reports whether r carries the control token, as a bearer token or
// in the dashboard's cookie.
func (g *guard) hasToken(r *http.Request) bool {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && g.tokenMatches(strings.TrimSpace(tok)) {
		return true
	}
	c, err := r.Cookie(ControlTokenCookie)
	return err == nil && g.tokenMatches(c.Value)
}

func (g *guard) tokenMatches(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], g.tokenSum) == 1
}

// dashboardLogin answers GET /_wsim/?token=...: the right token is kept in
// an HttpOnly, SameSite=Strict cookie for the control plane's paths, and the
// browser sent on to /_wsim/ so that the token leaves the address bar and
// the history.
func (g *guard) dashboardLogin(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if !g.tokenMatches(tok) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsim control plane"`)
		g.refuse(w, r, true, http.StatusUnauthorized, "", "the token given in ?token= is not wsim's control token")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ControlTokenCookie, Value: tok, Path: "/_wsim/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/_wsim/", http.StatusSeeOther)
}

// foreignOrigin returns the origin a browser says r comes from when it is
// not the origin of r's own Host: an Origin header naming another scheme,
// host or port ("null" included), or, without one, a Sec-Fetch-Site that
// says the request is cross-site.
func foreignOrigin(r *http.Request) (string, bool) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			return "Sec-Fetch-Site: " + site, true
		}
		return "", false
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return origin, true
	}
	return origin, u.Scheme != requestScheme(r) || hostPort(u.Host, u.Scheme) != hostPort(r.Host, u.Scheme)
}

func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// hostPort is h (a host with or without a port) in a form where the same
// origin compares equal: lower-case, with the scheme's default port.
func hostPort(h, scheme string) string {
	host, port, err := net.SplitHostPort(strings.ToLower(h))
	if err != nil {
		host, port = strings.ToLower(h), ""
	}
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(normalHost(host), port)
}

// jsonContent reports whether r's body is declared as JSON.
func jsonContent(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// emptyMotoReset reports whether r is moto's own reset: its decorator posts
// /moto-api/reset with no body and no Content-Type. It carries nothing a
// page could forge beyond the reset itself, which the Origin check (and the
// token, when set) keeps to non-browser callers.
func emptyMotoReset(r *http.Request) bool {
	return r.URL.Path == "/moto-api/reset" && r.ContentLength == 0
}

// refuse answers a request the guard stops: API requests as AWS errors,
// control requests as the control plane's {"error": ...}.
func (g *guard) refuse(w http.ResponseWriter, r *http.Request, control bool, status int, code, msg string) {
	g.logger.Warn("request refused", "method", r.Method, "path", r.URL.Path, "host", r.Host,
		"origin", r.Header.Get("Origin"), "status", status, "reason", msg)
	var body []byte
	if control || code == "" {
		body, _ = json.Marshal(map[string]string{"error": msg})
		w.Header().Set("Content-Type", "application/json")
	} else {
		body = awsjson.EncodeError(&api.Error{Code: code, Status: status, Message: msg})
		w.Header()["x-amzn-RequestId"] = []string{newRequestID()}
		w.Header()["X-Amzn-ErrorType"] = []string{code}
		w.Header().Set("Content-Type", awsjson.ContentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
