package e2e_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/smithy-go"

	"github.com/wsim/wsim/e2e/process"
)

// Tests of docs/security.md, "Limits", through the real binary: they are
// about its http.Server and listener, which no in-process test has.

// dialRaw opens a TCP connection to srv, closed when the test ends.
func dialRaw(t *testing.T, srv *process.Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", srv.Port()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stalledUpload starts an API request whose body never arrives: headers
// announcing 1,000 bytes, then 10 of them.
func stalledUpload(t *testing.T, srv *process.Server) net.Conn {
	t.Helper()
	c := dialRaw(t, srv)
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"+
		"X-Amz-Target: WorkspacesService.DescribeWorkspaceImages\r\nContent-Length: 1000\r\n\r\n{\"Owner\": ")
	return c
}

// waitInFlight waits (bounded) until wsim_requests_in_flight is n.
func waitInFlight(t *testing.T, srv *process.Server, n int) {
	t.Helper()
	want := fmt.Sprintf("\nwsim_requests_in_flight %d\n", n)
	var metrics []byte
	for range 500 {
		if _, _, metrics = srv.Do(t, http.MethodGet, "/metrics", nil, nil); strings.Contains(string(metrics), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("wsim_requests_in_flight never reached %d: %s", n, regexp.MustCompile(`(?m)^wsim_requests_in_flight .*$`).Find(metrics))
}

// readResponse reads one response from c, waiting at most wait; a nil
// response with a nil error means the server closed the connection without
// answering.
func readResponse(t *testing.T, c net.Conn, wait time.Duration) (*http.Response, []byte, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return nil, nil, nil
	}
	if err != nil && strings.Contains(err.Error(), "connection reset") {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && strings.Contains(err.Error(), "connection reset") {
		err = nil // the answer came, and then the server hung up
	}
	return resp, body, err
}

// TestLimitsStalledUploads: 50 stalled uploads against a server that keeps
// at most 20 connections are each cut off with RequestTimeoutException
// (a 4xx, in AWS JSON) once --read-timeout has passed, stalled headers are
// closed (net/http answers 400 when some arrived) after
// --read-header-timeout, and the health check and the API
// answer afterwards. The deadlines are real time, so they are short here.
func TestLimitsStalledUploads(t *testing.T) {
	t.Parallel()
	srv := process.Start(t, "--max-connections", "20", "--read-timeout", "500ms", "--read-header-timeout", "500ms")
	const uploads, headers = 50, 5
	conns := make([]net.Conn, uploads)
	for i := range conns {
		conns[i] = stalledUpload(t, srv)
	}
	stalledHeaders := make([]net.Conn, headers)
	for i := range stalledHeaders {
		stalledHeaders[i] = dialRaw(t, srv)
		fmt.Fprintf(stalledHeaders[i], "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Tar")
	}

	var wg sync.WaitGroup
	errs := make(chan error, uploads+headers)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each waits at most for the 50 to be served 20 at a time, with
			// plenty of slack for a loaded machine.
			resp, body, err := readResponse(t, c, 30*time.Second)
			switch {
			case err != nil:
				errs <- fmt.Errorf("upload %d: %v", i, err)
			case resp == nil:
				errs <- fmt.Errorf("upload %d: closed without an answer", i)
			case resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("X-Amzn-ErrorType") != "RequestTimeoutException" ||
				!strings.Contains(string(body), `"__type":"RequestTimeoutException"`):
				errs <- fmt.Errorf("upload %d: %d %v %s, want 408 RequestTimeoutException", i, resp.StatusCode, resp.Header, body)
			}
		}()
	}
	for i, c := range stalledHeaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body, err := readResponse(t, c, 30*time.Second)
			if err != nil || resp != nil && resp.StatusCode != http.StatusBadRequest {
				errs <- fmt.Errorf("stalled headers %d: %v %v %s, want the connection closed, or 400", i, err, resp, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if h, status := srv.Health(t); status != http.StatusOK || h.Status != "ok" {
		t.Errorf("health after the stalled uploads: %d %+v", status, h)
	}
	if _, err := srv.Client(t, accountA, usEast1).DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
		t.Errorf("API after the stalled uploads: %v", err)
	}
}

// TestLimitsRequestsInFlight: with --max-requests 2 and two requests held in
// flight by bodies that have not arrived, a third API request is answered
// at once with ThrottlingException (HTTP 400, x-amzn-ErrorType, AWS JSON),
// which aws-sdk-go-v2 reads as such; the control plane answers 429; the
// health check still answers; once the two are gone the API answers again.
func TestLimitsRequestsInFlight(t *testing.T) {
	t.Parallel()
	srv := process.Start(t, "--max-requests", "2", "--read-timeout", "1m")
	// An upload holds a slot once the server has read its headers, which
	// wsim_requests_in_flight shows (/metrics takes none); the second is
	// sent once the first holds one, so that neither overlaps the other's
	// headers and is throttled in its place.
	var held []net.Conn
	for n := 1; n <= 2; n++ {
		held = append(held, stalledUpload(t, srv))
		waitInFlight(t, srv, n)
	}
	client := srv.Client(t, accountA, usEast1, func(o *workspaces.Options) { o.Retryer = aws.NopRetryer{} })
	_, err := client.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" || apiErr.ErrorMessage() != "Rate exceeded" {
		t.Fatalf("third request: %v, want ThrottlingException: Rate exceeded", err)
	}
	status, hdr, body := srv.Raw(t, "WorkspacesService.DescribeWorkspaceImages", "{}", nil)
	var shape map[string]string
	json.Unmarshal(body, &shape)
	if status != http.StatusBadRequest || hdr.Get("X-Amzn-ErrorType") != "ThrottlingException" || hdr.Get("x-amzn-RequestId") == "" ||
		shape["__type"] != "ThrottlingException" || shape["message"] != "Rate exceeded" {
		t.Errorf("raw third request: %d %v %s", status, hdr, body)
	}
	if status, _, body := srv.Do(t, http.MethodGet, "/_wsim/faults", nil, nil); status != http.StatusTooManyRequests ||
		!strings.Contains(string(body), "--max-requests") {
		t.Errorf("control plane beyond the limit: %d %s, want 429", status, body)
	}
	if h, status := srv.Health(t); status != http.StatusOK || h.Status != "ok" {
		t.Errorf("health beyond the limit: %d %+v", status, h)
	}

	for _, c := range held {
		c.Close()
	}
	for range 500 {
		if _, err = client.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("after the held requests went away: %v", err)
	}
	_, _, metrics := srv.Do(t, http.MethodGet, "/metrics", nil, nil)
	// At least: the requests after the held ones went away may have been
	// throttled too, until the server had seen them go.
	for plane, least := range map[string]float64{"api": 2, "control": 1} {
		m := regexp.MustCompile(`(?m)^wsim_requests_throttled_total\{plane="` + plane + `"\} ([0-9.e+]+)$`).FindSubmatch(metrics)
		var n float64
		if m != nil {
			n, _ = strconv.ParseFloat(string(m[1]), 64)
		}
		if n < least {
			t.Errorf("wsim_requests_throttled_total{plane=%q} = %v (found: %v), want at least %v", plane, n, m != nil, least)
		}
	}
	if !strings.Contains(srv.Logs(), "request throttled") {
		t.Error("no log line for the throttled requests")
	}
}

