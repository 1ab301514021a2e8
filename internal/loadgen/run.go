package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signingName is the SigV4 service name of WorkSpaces.
const signingName = "workspaces"

// benchSecret signs every request; wsim reads the scope but does not verify
// signatures, and a real endpoint would reject it.
const benchSecret = "wsim-bench-secret-access-key"

// Run drives cfg.Target and reports what it measured. It returns an error,
// before sending anything, for an invalid config or a refused target, and an
// error with a partial report when the describe-import pool cannot be built.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.normalize(); err != nil {
		return Report{}, err
	}
	u, err := CheckTarget(ctx, cfg.Target)
	if err != nil {
		return Report{}, err
	}
	cfg.Target = strings.TrimSuffix(u.String(), "/") + "/"
	return run(ctx, cfg, false)
}

// Baseline measures a do-nothing handler with exactly the client, signing,
// request bodies, concurrency and bounds that Run uses, so Run's throughput
// can be read as a fraction of what the client and loopback can carry. The
// handler is an in-process net/http server on 127.0.0.1:0 that drains the
// body and answers {}; cfg.Target is ignored. describe-import picks from
// made-up image ids instead of creating a pool.
func Baseline(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.normalize(); err != nil {
		return Report{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Report{}, fmt.Errorf("baseline listener: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_, _ = w.Write([]byte("{}"))
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	cfg.Target = "http://" + ln.Addr().String() + "/"
	rep, err := run(ctx, cfg, true)
	rep.Baseline = true
	return rep, err
}

// client is the one HTTP client and signer shared by all workers of a run.
type client struct {
	url       string
	region    string
	http      *http.Client
	transport *http.Transport
	signer    *v4.Signer
}

func newClient(cfg Config) *client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackControl}
	tr := &http.Transport{
		// Never a proxy: it would carry loopback traffic somewhere else.
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		DisableCompression:  true,
		// A page of 25 directories is 27 KB: read with the default 4 KiB
		// buffer, it took seven reads from the socket.
		ReadBufferSize: 64 << 10,
	}
	return &client{
		url:       cfg.Target,
		region:    cfg.Region,
		transport: tr,
		signer:    v4.NewSigner(),
		http: &http.Client{
			Transport: tr,
			// A redirect could point anywhere; report it as the response it is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// newRequest builds a signed AWS JSON 1.1 request for op acting as account.
func (c *client) newRequest(ctx context.Context, op, account string, body []byte, now time.Time) (*http.Request, error) {
	return c.newTargetRequest(ctx, opTargets[op], account, body, now)
}

// newTargetRequest is newRequest for any X-Amz-Target.
func (c *client) newTargetRequest(ctx context.Context, target, account string, body []byte, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: account, SecretAccessKey: benchSecret}
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, c.region, now); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return req, nil
}

// result is the outcome of one request.
type result struct {
	status  int // 0 for a transport error
	errType string
	message string
	imageID string
	latency time.Duration
	err     error
}

func (r result) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// bodyBuffers hold responses while do reads them: io.ReadAll grew a new
// buffer, doubling from 512 bytes, for every response.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// do sends req and reads the whole response, so the connection is reused.
// Latency covers sending the request and reading the full response, not
// building or signing it.
func (c *client) do(req *http.Request, wantImageID bool) result {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return result{latency: time.Since(start), err: err, errType: transportErrorType(err), message: err.Error()}
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer bodyBuffers.Put(buf)
	buf.Reset()
	if n := resp.ContentLength; n > 0 && n < 16<<20 {
		buf.Grow(int(n))
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	body := buf.Bytes()
	res := result{status: resp.StatusCode, latency: time.Since(start)}
	if err != nil {
		res.err, res.status, res.errType, res.message = err, 0, transportErrorType(err), err.Error()
		return res
	}
	if res.ok() {
		if wantImageID {
			var out struct{ ImageId string }
			_ = json.Unmarshal(body, &out)
			res.imageID = out.ImageId
		}
		return res
	}
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	res.errType, res.message = e.Type, e.Message
	if res.message == "" {
		res.message = e.MessageU
	}
	if res.errType == "" {
		res.errType, _, _ = strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	}
	// AWS JSON may qualify the code with its namespace: "ns#Code".
	if i := strings.LastIndexByte(res.errType, '#'); i >= 0 {
		res.errType = res.errType[i+1:]
	}
	if res.errType == "" {
		res.errType = "(none)"
	}
	return res
}

func transportErrorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRefusedTarget):
		return "transport: refused non-loopback peer"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "transport: connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: unexpected EOF"
	case errors.As(err, &ne) && ne.Timeout():
		return "transport: timeout"
	default:
		return "transport: error"
	}
}

var errNoImageID = errors.New("import answered without an ImageId")

var listPageBody = fmt.Appendf(nil, `{"MaxResults":%d}`, ListPage)

