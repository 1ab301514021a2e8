package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer the serve goroutine and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServe runs `wsim serve` in-process until its context ends, and checks
// its start-up line and that it serves.
func TestServe(t *testing.T) {
	root := newRoot()
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--store", "memory", "--profile", "instant", "--log-level", "error"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	line := regexp.MustCompile(`^wsim \S+ listening on (http://127\.0\.0\.1:\d+) \(store: in-memory store \(state is lost on exit\), profile: instant, auth: friendly, signatures not verified, clock: running at real time\)\n$`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; {
		if m := line.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned before listening: %v; output %q", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no start-up line after 10 s: %q", out.String())
		}
	}
	resp, err := http.Get(url + "/_wsim/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"profile":"instant"`) {
		t.Errorf("GET /_wsim/health: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after its context ended: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "leisurely"}, `--profile: unknown timing profile "leisurely"`},
		{[]string{"--byol", "lenient"}, `--byol: unknown BYOL mode "lenient"`},
		{[]string{"--store", "mongodb://x"}, `unknown store "mongodb://x"`},
		{[]string{"--store", "memory", "--addr", "127.0.0.1:notaport"}, "listen tcp"},
		{[]string{"positional"}, "unknown command"},
	} {
		root := newRoot()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(append([]string{"serve"}, tt.args...))
		if err := root.Execute(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve %q: %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