// TestLimitsFaultRules: POST /_wsim/faults refuses a 101st rule and fields
// beyond their limits with 400 and a message saying which limit.
func TestLimitsFaultRules(t *testing.T) {
	t.Parallel()
	srv := process.Start(t)
	post := func(rule map[string]any) (int, string) {
		b, _ := json.Marshal(rule)
		status, _, body := srv.Do(t, http.MethodPost, "/_wsim/faults", strings.NewReader(string(b)),
			map[string]string{"Content-Type": "application/json"})
		return status, string(body)
	}
	for _, tt := range []struct {
		name string
		rule map[string]any
		want string
	}{
		{"name pattern", map[string]any{"failAt": "PENDING", "namePattern": strings.Repeat("n", 257)}, "namePattern is 257 characters long; the maximum is 256"},
		{"source id", map[string]any{"failAt": "PENDING", "sourceId": strings.Repeat("s", 2049)}, "sourceId is 2049 characters long; the maximum is 2048"},
		{"error code", map[string]any{"failAt": "PENDING", "errorCode": strings.Repeat("c", 257)}, "error code is 257 characters long; the maximum is 256"},
		{"error message", map[string]any{"failAt": "PENDING", "errorMessage": strings.Repeat("m", 2049)}, "error message is 2049 characters long; the maximum is 2048"},
		{"region", map[string]any{"failAt": "PENDING", "region": strings.Repeat("r", 10000)}, "is not a Region name"},
	} {
		if status, body := post(tt.rule); status != http.StatusBadRequest || !strings.Contains(body, tt.want) || len(body) > 1000 {
			t.Errorf("%s: %d %.200s, want 400 saying %q", tt.name, status, body, tt.want)
		}
	}
	for i := range 100 {
		srv.AddFaultRule(t, map[string]any{"failAt": "PENDING", "namePattern": fmt.Sprintf("never-%d", i)})
	}
	if status, body := post(map[string]any{"failAt": "PENDING"}); status != http.StatusBadRequest ||
		!strings.Contains(body, "there are already 100 fault rules, the maximum; delete one first") {
		t.Errorf("rule 101: %d %s", status, body)
	}
	srv.ClearFaultRules(t)
	srv.AddFaultRule(t, map[string]any{"failAt": "PENDING"})
}