// poolImage is an image the pool imported, and the account that owns it.
type poolImage struct {
	account string
	body    []byte // the DescribeCustomWorkspaceImageImport body
	byID    []byte // the DescribeWorkspaceImages body naming the image
}

func newPoolImage(account, id string) poolImage {
	return poolImage{account: account, body: fmt.Appendf(nil, `{"ImageId":%q}`, id), byID: fmt.Appendf(nil, `{"ImageIds":[%q]}`, id)}
}

// generator hands out accounts and unique image names for imports.
type generator struct {
	prefix     string
	perAccount int64
	runID      string
	seq        atomic.Int64
}

func (g *generator) account(n int64) string {
	return fmt.Sprintf("%s%0*d", g.prefix, 12-len(g.prefix), n/g.perAccount)
}

// nextImport returns the account and body of the next import.
func (g *generator) nextImport() (string, []byte) {
	n := g.seq.Add(1) - 1
	body := fmt.Appendf(nil, `{"ImageName":"bench-%s-%d","ImageDescription":"bench","ComputeType":"BASE",`+
		`"Protocol":"DCV","ImageSource":{"Ec2ImageId":"ami-0123456789abcdef0"},`+
		`"InfrastructureConfigurationArn":"arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/bench",`+
		`"Platform":"WINDOWS","OsVersion":"Windows_11"}`, g.runID, n)
	return g.account(n), body
}

func randUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func run(ctx context.Context, cfg Config, synthetic bool) (Report, error) {
	rep := Report{
		Target:         cfg.Target,
		Region:         cfg.Region,
		Concurrency:    cfg.Concurrency,
		RequestsCap:    cfg.Requests,
		DurationCap:    cfg.Duration,
		Mix:            cfg.Mix,
		AccountsPrefix: cfg.AccountsPrefix,
		Started:        time.Now(),
	}
	c := newClient(cfg)
	defer c.transport.CloseIdleConnections()
	gen := &generator{prefix: cfg.AccountsPrefix, perAccount: int64(cfg.ImportsPerAccount), runID: fmt.Sprintf("%08x", uint32(randUint64()))}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	if cfg.Prefill > 0 && !synthetic {
		var err error
		if rep.Prefill, err = prefill(runCtx, c, gen, cfg); err != nil {
			rep.Stopped = stopReason(ctx, runCtx)
			return rep, err
		}
	}
	var fix *fixture
	if cfg.needsFixture() {
		if synthetic {
			fix = syntheticFixture(gen)
		} else {
			var err error
			fix, rep.Fixture, err = buildFixture(runCtx, c, gen, cfg)
			if err != nil {
				rep.Stopped = stopReason(ctx, runCtx)
				return rep, err
			}
		}
	}
	var pool []poolImage
	if cfg.needsPool() {
		if synthetic {
			for i := range cfg.Pool {
				pool = append(pool, newPoolImage(gen.account(int64(i)), fmt.Sprintf("wsi-%09d", i)))
			}
		} else {
			var err error
			pool, rep.Setup, err = buildPool(runCtx, c, gen, cfg)
			if err != nil {
				rep.Stopped = stopReason(ctx, runCtx)
				return rep, err
			}
		}
	}

	rep.Ops, rep.Total, rep.Aborted, rep.Wall = measure(runCtx, c, gen, cfg, pool, fix)
	rep.Stopped = stopReason(ctx, runCtx)
	return rep, nil
}

func stopReason(parent, run context.Context) string {
	switch {
	case parent.Err() != nil:
		return StoppedCanceled
	case run.Err() != nil:
		return StoppedDuration
	default:
		return StoppedRequests
	}
}

// buildPool imports cfg.Pool images with cfg.Concurrency workers and returns
// those that were accepted.
func buildPool(ctx context.Context, c *client, gen *generator, cfg Config) ([]poolImage, *OpStats, error) {
	pool, stats := importMany(ctx, c, gen, cfg.Pool, cfg.Concurrency, OpImport+" (pool)", true)
	if len(pool) == 0 {
		return nil, &stats, fmt.Errorf("could not import any pool image for describe-import, describe-image or list-images (%s)", firstError(stats))
	}
	return pool, &stats, nil
}

// prefill imports cfg.Prefill images with cfg.Concurrency workers, into the
// accounts the measured imports go to.
func prefill(ctx context.Context, c *client, gen *generator, cfg Config) (*OpStats, error) {
	_, stats := importMany(ctx, c, gen, cfg.Prefill, cfg.Concurrency, OpImport+" (prefill)", false)
	if stats.OK < cfg.Prefill {
		return &stats, fmt.Errorf("prefill: %d of %d imports succeeded (%s)", stats.OK, cfg.Prefill, firstError(stats))
	}
	return &stats, nil
}

func firstError(s OpStats) string {
	if len(s.Errors) == 0 {
		return "no request completed"
	}
	e := s.Errors[0]
	return fmt.Sprintf("%d× status %d %s: %s", e.Count, e.Status, e.Type, e.Example)
}

