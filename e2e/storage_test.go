package e2e_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
	"github.com/aws/smithy-go"

	"github.com/wsim/wsim/e2e/process"
)

// ack is an import the server acknowledged with a 200.
type ack struct{ account, id string }

// TestKill9KeepsAcknowledgedImports imports from many clients at once,
// kills the server with SIGKILL while requests are in flight, restarts it on
// the same embedded store and checks every acknowledged image id.
func TestKill9KeepsAcknowledgedImports(t *testing.T) {
	dir := t.TempDir()
	srv := process.Start(t, "--store", "sqlite", "--data-dir", dir, "--profile", "realistic")
	frozenAt := srv.FreezeRounded(t)

	const workers = 8
	var (
		mu    sync.Mutex
		acks  []ack
		total atomic.Int64
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		// reached closes once enough imports were acknowledged to kill.
		reached = make(chan struct{})
		once    sync.Once
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// 30 imports per account stay under the image quota.
				account := fmt.Sprintf("9%02d%09d", w, i/30)
				c := srv.Client(t, account, usEast1)
				out, err := c.ImportCustomWorkspaceImage(t.Context(), importInput(fmt.Sprintf("kill-%d-%d", w, i)))
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acks = append(acks, ack{account, aws.ToString(out.ImageId)})
				mu.Unlock()
				if total.Add(1) == 400 {
					once.Do(func() { close(reached) })
				}
			}
		}()
	}
	// Kill once a good number of imports were acknowledged, with the workers
	// still sending.
	<-reached
	srv.Kill()
	close(stop)
	wg.Wait()

	srv.Restart(t)
	if now := srv.Now(t); !now.Equal(frozenAt) {
		t.Errorf("after restart the clock reads %v, want the frozen %v", now, frozenAt)
	}
	srv.Advance(t, 27*time.Minute) // realistic: IMAGE_TESTING_START runs from 25 to 30 minutes
	for _, a := range acks {
		out, err := srv.Client(t, a.account, usEast1).DescribeCustomWorkspaceImageImport(t.Context(),
			&workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(a.id)})
		if err != nil {
			t.Fatalf("acknowledged import %s of %s lost after SIGKILL: %v", a.id, a.account, err)
		}
		if out.State != "IMAGE_TESTING_START" || !aws.ToTime(out.Created).Equal(frozenAt) {
			t.Fatalf("import %s after restart: state %s created %v, want IMAGE_TESTING_START created %v",
				a.id, out.State, aws.ToTime(out.Created), frozenAt)
		}
	}
	t.Logf("%d acknowledged imports survived SIGKILL", len(acks))
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestReplicasShareOnePostgreSQL runs two replicas on one database and races
// them: names stay unique and quotas hold under concurrent requests, the clock
// and fault rules are shared, and what one creates the other describes.
func TestReplicasShareOnePostgreSQL(t *testing.T) {
	dsn := pgURL(t)
	a := process.Start(t, "--store", dsn, "--profile", "realistic", "--image-quota", "5")
	b := process.Start(t, "--store", dsn, "--profile", "realistic", "--image-quota", "5")
	replicas := []*process.Server{a, b}

	t.Run("what one creates the other describes", func(t *testing.T) {
		id := importImage(t, a.Client(t, accountA, usEast1), importInput("shared-1"))
		out, err := b.Client(t, accountA, usEast1).DescribeCustomWorkspaceImageImport(t.Context(),
			&workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
		if err != nil || aws.ToString(out.ImageId) != id {
			t.Fatalf("replica b describes %s: %v", id, err)
		}
	})

	race := func(t *testing.T, account string, name func(i int) string) map[string]int {
		const n = 20
		codes := make(chan string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := replicas[i%2].Client(t, account, usEast1).ImportCustomWorkspaceImage(t.Context(), importInput(name(i)))
				codes <- errorCode(err)
			}()
		}
		wg.Wait()
		close(codes)
		got := map[string]int{}
		for c := range codes {
			got[c]++
		}
		return got
	}
	t.Run("one name, twenty racing imports", func(t *testing.T) {
		got := race(t, "200000000001", func(int) string { return "contested" })
		if got[""] != 1 || got["ResourceAlreadyExistsException"] != 19 {
			t.Errorf("outcomes %v, want exactly one success and 19 ResourceAlreadyExistsException", got)
		}
	})
	t.Run("quota of five, twenty racing imports", func(t *testing.T) {
		got := race(t, "200000000002", func(i int) string { return fmt.Sprintf("q-%d", i) })
		if got[""] != 5 || got["ResourceLimitExceededException"] != 15 {
			t.Errorf("outcomes %v, want exactly 5 successes and 15 ResourceLimitExceededException", got)
		}
	})
	t.Run("clock and fault rules are shared", func(t *testing.T) {
		frozen := a.FreezeRounded(t)
		if now := b.Now(t); !now.Equal(frozen) {
			t.Fatalf("replica b reads %v, replica a froze at %v", now, frozen)
		}
		a.AddFaultRule(t, map[string]any{"namePattern": "doomed-*", "failAt": "PROCESSING_SOURCE_IMAGE"})
		id := importImage(t, b.Client(t, accountA, usEast1), importInput("doomed-1"))
		b.Advance(t, 3*time.Hour)
		out, err := a.Client(t, accountA, usEast1).DescribeCustomWorkspaceImageImport(t.Context(),
			&workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
		if err != nil || out.State != types.CustomWorkspaceImageImportStateError {
			t.Fatalf("import under a shared rule: %v, %v; want ERROR", out, err)
		}
	})
	t.Run("concurrent tag changes on both replicas are all kept", func(t *testing.T) {
		id := importImage(t, a.Client(t, accountB, usEast1), importInput("tagged"))
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := replicas[i%2].Client(t, accountB, usEast1).CreateTags(t.Context(), &workspaces.CreateTagsInput{
					ResourceId: aws.String(id), Tags: []types.Tag{tag(fmt.Sprintf("k%d", i), "v")},
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		out, err := b.Client(t, accountB, usEast1).DescribeTags(t.Context(), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
		if err != nil || len(out.TagList) != n {
			t.Fatalf("after %d concurrent CreateTags: %d tags, %v", n, len(out.TagList), err)
		}
	})
	t.Run("racing deletes of one image leave it deleted exactly once", func(t *testing.T) {
		c := a.Client(t, accountB, usEast1)
		id := importImage(t, c, importInput("doomed-twice"))
		a.Advance(t, 3*time.Hour) // realistic: the import is done, so it may be deleted
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := replicas[i%2].Client(t, accountB, usEast1).DeleteWorkspaceImage(t.Context(),
					&workspaces.DeleteWorkspaceImageInput{ImageId: aws.String(id)}); err != nil {
					t.Error(err) // deleting is idempotent: every racer succeeds
				}
			}()
		}
		wg.Wait()
		out, err := b.Client(t, accountB, usEast1).DescribeWorkspaceImages(t.Context(), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
		if err != nil || len(out.Images) != 0 {
			t.Fatalf("after racing deletes: %v, %v", out, err)
		}
		// The name is free again, once.
		importImage(t, c, importInput("doomed-twice"))
	})
}

// TestStoreOutageIsA503AndHeals puts a proxy between wsim and PostgreSQL,
// cuts it, and checks that requests fail fast with a retryable AWS-shaped 503
// and that service resumes on its own once the database is reachable again.
func TestStoreOutageIsA503AndHeals(t *testing.T) {
	dsn := pgURL(t)
	u, _ := url.Parse(dsn)
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr
	srv := process.Start(t, "--store", u.String())
	c := srv.Client(t, accountA, usEast1)
	id := importImage(t, c, importInput("before-outage"))
	describeID := func(id string) error {
		_, err := c.DescribeCustomWorkspaceImageImport(t.Context(),
			&workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
		return err
	}
	describe := func() error { return describeID(id) }

	proxy.cut()
	// An image the replica never read needs PostgreSQL (its own import
	// may still be answered from its copy of records until it sees its
	// listener's connection gone).
	err := describeID("wsi-000000000")
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 503 || errorCode(err) != "ServiceUnavailableException" {
		t.Fatalf("during the outage: %v, want a 503 ServiceUnavailableException", err)
	}
	if _, err := c.ImportCustomWorkspaceImage(t.Context(), importInput("during-outage")); errorCode(err) != "ServiceUnavailableException" {
		t.Fatalf("import during the outage: %v, want ServiceUnavailableException", err)
	}
	if h, status := srv.Health(t); status != http.StatusServiceUnavailable || h.Status != "degraded" || h.StoreWritable || h.Reason == "" {
		t.Errorf("health during the outage = %d %+v, want 503 degraded with a reason", status, h)
	}

	proxy.restore(t)
	var last error
	for range 50 { // the pool reconnects on its own; a few requests may still meet dead connections
		if last = describe(); last == nil {
			break
		}
	}
	if last != nil {
		t.Fatalf("service did not resume after the database came back: %v", last)
	}
	if _, err := c.ImportCustomWorkspaceImage(t.Context(), importInput("after-outage")); err != nil {
		t.Fatalf("import after the outage: %v", err)
	}
	if h, status := srv.Health(t); status != http.StatusOK || h.Status != "ok" || !h.StoreWritable {
		t.Errorf("health after the outage = %d %+v, want ok", status, h)
	}
}

// tcpProxy forwards a loopback port to a target and can be cut and restored.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

// cut refuses new connections and breaks the open ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("reopen proxy on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