// TestLimitsFraming: malformed HTTP framing is the client's mistake and is
// answered with a 4xx, never the plain-text 501 and 505 net/http sends on
// its own; well-formed requests on the same server still get the API's
// answers, its own 5xx included.
func TestLimitsFraming(t *testing.T) {
	t.Parallel()
	srv := process.Start(t)
	api := "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: WorkspacesService.DescribeWorkspaceImages\r\n"
	const (
		any4xx = 0
		// not5xx: net/http takes the request as RFC 9112 allows, or hangs
		// up on it; either way, no 5xx.
		not5xx = -1
	)
	for _, tt := range []struct {
		name, request string
		want          int
	}{
		{"unsupported Transfer-Encoding (net/http: 501)", api + "Transfer-Encoding: gzip\r\n\r\n{}", http.StatusBadRequest},
		{"Transfer-Encoding identity (net/http: 501)", api + "Transfer-Encoding: identity\r\n\r\n{}", http.StatusBadRequest},
		{"HTTP/2.0 request line (net/http: 505)", "GET /_wsim/health HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", http.StatusBadRequest},
		{"HTTP/0.9 request line (net/http: 505)", "GET /_wsim/health HTTP/0.9\r\nHost: 127.0.0.1\r\n\r\n", http.StatusBadRequest},
		{"HTTP/3.0 request line (net/http: 505)", "GET /_wsim/health HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n", http.StatusBadRequest},
		{"malformed version", "GET / HTTP/x.y\r\nHost: 127.0.0.1\r\n\r\n", http.StatusBadRequest},
		{"no request line", "\x00\x01\x02\r\n\r\n", http.StatusBadRequest},
		{"missing Host", "GET /_wsim/health HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		{"two Content-Lengths", api + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", http.StatusBadRequest},
		{"negative Content-Length", api + "Content-Length: -1\r\n\r\n{}", http.StatusBadRequest},
		{"malformed header line", api + "No colon here\r\n\r\n", http.StatusBadRequest},
		{"malformed chunk", api + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", http.StatusBadRequest},
		// Transfer-Encoding wins over Content-Length, as RFC 9112 6.3 allows.
		{"chunked and Content-Length", api + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n", not5xx},
		{"unknown Expect", api + "Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", any4xx},
		// 431, or a reset when net/http hangs up while the client still sends.
		{"headers beyond 1 MB", "GET /_wsim/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + strings.Repeat("a", 1<<20+4096) + "\r\n\r\n", not5xx},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, srv)
			go io.WriteString(c, tt.request) // may block on a large request the server stops reading
			resp, body, err := readResponse(t, c, 10*time.Second)
			switch {
			case err != nil:
				t.Fatal(err)
			case resp == nil && tt.want == not5xx:
			case resp == nil:
				t.Fatal("closed without an answer")
			case tt.want == not5xx && resp.StatusCode >= 500:
				t.Errorf("answered %s: %s; want no 5xx", resp.Status, body)
			case tt.want == any4xx && (resp.StatusCode < 400 || resp.StatusCode > 499):
				t.Errorf("answered %s: %s; want a 4xx", resp.Status, body)
			case tt.want > 0 && resp.StatusCode != tt.want:
				t.Errorf("answered %s: %s; want %d", resp.Status, body, tt.want)
			}
		})
	}

	// wsim's own 501, for an operation it does not implement, is kept.
	status, hdr, body := srv.Raw(t, "WorkspacesService.DescribeWorkspacesPools", "{}", nil)
	if status != http.StatusNotImplemented || hdr.Get("Content-Type") != process.ContentType {
		t.Errorf("an unimplemented operation: %d %v %s, want wsim's 501", status, hdr, body)
	}
}

// TestLimitsOpenFileLimit reproduces the finding on a small scale: wsim run
// with 200 open files at most, and 200 stalled uploads. --max-connections
// (1024 by default) is lowered to fit the open-file limit, with a warning,
// so the uploads never take the descriptors the store and the health check
// need: every upload is cut off, and the health check answers.
func TestLimitsOpenFileLimit(t *testing.T) {
	t.Parallel()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	wsim := process.Command(t, "serve", "--addr", addr, "--store", "sqlite:"+filepath.Join(t.TempDir(), "wsim.db"),
		"--read-timeout", "500ms", "--read-header-timeout", "500ms")
	cmd := exec.Command(prlimit, append([]string{"--nofile=200:200", "--"}, wsim.Args...)...)
	cmd.Args[len(cmd.Args)-len(wsim.Args)] = wsim.Path
	logs := &process.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("wsim output:\n%s", logs)
		}
	})
	srv := process.NewEndpoint("http://" + addr)
	healthy := func() bool {
		resp, err := http.Get(srv.URL + "/_wsim/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for i := 0; !healthy(); i++ {
		if i == 800 {
			t.Fatal("wsim did not become healthy")
		}
		time.Sleep(25 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "--max-connections lowered to fit the open-file limit") ||
		!strings.Contains(logs.String(), "max_connections=136") {
		t.Errorf("no warning that --max-connections was lowered to 136 in:\n%s", logs)
	}

	const uploads = 200
	var wg sync.WaitGroup
	errs := make(chan error, uploads)
	for i := range uploads {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"+
			"X-Amz-Target: WorkspacesService.DescribeWorkspaceImages\r\nContent-Length: 1000\r\n\r\n{", addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body, err := readResponse(t, c, 60*time.Second)
			switch {
			case err != nil:
				errs <- fmt.Errorf("upload %d: %v", i, err)
			case resp != nil && resp.StatusCode >= 500:
				errs <- fmt.Errorf("upload %d: %s %s", i, resp.Status, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !healthy() {
		t.Error("health does not answer after the stalled uploads")
	}
	if strings.Contains(logs.String(), "too many open files") {
		t.Errorf("wsim ran out of files:\n%s", logs)
	}
}