// importMany imports n images with up to concurrency workers, and returns
// those that were accepted when keep is set.
func importMany(ctx context.Context, c *client, gen *generator, n, concurrency int, label string, keep bool) ([]poolImage, OpStats) {
	var (
		mu     sync.Mutex
		pool   []poolImage
		rec    = newRecorder(n)
		issued atomic.Int64
		wg     sync.WaitGroup
	)
	start := time.Now()
	for range min(concurrency, n) {
		wg.Go(func() {
			r := newRecorder(n/concurrency + 1)
			var mine []poolImage
			for ctx.Err() == nil && issued.Add(1) <= int64(n) {
				account, body := gen.nextImport()
				req, err := c.newRequest(ctx, OpImport, account, body, time.Now())
				if err != nil {
					r.add(result{err: err, errType: "client: " + err.Error()})
					continue
				}
				res := c.do(req, true)
				if res.err != nil && ctx.Err() != nil {
					r.aborted++
					continue
				}
				if res.ok() && res.imageID == "" {
					res.err, res.errType, res.message = errNoImageID, "(no ImageId in response)", ""
				}
				r.add(res)
				if res.ok() {
					if keep {
						mine = append(mine, newPoolImage(account, res.imageID))
					}
				}
			}
			mu.Lock()
			pool = append(pool, mine...)
			rec.merge(r)
			mu.Unlock()
		})
	}
	wg.Wait()
	return pool, rec.stats(label, time.Since(start))
}

// measure runs the measured phase: exactly cfg.Requests requests unless ctx
// ends first.
func measure(ctx context.Context, c *client, gen *generator, cfg Config, pool []poolImage, fix *fixture) (ops []OpStats, total OpStats, aborted int, wall time.Duration) {
	var cum []int
	var names []string
	sum := 0
	for _, op := range opNames {
		if w := cfg.Mix[op]; w > 0 {
			sum += w
			cum = append(cum, sum)
			names = append(names, op)
		}
	}
	var (
		mu      sync.Mutex
		issued  atomic.Int64
		wg      sync.WaitGroup
		workers [][]*recorder
	)
	seed := randUint64()
	start := time.Now()
	for w := range cfg.Concurrency {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(seed, uint64(w)))
			mine := make([]*recorder, len(names))
			for i, op := range names {
				// Preallocate this worker's share, plus slack for the random mix.
				expect := int64(cfg.Requests) * int64(cfg.Mix[op]) / int64(sum) / int64(cfg.Concurrency)
				mine[i] = newRecorder(int(expect + expect/8 + 16))
			}
			for ctx.Err() == nil && issued.Add(1) <= int64(cfg.Requests) {
				i := pick(cum, rng.IntN(sum))
				var account string
				var body []byte
				switch names[i] {
				case OpImport:
					account, body = gen.nextImport()
				case OpDescribeImport:
					p := pool[rng.IntN(len(pool))]
					account, body = p.account, p.body
				case OpDescribeImages:
					if len(pool) > 0 {
						account = pool[rng.IntN(len(pool))].account
					} else {
						account = gen.account(0)
					}
					body = []byte("{}")
				case OpListImages:
					// The pool's first account holds a full page or more.
					account, body = gen.account(0), listPageBody
				case OpDescribeImage:
					p := pool[rng.IntN(len(pool))]
					account, body = p.account, p.byID
				default:
					account, body = fix.account, fix.body(names[i], rng)
				}
				req, err := c.newRequest(ctx, names[i], account, body, time.Now())
				if err != nil {
					mine[i].add(result{err: err, errType: "client: " + err.Error()})
					continue
				}
				res := c.do(req, false)
				if res.err != nil && ctx.Err() != nil {
					mine[i].aborted++
					continue
				}
				mine[i].add(res)
			}
			mu.Lock()
			workers = append(workers, mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	wall = time.Since(start)

	// Merge one operation at a time and drop the workers' samples as we go,
	// so a 10M-request run holds about two copies of its samples at most.
	all := &recorder{}
	var sorted [][]time.Duration
	for i, op := range names {
		n := 0
		for _, w := range workers {
			n += len(w[i].lat)
		}
		r := newRecorder(n)
		for _, w := range workers {
			r.merge(w[i])
			w[i] = nil
		}
		ops = append(ops, r.stats(op, wall))
		sorted = append(sorted, r.lat)
		aborted += r.aborted
		all.mergeCounts(r)
	}
	total = all.stats("TOTAL", wall)
	total.Requests, total.Failed = 0, 0
	for _, l := range sorted {
		total.Requests += len(l)
	}
	total.Failed = total.Requests - total.OK
	if wall > 0 {
		total.Throughput = float64(total.Requests) / wall.Seconds()
	}
	total.Latency = summarizeSorted(sorted)
	return ops, total, aborted, wall
}

// pick returns the index of the first cumulative weight above r.
func pick(cum []int, r int) int {
	for i, c := range cum {
		if r < c {
			return i
		}
	}
	return len(cum) - 1
}
