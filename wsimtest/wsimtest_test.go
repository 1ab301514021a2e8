package wsimtest_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/wsim/wsim/internal/store/storetest"
	"github.com/wsim/wsim/wsimtest"
)

const (
	account = "111122223333"
	region  = "us-east-1"
)

func start(t *testing.T, o wsimtest.Options) *wsimtest.Server {
	t.Helper()
	srv, err := wsimtest.NewServer(o)
	if err != nil {
		t.Fatalf("NewServer(%+v): %v", o, err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

func client(srv *wsimtest.Server, acct string) *workspaces.Client {
	return workspaces.NewFromConfig(srv.AWSConfig(acct, region))
}

func importInput(name string) *workspaces.ImportCustomWorkspaceImageInput {
	return &workspaces.ImportCustomWorkspaceImageInput{
		ImageName:                      aws.String(name),
		ImageDescription:               aws.String("test image"),
		ComputeType:                    types.ImageComputeTypeBase,
		Protocol:                       types.CustomImageProtocolDcv,
		ImageSource:                    &types.ImageSourceIdentifierMemberEc2ImageId{Value: "ami-0123456789abcdef0"},
		InfrastructureConfigurationArn: aws.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/test"),
		Platform:                       types.PlatformWindows,
		OsVersion:                      types.OSVersionWindows11,
	}
}

func importImage(t *testing.T, c *workspaces.Client, name string) string {
	t.Helper()
	out, err := c.ImportCustomWorkspaceImage(t.Context(), importInput(name))
	if err != nil {
		t.Fatalf("ImportCustomWorkspaceImage(%s): %v", name, err)
	}
	return aws.ToString(out.ImageId)
}

func describe(t *testing.T, c *workspaces.Client, id string) *workspaces.DescribeCustomWorkspaceImageImportOutput {
	t.Helper()
	out, err := c.DescribeCustomWorkspaceImageImport(t.Context(), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeCustomWorkspaceImageImport(%s): %v", id, err)
	}
	return out
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return fmt.Sprint(err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	srv := start(t, wsimtest.Options{})
	if u, err := url.Parse(srv.URL()); err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		t.Errorf("URL() = %q, want http://127.0.0.1:<port>", srv.URL())
	}
	resp, err := http.Get(srv.URL() + "/_wsim/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /_wsim/health: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /metrics: %d", resp.StatusCode)
	}

	// The quick profile: PENDING for 2 s, 40 s in all.
	c := client(srv, account)
	must(t, srv.Clock().Freeze())
	id := importImage(t, c, "quick")
	must(t, srv.Clock().Advance(3*time.Second))
	if st := describe(t, c, id).State; st != types.CustomWorkspaceImageImportStateInProgress {
		t.Errorf("after 3 s: %s, want IN_PROGRESS", st)
	}
	must(t, srv.Clock().Advance(37*time.Second))
	if st := describe(t, c, id).State; st != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("after 40 s: %s, want COMPLETED", st)
	}

	// Friendly BYOL, an image quota of 40.
	for i := range wsimtest.DefaultImageQuota - 1 {
		importImage(t, c, fmt.Sprintf("img-%d", i))
	}
	_, err = c.ImportCustomWorkspaceImage(t.Context(), importInput("one-too-many"))
	if code := errorCode(err); code != "ResourceLimitExceededException" {
		t.Errorf("image %d: %s, want ResourceLimitExceededException", wsimtest.DefaultImageQuota+1, code)
	}

	// An empty account and Region are the server's defaults, like unsigned requests.
	cfg := srv.AWSConfig("", "")
	if cfg.Region != wsimtest.DefaultRegion {
		t.Errorf("AWSConfig Region = %q", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != wsimtest.DefaultAccount {
		t.Errorf("AWSConfig credentials = %+v, %v; want access key %s", creds, err, wsimtest.DefaultAccount)
	}
	if aws.ToString(cfg.BaseEndpoint) != srv.URL() {
		t.Errorf("AWSConfig BaseEndpoint = %q, want %q", aws.ToString(cfg.BaseEndpoint), srv.URL())
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	t.Run("profile and stage durations", func(t *testing.T) {
		t.Parallel()
		srv := start(t, wsimtest.Options{Profile: "instant", StageDurations: map[string]time.Duration{"GENERALIZING": 10 * time.Minute}})
		c := client(srv, account)
		must(t, srv.Clock().Freeze())
		id := importImage(t, c, "slow-sysprep")
		if st := describe(t, c, id).State; st != types.CustomWorkspaceImageImportStateGeneralizing {
			t.Errorf("at once: %s, want GENERALIZING", st)
		}
		must(t, srv.Clock().Advance(10*time.Minute))
		if st := describe(t, c, id).State; st != types.CustomWorkspaceImageImportStateCompleted {
			t.Errorf("after 10 min: %s, want COMPLETED", st)
		}
	})
	t.Run("quotas", func(t *testing.T) {
		t.Parallel()
		srv := start(t, wsimtest.Options{ImageQuota: 1, BundleQuota: 1, Profile: "instant"})
		c := client(srv, account)
		id := importImage(t, c, "only")
		_, err := c.ImportCustomWorkspaceImage(t.Context(), importInput("second"))
		if code := errorCode(err); code != "ResourceLimitExceededException" {
			t.Errorf("second image: %s, want ResourceLimitExceededException", code)
		}
		bundle := func(name string) error {
			_, err := c.CreateWorkspaceBundle(t.Context(), &workspaces.CreateWorkspaceBundleInput{
				BundleName: aws.String(name), BundleDescription: aws.String("d"), ImageId: aws.String(id),
				ComputeType: &types.ComputeType{Name: types.ComputeStandard}, UserStorage: &types.UserStorage{Capacity: aws.String("50")},
				RootStorage: &types.RootStorage{Capacity: aws.String("80")},
			})
			return err
		}
		must(t, bundle("b1"))
		if code := errorCode(bundle("b2")); code != "ResourceLimitExceededException" {
			t.Errorf("second bundle: %s, want ResourceLimitExceededException", code)
		}
	})
	t.Run("strict BYOL", func(t *testing.T) {
		t.Parallel()
		srv := start(t, wsimtest.Options{BYOL: wsimtest.BYOLStrict})
		_, err := client(srv, account).ImportCustomWorkspaceImage(t.Context(), importInput("refused"))
		if code := errorCode(err); code != "AccessDeniedException" {
			t.Errorf("import under strict BYOL: %s, want AccessDeniedException", code)
		}
	})
	t.Run("default account and Region", func(t *testing.T) {
		t.Parallel()
		srv := start(t, wsimtest.Options{DefaultAccount: "999988887777", DefaultRegion: "eu-west-1"})
		c := workspaces.NewFromConfig(srv.AWSConfig("not-an-account", "eu-west-1"))
		id := importImage(t, c, "defaulted")
		out, err := client(srv, "999988887777").DescribeWorkspaceImages(t.Context(), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
		if err != nil || len(out.Images) != 0 {
			t.Errorf("the default account's image in %s: %+v, %v; want none", region, out, err)
		}
		out, err = workspaces.NewFromConfig(srv.AWSConfig("999988887777", "eu-west-1")).DescribeWorkspaceImages(t.Context(),
			&workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
		if err != nil || len(out.Images) != 1 || aws.ToString(out.Images[0].OwnerAccountId) != "999988887777" {
			t.Errorf("the image of an access key that is no account id: %+v, %v", out, err)
		}
		if cfg := srv.AWSConfig("", ""); cfg.Region != "eu-west-1" {
			t.Errorf("AWSConfig(\"\", \"\").Region = %q, want the default Region", cfg.Region)
		}
	})
	t.Run("logger", func(t *testing.T) {
		t.Parallel()
		var buf syncBuffer
		srv := start(t, wsimtest.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if _, err := client(srv, account).DescribeWorkspaceImages(t.Context(), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
			t.Fatal(err)
		}
		logs := buf.String()
		for _, want := range []string{"msg=listening", "store=\"in-memory store", "profile=quick", "operation=DescribeWorkspaceImages", "account=" + account} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		}
	})
	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			o    wsimtest.Options
			want string
		}{
			{wsimtest.Options{Profile: "leisurely"}, "Profile"},
			{wsimtest.Options{StageDurations: map[string]time.Duration{"LUNCH": time.Hour}}, "LUNCH"},
			{wsimtest.Options{StageDurations: map[string]time.Duration{"PENDING": -time.Second}}, "negative"},
			{wsimtest.Options{BYOL: "lenient"}, "BYOL"},
			{wsimtest.Options{ImageQuota: -1}, "negative"},
			{wsimtest.Options{Store: "mongodb://x"}, "unknown store"},
		} {
			if srv, err := wsimtest.NewServer(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				if srv != nil {
					srv.Close()
				}
				t.Errorf("NewServer(%+v) = %v, want an error naming %q", tt.o, err, tt.want)
			}
		}
	})
}

func TestSQLiteStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := wsimtest.NewServer(wsimtest.Options{Store: "sqlite", DataDir: dir, Profile: "realistic"})
	if err != nil {
		t.Fatal(err)
	}
	must(t, srv.Clock().Freeze())
	frozen, err := srv.Clock().Now()
	must(t, err)
	id := importImage(t, client(srv, account), "kept")
	must(t, srv.Close())
	if _, err := os.Stat(filepath.Join(dir, "wsim.db")); err != nil {
		t.Fatalf("no wsim.db in DataDir: %v", err)
	}

	// A second server on the same directory finds the image and the clock.
	again := start(t, wsimtest.Options{Store: "sqlite", DataDir: dir, Profile: "realistic"})
	if now, err := again.Clock().Now(); err != nil || !now.Equal(frozen) {
		t.Errorf("the clock after reopening: %v, %v; want the frozen %v", now, err, frozen)
	}
	if out := describe(t, client(again, account), id); out.State != types.CustomWorkspaceImageImportStatePending {
		t.Errorf("the image after reopening: %s, want PENDING", out.State)
	}
	// One process at a time on a SQLite file.
	if srv, err := wsimtest.NewServer(wsimtest.Options{Store: "sqlite", DataDir: dir}); err == nil {
		srv.Close()
		t.Errorf("a second server opened the SQLite store in use")
	}
}

func TestSQLiteStoreInATemporaryDirectory(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	srv, err := wsimtest.NewServer(wsimtest.Options{Store: "sqlite", Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	importImage(t, client(srv, account), "temporary")
	_, path, ok := strings.Cut(buf.String(), "SQLite store at ")
	if !ok {
		t.Fatalf("the log names no SQLite file:\n%s", buf.String())
	}
	path, _, _ = strings.Cut(path, "\"")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the store %s: %v", path, err)
	}
	must(t, srv.Close())
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left the temporary data directory %s: %v", filepath.Dir(path), err)
	}
}

func TestPostgresStore(t *testing.T) {
	t.Parallel()
	base := os.Getenv("WSIM_TEST_POSTGRES")
	if base == "" {
		t.Skip("WSIM_TEST_POSTGRES is not set; run through scripts/with-postgres.sh")
	}
	dsn := storetest.PostgresSchema(t, base, "wsimtest")

	// Two servers on one database share state, the clock and fault rules.
	a := start(t, wsimtest.Options{Store: dsn, Profile: "realistic"})
	b := start(t, wsimtest.Options{Store: dsn, Profile: "realistic"})
	must(t, a.Clock().Freeze())
	frozen, err := a.Clock().Now()
	must(t, err)
	if now, err := b.Clock().Now(); err != nil || !now.Equal(frozen) {
		t.Errorf("b's clock: %v, %v; a froze at %v", now, err, frozen)
	}
	if _, err := a.Faults().Add(wsimtest.FaultRule{NamePattern: "doomed-*", FailAt: "PENDING"}); err != nil {
		t.Fatal(err)
	}
	id := importImage(t, client(b, account), "doomed-1")
	must(t, b.Clock().Advance(3*time.Hour))
	if out := describe(t, client(a, account), id); out.State != types.CustomWorkspaceImageImportStateError {
		t.Errorf("an import under a shared rule: %s, want ERROR", out.State)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	srv := start(t, wsimtest.Options{Profile: "realistic"})
	clock := srv.Clock()

	st, err := clock.State()
	if err != nil || st.Frozen || st.Offset != 0 || time.Since(st.Now).Abs() > time.Minute {
		t.Fatalf("a new clock: %+v, %v; want real time, running", st, err)
	}
	// A clock frozen at (or behind) real time resets to real time.
	must(t, clock.Freeze())
	must(t, clock.Reset())
	if st, _ := clock.State(); st.Frozen || st.Offset != 0 {
		t.Errorf("reset from frozen: %+v, want real time, running", st)
	}
	must(t, clock.Freeze())
	frozen, err := clock.Now()
	must(t, err)
	if st, _ := clock.State(); !st.Frozen || !st.Now.Equal(frozen) || frozen.Location() != time.UTC {
		t.Errorf("frozen: %+v, Now %v", st, frozen)
	}
	must(t, clock.Advance(90*time.Minute))
	if now, _ := clock.Now(); !now.Equal(frozen.Add(90 * time.Minute)) {
		t.Errorf("after Advance(90m): %v, want %v", now, frozen.Add(90*time.Minute))
	}
	at := frozen.Add(2 * time.Hour).Truncate(time.Second)
	must(t, clock.Set(at))
	if now, _ := clock.Now(); !now.Equal(at) {
		t.Errorf("after Set(%v): %v", at, now)
	}
	if err := clock.Set(frozen); !errors.Is(err, wsimtest.ErrClockBackwards) {
		t.Errorf("Set back: %v, want ErrClockBackwards", err)
	}
	if err := clock.Advance(-time.Second); !errors.Is(err, wsimtest.ErrClockBackwards) {
		t.Errorf("Advance(-1s): %v, want ErrClockBackwards", err)
	}
	if err := clock.Advance(math.MaxInt64); !errors.Is(err, wsimtest.ErrClockOutOfRange) {
		t.Errorf("Advance(MaxInt64): %v, want ErrClockOutOfRange", err)
	}
	if err := clock.Set(wsimtest.ClockMax.Add(time.Second)); !errors.Is(err, wsimtest.ErrClockOutOfRange) {
		t.Errorf("Set past ClockMax: %v, want ErrClockOutOfRange", err)
	}
	must(t, clock.Resume())
	st, err = clock.State()
	must(t, err)
	if st.Frozen || st.Now.Before(at) || st.Offset < 100*time.Minute {
		t.Errorf("resumed: %+v, want running from %v", st, at)
	}
	// The API sees the same clock.
	c := client(srv, account)
	must(t, clock.Freeze())
	created, _ := clock.Now()
	id := importImage(t, c, "clocked")
	if out := describe(t, c, id); !aws.ToTime(out.Created).Equal(created.Truncate(time.Millisecond)) {
		t.Errorf("Created = %v, want the service time %v", aws.ToTime(out.Created), created)
	}
	// Now the clock is hours ahead of real time: Reset keeps it running from
	// where it stands, since it never moves back.
	must(t, clock.Reset())
	if st, _ := clock.State(); st.Frozen || st.Now.Before(created) || st.Offset < 100*time.Minute {
		t.Errorf("reset ahead of real time: %+v, want running on from %v", st, created)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := start(t, wsimtest.Options{Profile: "instant"})
	faults := srv.Faults()
	c := client(srv, account)

	if rules, err := faults.List(); err != nil || len(rules) != 0 {
		t.Fatalf("a new server's rules: %+v, %v", rules, err)
	}
	rule := wsimtest.FaultRule{NamePattern: "doomed-*", FailAt: "GENERALIZING", ErrorCode: "ZeroRearmCount"}
	id, err := faults.Add(rule)
	if err != nil || id == "" {
		t.Fatalf("Add: %q, %v", id, err)
	}
	other, err := faults.Add(wsimtest.FaultRule{Kind: "copy", Account: "444455556666", Region: "eu-west-1", SourceID: "wsi-000000000",
		FailAt: "PENDING", ErrorMessage: "no"})
	must(t, err)
	rules, err := faults.List()
	must(t, err)
	rule.ID = id
	if len(rules) != 2 || rules[0] != rule || rules[1].ID != other || rules[1].Kind != "copy" || rules[1].SourceID != "wsi-000000000" ||
		rules[1].Account != "444455556666" || rules[1].Region != "eu-west-1" || rules[1].ErrorMessage != "no" {
		t.Errorf("List = %+v", rules)
	}

	out := describe(t, c, importImage(t, c, "doomed-1"))
	if out.State != types.CustomWorkspaceImageImportStateError || len(out.ErrorDetails) != 1 || aws.ToString(out.ErrorDetails[0].ErrorCode) != "ZeroRearmCount" {
		t.Errorf("an import matching the rule: %s %+v", out.State, out.ErrorDetails)
	}
	if out := describe(t, c, importImage(t, c, "fine-1")); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("an import matching no rule: %s", out.State)
	}

	must(t, faults.Delete(id))
	if rules, _ := faults.List(); len(rules) != 1 || rules[0].ID != other {
		t.Errorf("after Delete: %+v", rules)
	}
	if out := describe(t, c, importImage(t, c, "doomed-2")); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("an import after its rule was deleted: %s", out.State)
	}
	if err := faults.Delete(id); !errors.Is(err, wsimtest.ErrNoSuchFaultRule) {
		t.Errorf("deleting a deleted rule: %v, want ErrNoSuchFaultRule", err)
	}
	if err := faults.Delete(""); !errors.Is(err, wsimtest.ErrNoSuchFaultRule) {
		t.Errorf("Delete(\"\"): %v, want ErrNoSuchFaultRule", err)
	}
	if rules, _ := faults.List(); len(rules) != 1 {
		t.Errorf("Delete(\"\") removed rules: %+v", rules)
	}
	must(t, faults.Clear())
	if rules, _ := faults.List(); len(rules) != 0 {
		t.Errorf("after Clear: %+v", rules)
	}

	for _, bad := range []wsimtest.FaultRule{
		{FailAt: "COMPLETED"},
		{FailAt: "PENDING", Account: "12"},
		{FailAt: "PENDING", NamePattern: "["},
		{FailAt: "PENDING", Kind: "teleport"},
		{FailAt: "PENDING", Kind: "account-modification", SourceID: "ami-0123456789abcdef0"},
		{FailAt: "PENDING", ID: "rule-mine"},
	} {
		if _, err := faults.Add(bad); !errors.Is(err, wsimtest.ErrInvalidFaultRule) {
			t.Errorf("Add(%+v): %v, want ErrInvalidFaultRule", bad, err)
		}
	}
	if rules, _ := faults.List(); len(rules) != 0 {
		t.Errorf("refused rules were kept: %+v", rules)
	}

	// The control plane shows the same rules.
	_, err = faults.Add(wsimtest.FaultRule{FailAt: "PENDING"})
	must(t, err)
	resp, err := http.Get(srv.URL() + "/_wsim/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(body), `"failAt":"PENDING"`) {
		t.Errorf("GET /_wsim/faults: %s, %v", body, err)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	srv, err := wsimtest.NewServer(wsimtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := client(srv, account)
	importImage(t, c, "before-close")
	must(t, srv.Close())
	if err := srv.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if _, err := c.DescribeWorkspaceImages(t.Context(), &workspaces.DescribeWorkspaceImagesInput{}); err == nil {
		t.Errorf("a closed server answered")
	}
	if _, err := http.Get(srv.URL() + "/_wsim/health"); err == nil {
		t.Errorf("a closed server still listens on %s", srv.URL())
	}
	if err := srv.Clock().Freeze(); err == nil {
		t.Errorf("the clock of a closed server froze")
	}
	if _, err := srv.Faults().List(); err == nil {
		t.Errorf("a closed server listed its fault rules")
	}
}

// TestRetryer checks the default retryer retries a connection error and
// nothing the server answers, and that a client may replace it.
func TestRetryer(t *testing.T) {
	t.Parallel()
	srv := start(t, wsimtest.Options{})
	cfg := srv.AWSConfig(account, region)
	if cfg.Retryer == nil {
		t.Fatal("AWSConfig sets no retryer")
	}
	r := cfg.Retryer()
	if r.MaxAttempts() != 3 {
		t.Errorf("MaxAttempts = %d, want 3", r.MaxAttempts())
	}
	if !r.IsErrorRetryable(errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")) {
		t.Errorf("a connection the client closed is not retried")
	}
	if r.IsErrorRetryable(&smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}},
		Err: errors.New("ServiceUnavailableException")}) {
		t.Errorf("a 503 is retried")
	}

	counter := &countingTransport{next: http.DefaultTransport}
	c := workspaces.NewFromConfig(cfg, func(o *workspaces.Options) { o.HTTPClient = &http.Client{Transport: counter} })
	_, err := c.DescribeWorkspacesPools(t.Context(), &workspaces.DescribeWorkspacesPoolsInput{}) // 501: not implemented yet
	if code := errorCode(err); code != "NotImplementedException" {
		t.Fatalf("DescribeWorkspacesPools: %v", err)
	}
	if n := counter.n.Load(); n != 1 {
		t.Errorf("a 501 was sent %d times, want once", n)
	}
	counter.n.Store(0)
	c = workspaces.NewFromConfig(cfg, func(o *workspaces.Options) {
		o.HTTPClient = &http.Client{Transport: counter}
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(error) aws.Ternary { return aws.TrueTernary })}
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	c.DescribeWorkspacesPools(t.Context(), &workspaces.DescribeWorkspacesPoolsInput{})
	if n := counter.n.Load(); n != 3 {
		t.Errorf("with a retryer of the client's own a 501 was sent %d times, want 3", n)
	}
}

type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
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
