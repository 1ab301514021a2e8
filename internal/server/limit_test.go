package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestLimitRequests: beyond MaxRequests in flight, a request is answered at
// once, as the API or the control plane answers; the health check and the
// event streams are never counted.
func TestLimitRequests(t *testing.T) {
	reg := prometheus.NewRegistry()
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	h := LimitRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusOK)
	}), RequestLimits{MaxRequests: 2, Registry: reg})
	done := make(chan struct{})
	for range 2 {
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/hold", nil))
			done <- struct{}{}
		}()
	}
	<-entered
	<-entered
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
		wantType   string
	}{
		{"/", http.StatusBadRequest, `{"__type":"ThrottlingException","message":"Rate exceeded"}`, "ThrottlingException"},
		{"/_wsim/faults", http.StatusTooManyRequests, `{"error":"wsim has 2 requests in flight, its limit (--max-requests); retry"}`, ""},
		{"/moto-api/reset", http.StatusTooManyRequests, `"error"`, ""},
		{"/_wsim/health", http.StatusOK, "", ""},
		{"/_wsim/events", http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("{}")))
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) ||
				strings.Join(w.Header()["X-Amzn-ErrorType"], ",") != tt.wantType {
				t.Errorf("%s: %d %v %s, want %d %q", tt.path, w.Code, w.Header(), w.Body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus != http.StatusOK && w.Header().Get("Retry-After") != "1" {
				t.Errorf("%s: no Retry-After", tt.path)
			}
		})
	}
	for plane, want := range map[string]float64{"api": 1, "control": 2} {
		if got := testutil.ToFloat64(h.(*limitedHandler).throttled.WithLabelValues(plane)); got != want {
			t.Errorf("wsim_requests_throttled_total{plane=%q} = %v, want %v", plane, got, want)
		}
	}
	close(release)
	<-done
	<-done
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", nil))
	if w.Code != http.StatusOK {
		t.Errorf("after the held requests: %d", w.Code)
	}
}

// serveRaw serves h on a loopback listener wrapped as wsim serve wraps it and
// returns a function sending one raw request and returning the status line.
func serveRaw(t *testing.T, h http.Handler, maxConns int) func(request string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(FramingListener(LimitListener(ln, maxConns)))
	t.Cleanup(func() { srv.Close() })
	return func(request string) string {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, request)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line)
	}
}

func TestFramingListener(t *testing.T) {
	send := serveRaw(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A handler's own 5xx in plain text, as close as a handler gets to
		// net/http's error answers: kept.
		if r.URL.Path == "/fail" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusNotImplemented)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}), 0)
	tests := []struct{ name, request, want string }{
		{"well formed", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK"},
		{"handler's 501", "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 501 Not Implemented"},
		{"Transfer-Encoding gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"HTTP/0.9", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"malformed version", "GET / HTTP/one\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := send(tt.request); got != tt.want {
				t.Errorf("status line %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLimitListener: with one connection allowed, a second is accepted only
// once the first has closed.
func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := LimitListener(ln, 1)
	defer ll.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ll.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first := <-accepted
	if slots := ll.(*limitListener).slots; len(slots) != cap(slots) {
		t.Fatalf("%d of %d slots taken with a connection open", len(slots), cap(slots))
	}
	if len(accepted) != 0 {
		t.Fatal("a second connection was accepted while the first was open")
	}
	first.Close()
	first.Close() // closing twice frees one slot only
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the second connection was not accepted after the first closed")
	}
	ll.Close()
	if _, ok := <-accepted; ok {
		t.Error("Accept after Close returned a connection")
	}
}

func TestFitConnections(t *testing.T) {
	tests := []struct {
		max    int
		nofile uint64
		want   int
	}{
		{1024, 0, 1024},       // limit unknown
		{1024, 1 << 20, 1024}, // fits
		{1024, 1024, 960},     // the finding's machine: 1,024 files
		{1024, 1088, 1024},    // exactly fits with the reserve
		{1024, 10, 1},         // hardly any files: still serve one
		{0, 1024, 0},          // no limit asked for
	}
	for _, tt := range tests {
		if got := fitConnections(tt.max, tt.nofile); got != tt.want {
			t.Errorf("fitConnections(%d, %d) = %d, want %d", tt.max, tt.nofile, got, tt.want)
		}
	}
}
