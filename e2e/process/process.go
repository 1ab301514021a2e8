// Package process starts the real wsim binary for the end-to-end tests that
// only a process can show (its flags and start-up output, signals, SIGKILL and
// restarts, replicas sharing one PostgreSQL, a store outage) and gives them
// what they need around it: an aws-sdk-go-v2 WorkSpaces client bound to an
// account and Region, the control plane (service clock, fault rules) and raw
// HTTP access for protocol tests, all in Endpoint. The other end-to-end tests
// run wsim inside the test process through package wsimtest and reach it
// through an Endpoint too, so that both kinds of test call the same methods.
//
// The binary is $WSIM_BIN when set, else ./cmd/wsim built once per test
// process. Every server is stopped when its test ends, and its output is
// printed when the test failed.
package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ContentType is the media type of every AWS JSON 1.1 request and response.
const ContentType = "application/x-amz-json-1.1"

// TargetPrefix precedes the operation name in X-Amz-Target.
const TargetPrefix = "WorkspacesService."

// DefaultAccount and DefaultRegion are whom wsim serves unsigned requests as
// (its --default-account and --default-region defaults), so Raw calls without
// an Authorization header act for them.
const (
	DefaultAccount = "123456789012"
	DefaultRegion  = "us-east-1"
)

// How long a server gets to become ready, and to stop after SIGTERM.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// Main runs the tests of a package with m and then removes the binary built
// for them; call it from TestMain as os.Exit(process.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	return code
}

// binary returns the wsim binary to run, building it on first use.
func binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("WSIM_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "wsim-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "wsim")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/wsim")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/wsim: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("process: %v", buildErr)
	}
	return buildBin
}

// moduleRoot finds the directory of wsim's go.mod: from `go env GOMOD`, else by
// walking up from the working directory.
func moduleRoot() (string, error) {
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod), nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find go.mod above the working directory; set WSIM_BIN")
		}
		dir = parent
	}
}

// Server is a running `wsim serve` process, reached through its Endpoint.
type Server struct {
	Endpoint

	bin  string
	args []string
	addr string
	logs *SyncBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start runs `wsim serve` with args and waits until it is healthy. Unless args
// say otherwise it listens on a free loopback port, keeps its state in memory
// and uses the instant timing profile. The server is stopped when the test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	s := &Server{Endpoint: NewEndpoint(""), bin: binary(t), logs: &SyncBuffer{}}
	pickedPort := false
	if v, ok := flagValue(args, "addr"); ok {
		s.addr = v
	} else {
		pickedPort = true
		s.addr = freeAddr(t)
		args = append(args, "--addr", s.addr)
	}
	if !hasFlag(args, "store") {
		args = append(args, "--store", "memory")
	}
	if !hasFlag(args, "profile") {
		args = append(args, "--profile", "instant")
	}
	s.args = append([]string{"serve"}, args...)
	s.URL = "http://" + s.addr
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("wsim %s output:\n%s", strings.Join(s.args, " "), s.Logs())
		}
	})
	// A port found free can be taken before wsim binds it, by another test's
	// server or an outgoing connection; then try another one.
	for attempt := 0; ; attempt++ {
		err := s.launch()
		if err == nil {
			return s
		}
		if !pickedPort || attempt == 4 || !errors.Is(err, errAddrInUse) {
			t.Fatalf("process: %v", err)
		}
		old := s.addr
		s.addr = freeAddr(t)
		s.URL = "http://" + s.addr
		for i, a := range s.args {
			if a == old {
				s.args[i] = s.addr
			}
		}
	}
}

var errAddrInUse = errors.New("address already in use")

func hasFlag(args []string, name string) bool {
	_, ok := flagValue(args, name)
	return ok
}

// flagValue finds --name value or --name=value (one or two dashes) in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// freeAddr asks the kernel for a free loopback port. Another process can
// take it before wsim binds it; Start then tries another.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("process: find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// launch starts the process and waits until it is healthy.
func (s *Server) launch() error {
	logStart := len(s.Logs())
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %v", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	// Ready means this process said where it listens (wsim prints it once it
	// has bound the port) and the health check answers: the health check
	// alone could be answered by another server that took the port.
	deadline := time.Now().Add(startTimeout)
	for {
		if strings.Contains(s.Logs()[logStart:], "listening on http://") && s.healthy() {
			return nil
		}
		select {
		case <-done:
			out := s.Logs()[logStart:]
			if strings.Contains(out, "address already in use") {
				return fmt.Errorf("wsim could not listen on %s: %w", s.addr, errAddrInUse)
			}
			return fmt.Errorf("wsim exited before becoming ready (%v):\n%s", cmd.ProcessState, out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("wsim not healthy after %s:\n%s", startTimeout, s.Logs()[logStart:])
		}
	}
}

func (s *Server) healthy() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_wsim/health", nil)
	resp, err := s.http.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends the server gracefully: SIGTERM, then SIGKILL if it has not
// exited within 10 s. Stopping a stopped server does nothing.
func (s *Server) Stop() { s.stop(syscall.SIGTERM) }

// Kill ends the server at once with SIGKILL, as a crash would.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		cmd.Process.Kill()
		<-done
	}
	s.CloseIdleConnections()
}

// Restart stops the server if it still runs and starts it again with the same
// arguments on the same port. Clients made before keep working, but a fresh
// one avoids reusing connections to the old process.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	fmt.Fprintf(s.logs, "---- process: restart ----\n")
	if err := s.launch(); err != nil {
		t.Fatalf("process: restart: %v", err)
	}
}

// ExitCode returns the exit status of the server's last run: -1 while it
// runs, or when a signal it did not handle ended it.
func (s *Server) ExitCode() int {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// Command returns a command that runs the wsim binary with args, for runs
// that end on their own, such as a serve refusing its flags.
func Command(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	return exec.Command(binary(t), args...)
}

// Logs returns everything the server (and its earlier runs) printed.
func (s *Server) Logs() string { return s.logs.String() }
