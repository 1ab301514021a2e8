package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/e2e/process"
)

// The operator CLI (wsim imports, images, clock, faults) run as the real
// binary against a real `wsim serve`, driven by the service clock.

// cliResult is what one run of the CLI printed and how it exited.
type cliResult struct {
	args           []string
	stdout, stderr string
	code           int
}

// wsimCLI runs the wsim binary with args, WSIM_ENDPOINT pointing at srv.
func wsimCLI(t *testing.T, srv *process.Server, args ...string) cliResult {
	t.Helper()
	cmd := process.Command(t, args...)
	cmd.Env = append(os.Environ(), "WSIM_ENDPOINT="+srv.URL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	r := cliResult{args: args}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("wsim %s: %v", strings.Join(args, " "), err)
		}
		r.code = exit.ExitCode()
	}
	r.stdout, r.stderr = out.String(), errOut.String()
	return r
}

// ok returns the standard output of a run that must succeed.
func (r cliResult) ok(t *testing.T) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("wsim %s: exit status %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails returns the standard error of a run that must exit 1.
func (r cliResult) fails(t *testing.T) string {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("wsim %s: exit status %d, want 1\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stderr
}

// jsonOf decodes the standard output of a run that must succeed.
func jsonOf[T any](t *testing.T, r cliResult) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.ok(t)), &v); err != nil {
		t.Fatalf("wsim %s printed no JSON: %v\n%s", strings.Join(r.args, " "), err, r.stdout)
	}
	return v
}

var cellGap = regexp.MustCompile(`\s{2,}`)

// tableRows splits a table into its header and rows of cells.
func tableRows(t *testing.T, out string) (header []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, l := range lines {
		cells := cellGap.Split(strings.TrimSpace(l), -1)
		if i == 0 {
			header = cells
			continue
		}
		if len(cells) != len(header) {
			t.Fatalf("row %q has %d cells, the header %d:\n%s", l, len(cells), len(header), out)
		}
		rows = append(rows, cells)
	}
	return header, rows
}

// column returns the cells of the named column.
func column(t *testing.T, out, name string) []string {
	t.Helper()
	header, rows := tableRows(t, out)
	i := -1
	for j, h := range header {
		if h == name {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("no column %q in %q", name, header)
	}
	var cells []string
	for _, r := range rows {
		cells = append(cells, r[i])
	}
	return cells
}

// controlJSON is what the control API answers to GET path, decoded.
func controlJSON(t *testing.T, srv *process.Server, path string) map[string]any {
	t.Helper()
	status, _, body := srv.Do(t, http.MethodGet, path, nil, nil)
	var v map[string]any
	if err := json.Unmarshal(body, &v); status != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return v
}

// watchCLI runs `wsim imports watch id --interval 50ms` and, each time it
// prints a line of progress, advances the service clock by step, until it
// exits; it returns the lines it printed.
func watchCLI(t *testing.T, srv *process.Server, id string, step time.Duration) (lines []string, stderr string, code int) {
	t.Helper()
	cmd := process.Command(t, "imports", "watch", id, "--interval", "50ms")
	cmd.Env = append(os.Environ(), "WSIM_ENDPOINT="+srv.URL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut process.SyncBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// However it goes wrong, it does not outlive the test by much.
	stop := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer stop.Stop()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 1 && len(lines) < 100 {
			srv.Advance(t, step)
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("wsim imports watch %s: %v", id, err)
	}
	return lines, errOut.String(), cmd.ProcessState.ExitCode()
}

var watchLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)  ([A-Z_]+) +(\d+)%(?:  (.*))?$`)

// checkWatchLines checks the lines of a watch: a header, then one line per
// change, in time order, with progress that never decreases; it returns the
// states seen, in order.
func checkWatchLines(t *testing.T, id string, lines []string) (states []string) {
	t.Helper()
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "Watching "+id+" ") {
		t.Fatalf("watch printed %q", lines)
	}
	lastTime, lastProgress := "", -1
	for _, l := range lines[1:] {
		m := watchLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("watch line %q is not TIME  STATE  PROGRESS%%  DETAIL", l)
		}
		progress := 0
		for _, c := range m[3] {
			progress = progress*10 + int(c-'0')
		}
		if m[1] <= lastTime || progress < lastProgress {
			t.Errorf("watch line %q after time %s and progress %d%%", l, lastTime, lastProgress)
		}
		lastTime, lastProgress = m[1], progress
		states = append(states, m[2])
	}
	return states
}

// TestCLIImportsAndImages starts two imports in two accounts through the SDK,
// one scripted to fail, and follows them with the CLI.
func TestCLIImportsAndImages(t *testing.T) {
	t.Parallel()
	srv := process.Start(t, "--profile", "quick")
	t0 := srv.FreezeRounded(t)
	golden := importImage(t, srv.Client(t, accountA, usEast1), importInput("golden", tag("team", "vdi")))
	srv.Advance(t, time.Second)
	doomed := importImage(t, srv.Client(t, accountB, euWest1), importInput("doomed",
		tag("wsim:fail-at", "GENERALIZING"), tag("wsim:error-message", "Remove the AppX packages of user1.")))
	srv.Advance(t, 10*time.Second) // golden at 11 s, doomed at 10 s

	// list: newest first, filters, JSON as the control API gives it.
	out := wsimCLI(t, srv, "imports", "list").ok(t)
	header, rows := tableRows(t, out)
	if diff := cmp.Diff([]string{"IMAGE ID", "NAME", "ACCOUNT", "REGION", "STATE", "PROGRESS", "CREATED", "ERROR"}, header); diff != "" {
		t.Errorf("imports list header (-want +got):\n%s", diff)
	}
	want := [][]string{
		{doomed, "doomed", accountB, euWest1, "IMAGE_TESTING_START", "25%", t0.Add(time.Second).UTC().Format(time.RFC3339), "-"},
		{golden, "golden", accountA, usEast1, "UPDATING_OPERATING_SYSTEM", "27%", t0.UTC().Format(time.RFC3339), "-"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("imports list (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--account", accountA}, []string{golden}},
		{[]string{"--region", euWest1}, []string{doomed}},
		{[]string{"--account", accountB, "--region", euWest1, "--state", "in-flight"}, []string{doomed}},
		{[]string{"--limit", "1"}, []string{doomed}},
		{[]string{"--limit", "5"}, []string{doomed, golden}},
	} {
		if got := column(t, wsimCLI(t, srv, append([]string{"imports", "list"}, tt.args...)...).ok(t), "IMAGE ID"); !cmp.Equal(got, tt.want) {
			t.Errorf("imports list %q = %v, want %v", tt.args, got, tt.want)
		}
	}
	if out := wsimCLI(t, srv, "imports", "list", "--state", "failed").ok(t); out != "No imports.\n" {
		t.Errorf("imports list --state failed = %q", out)
	}
	if got := wsimCLI(t, srv, "imports", "list", "--state", "PENDING").fails(t); !strings.Contains(got, `400 Bad Request: invalid pipeline filter: unknown state "PENDING"`) {
		t.Errorf("imports list --state PENDING: %q", got)
	}
	api := controlJSON(t, srv, "/_wsim/pipelines?kind=custom-import&order=newest")["pipelines"]
	if diff := cmp.Diff(api, jsonOf[any](t, wsimCLI(t, srv, "imports", "list", "-o", "json"))); diff != "" {
		t.Errorf("imports list -o json differs from /_wsim/pipelines (-api +cli):\n%s", diff)
	}
	if got := jsonOf[[]any](t, wsimCLI(t, srv, "imports", "list", "--state", "completed", "-o", "json")); got == nil || len(got) != 0 {
		t.Errorf("an empty list in JSON is %v, want []", got)
	}

	// show: the detail, and the control API's JSON as it is.
	out = wsimCLI(t, srv, "imports", "show", doomed).ok(t)
	for _, want := range []string{
		"Image ID:             " + doomed + "\n",
		"Account:              " + accountB + "\n",
		"State:                IMAGE_TESTING_START (stage 4 of 12)\n",
		"Progress:             25%\n",
		"Expected completion:  -\n",
		"Failure plan:         fails at GENERALIZING at " + t0.Add(32*time.Second).UTC().Format(time.RFC3339) +
			" with AppXPackagesInstalled: Remove the AppX packages of user1.\n",
		"\n#   STAGE                         STATUS   START                 END                   DURATION\n",
		"\n4   IMAGE_TESTING_START           current  ",
		"\n12  PUBLISHING                    skipped  -                     -                     4s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("imports show lacks %q:\n%s", want, out)
		}
	}
	item := controlJSON(t, srv, "/_wsim/pipelines?id="+golden)["pipelines"].([]any)[0]
	if diff := cmp.Diff(item, jsonOf[any](t, wsimCLI(t, srv, "imports", "show", golden, "--output", "json"))); diff != "" {
		t.Errorf("imports show -o json (-api +cli):\n%s", diff)
	}
	if got := wsimCLI(t, srv, "imports", "show", "wsi-000000000").fails(t); !strings.Contains(got, "has no import wsi-000000000 in any account or Region") {
		t.Errorf("imports show of an unknown id: %q", got)
	}

	// images list while importing.
	out = wsimCLI(t, srv, "images", "list").ok(t)
	header, rows = tableRows(t, out)
	if diff := cmp.Diff([]string{"IMAGE ID", "NAME", "ACCOUNT", "REGION", "OWNER", "STATE", "ORIGIN", "SHARED WITH", "TAGS", "CREATED"}, header); diff != "" {
		t.Errorf("images list header (-want +got):\n%s", diff)
	}
	want = [][]string{
		{doomed, "doomed", accountB, euWest1, accountB, "PENDING", "custom-import", "-",
			"wsim:error-message=Remove the AppX packages of user1.,wsim:fail-at=GENERALIZING", t0.Add(time.Second).UTC().Format(time.RFC3339)},
		{golden, "golden", accountA, usEast1, accountA, "PENDING", "custom-import", "-", "team=vdi", t0.UTC().Format(time.RFC3339)},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("images list (-want +got):\n%s", diff)
	}

	// watch: the failing one exits 1 with its error, the other one 0.
	lines, stderr, code := watchCLI(t, srv, doomed, 2*time.Second)
	states := checkWatchLines(t, doomed, lines)
	if last := lines[len(lines)-1]; code != 1 || !strings.HasSuffix(last, "  ERROR                          77%  failed at GENERALIZING: AppXPackagesInstalled") {
		t.Errorf("watch of a failing import: exit %d, last line %q", code, last)
	}
	if want := "wsim: import " + doomed + " failed at GENERALIZING: AppXPackagesInstalled: Remove the AppX packages of user1.\n"; !strings.HasSuffix(stderr, want) {
		t.Errorf("watch of a failing import: stderr %q, want it to end with %q", stderr, want)
	}
	if !strings.Contains(stderr, "the service clock is frozen") {
		t.Errorf("watch did not say the clock is frozen: %q", stderr)
	}
	if states[0] != "IMAGE_TESTING_START" || !containsInOrder(states, "UPDATING_OPERATING_SYSTEM", "GENERALIZING", "ERROR") {
		t.Errorf("watch of the failing import saw %v", states)
	}

	lines, _, code = watchCLI(t, srv, golden, 2*time.Second)
	states = checkWatchLines(t, golden, lines)
	if last := lines[len(lines)-1]; code != 0 || !strings.HasSuffix(last, "  COMPLETED                     100%") {
		t.Errorf("watch of a completing import: exit %d, last line %q", code, last)
	}
	if !containsInOrder(states, "VALIDATING", "PUBLISHING", "COMPLETED") {
		t.Errorf("watch of the completing import saw %v", states)
	}
	// Watching what has ended answers at once.
	if r := wsimCLI(t, srv, "imports", "watch", golden); r.code != 0 || !strings.HasSuffix(r.stdout, "  COMPLETED                     100%\n") {
		t.Errorf("watch of a completed import: %+v", r)
	}
	if got := wsimCLI(t, srv, "imports", "watch", "wsi-000000000", "--interval", "50ms").fails(t); !strings.Contains(got, "has no import wsi-000000000") {
		t.Errorf("watch of an unknown id: %q", got)
	}
	if got := column(t, wsimCLI(t, srv, "imports", "list").ok(t), "ERROR"); !cmp.Equal(got, []string{"AppXPackagesInstalled", "-"}) {
		t.Errorf("imports list ERROR column = %v", got)
	}
	if got := column(t, wsimCLI(t, srv, "imports", "list", "--state", "completed").ok(t), "IMAGE ID"); !cmp.Equal(got, []string{golden}) {
		t.Errorf("imports list --state completed = %v", got)
	}

	// images list with sharing: the owner's row says with whom, --shared
	// adds the image as the other account sees it.
	if _, err := srv.Client(t, accountA, usEast1).UpdateWorkspaceImagePermission(ctx(t), &workspaces.UpdateWorkspaceImagePermissionInput{
		ImageId: aws.String(golden), SharedAccountId: aws.String(accountB), AllowCopyImage: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	out = wsimCLI(t, srv, "images", "list", "--account", accountA).ok(t)
	if got := column(t, out, "SHARED WITH"); !cmp.Equal(got, []string{accountB}) {
		t.Errorf("images list --account A: SHARED WITH %v\n%s", got, out)
	}
	out = wsimCLI(t, srv, "images", "list", "--account", accountB, "--shared").ok(t)
	_, rows = tableRows(t, out)
	if len(rows) != 2 || rows[0][0] != golden || rows[0][2] != accountB || rows[0][4] != accountA || rows[0][5] != "AVAILABLE" || rows[0][6] != "shared" ||
		rows[1][0] != doomed || rows[1][5] != "ERROR" {
		t.Errorf("images list --account B --shared:\n%s", out)
	}
	if got := column(t, wsimCLI(t, srv, "images", "list", "--region", usEast1, "--shared").ok(t), "ACCOUNT"); !cmp.Equal(got, []string{accountB, accountA}) {
		t.Errorf("images list --region us-east-1 --shared: accounts %v", got)
	}
	if got := jsonOf[[]map[string]any](t, wsimCLI(t, srv, "images", "list", "--shared", "-o", "json")); len(got) != 3 ||
		got[0]["kind"] != "image-share" || got[1]["kind"] != "image" || got[1]["id"] != doomed {
		t.Errorf("images list --shared -o json = %v", got)
	}
	if out := wsimCLI(t, srv, "images", "list", "--account", "999999999999").ok(t); out != "No images.\n" {
		t.Errorf("images list of an empty account = %q", out)
	}
}

// containsInOrder reports whether want appear in got in this order.
func containsInOrder(got []string, want ...string) bool {
	for _, g := range got {
		if len(want) > 0 && g == want[0] {
			want = want[1:]
		}
	}
	return len(want) == 0
}

// TestCLIClockAndFaults moves the service clock and manages fault rules with
// the CLI, and checks an import meets the rule added.
func TestCLIClockAndFaults(t *testing.T) {
	t.Parallel()
	srv := process.Start(t)
	rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }

	out := wsimCLI(t, srv, "clock", "freeze").ok(t)
	frozen := srv.Clock(t)
	if want := "Service time:  " + rfc(frozen.Now) + "\nClock:         frozen, on real time\n"; out != want || !frozen.Frozen {
		t.Errorf("clock freeze = %q, want %q", out, want)
	}
	// The same fields as the control API; the offset of a frozen clock from
	// real time grows as real time passes.
	api, cli := controlJSON(t, srv, "/_wsim/clock"), jsonOf[map[string]any](t, wsimCLI(t, srv, "clock", "show", "-o", "json"))
	delete(api, "offsetSeconds")
	delete(cli, "offsetSeconds")
	if diff := cmp.Diff(api, cli); diff != "" {
		t.Errorf("clock show -o json (-api +cli):\n%s", diff)
	}
	if out := wsimCLI(t, srv, "clock", "advance", "90m").ok(t); !strings.HasPrefix(out, "Service time:  "+rfc(frozen.Now.Add(90*time.Minute))+"\n") {
		t.Errorf("clock advance 90m = %q", out)
	}
	at := frozen.Now.Add(24 * time.Hour).Truncate(time.Second)
	if out := wsimCLI(t, srv, "clock", "set", at.Format(time.RFC3339)).ok(t); !strings.HasPrefix(out, "Service time:  "+rfc(at)+"\nClock:         frozen, 2") {
		t.Errorf("clock set = %q", out)
	}
	if got := wsimCLI(t, srv, "clock", "set", "2001-01-01T00:00:00Z").fails(t); !strings.Contains(got, "wsim answered 400 Bad Request") {
		t.Errorf("clock set to the past: %q", got)
	}
	if got := wsimCLI(t, srv, "clock", "advance", "--", "-5m").fails(t); !strings.Contains(got, "wsim answered 400 Bad Request") {
		t.Errorf("clock advance -5m: %q", got)
	}
	if got := wsimCLI(t, srv, "clock", "advance", "soon").fails(t); !strings.Contains(got, `advance needs "by" as a duration`) {
		t.Errorf("clock advance soon: %q", got)
	}
	if now := srv.Clock(t); !now.Now.Equal(at) || !now.Frozen {
		t.Errorf("refused changes moved the clock: %+v", now)
	}
	out = wsimCLI(t, srv, "clock", "resume").ok(t)
	if !regexp.MustCompile(`^Service time:  \S+\nClock:         running, 2\dh\d+m\d+s ahead of real time\n$`).MatchString(out) {
		t.Errorf("clock resume = %q", out)
	}
	if got := jsonOf[map[string]any](t, wsimCLI(t, srv, "clock", "show", "--output=json")); got["frozen"] != false {
		t.Errorf("clock show after resume: %v", got)
	}

	// Fault rules.
	if out := wsimCLI(t, srv, "faults", "list").ok(t); out != "No fault rules.\n" {
		t.Errorf("faults list with none = %q", out)
	}
	out = wsimCLI(t, srv, "faults", "add", "--name-pattern", "nightly-*", "--fail-at", "GENERALIZING").ok(t)
	_, rows := tableRows(t, out)
	if len(rows) != 1 || !regexp.MustCompile(`^rule-[0-9a-z]{8}$`).MatchString(rows[0][0]) ||
		!cmp.Equal(rows[0][1:], []string{"custom-import", "*", "*", "nightly-*", "*", "GENERALIZING", "-", "-"}) {
		t.Errorf("faults add:\n%s", out)
	}
	first := rows[0][0]
	added := jsonOf[map[string]any](t, wsimCLI(t, srv, "faults", "add", "--account", accountA, "--region", usEast1, "--source-id", sourceAMI,
		"--kind", "custom-import", "--fail-at", "PUBLISHING", "--error-code", "UnknownError", "--error-message", "The publishing service is down.", "-o", "json"))
	second, _ := added["id"].(string)
	if diff := cmp.Diff(map[string]any{"id": second, "account": accountA, "region": usEast1, "sourceId": sourceAMI, "kind": "custom-import",
		"failAt": "PUBLISHING", "errorCode": "UnknownError", "errorMessage": "The publishing service is down."}, added); diff != "" {
		t.Errorf("faults add -o json (-want +got):\n%s", diff)
	}
	if got := column(t, wsimCLI(t, srv, "faults", "list").ok(t), "ID"); !cmp.Equal(got, []string{first, second}) {
		t.Errorf("faults list ids = %v", got)
	}
	if diff := cmp.Diff(controlJSON(t, srv, "/_wsim/faults")["rules"], jsonOf[any](t, wsimCLI(t, srv, "faults", "list", "-o", "json"))); diff != "" {
		t.Errorf("faults list -o json (-api +cli):\n%s", diff)
	}
	// The rule applies to an import started now (instant profile: failed at once).
	c := srv.Client(t, accountA, usEast1)
	id := importImage(t, c, importInput("release"))
	if got := describeImport(t, c, id); got.State != "ERROR" || len(got.ErrorDetails) != 1 || aws.ToString(got.ErrorDetails[0].ErrorCode) != "UnknownError" {
		t.Errorf("an import meeting the rule: %s %+v", got.State, got.ErrorDetails)
	}
	if got := wsimCLI(t, srv, "faults", "add", "--fail-at", "LUNCH").fails(t); !strings.Contains(got, "wsim answered 400 Bad Request") {
		t.Errorf("faults add --fail-at LUNCH: %q", got)
	}
	if got := wsimCLI(t, srv, "faults", "add", "--name-pattern", "x").fails(t); !strings.Contains(got, `required flag(s) "fail-at" not set`) {
		t.Errorf("faults add without --fail-at: %q", got)
	}
	if out := wsimCLI(t, srv, "faults", "rm", first).ok(t); out != "Removed fault rule "+first+".\n" {
		t.Errorf("faults rm = %q", out)
	}
	if got := wsimCLI(t, srv, "faults", "rm", first).fails(t); !strings.Contains(got, "no fault rule "+first) {
		t.Errorf("faults rm of a removed rule: %q", got)
	}
	if got := wsimCLI(t, srv, "faults", "rm").fails(t); !strings.Contains(got, "or --all") {
		t.Errorf("faults rm without ids: %q", got)
	}
	if out := wsimCLI(t, srv, "faults", "rm", "--all", "-o", "json").ok(t); out != "" {
		t.Errorf("faults rm --all -o json printed %q", out)
	}
	if got := jsonOf[[]any](t, wsimCLI(t, srv, "faults", "list", "-o", "json")); got == nil || len(got) != 0 {
		t.Errorf("faults list after rm --all = %v", got)
	}

	// --endpoint wins over WSIM_ENDPOINT; an unreachable wsim is explained.
	r := wsimCLI(t, srv, "clock", "show", "--endpoint", "http://127.0.0.1:1")
	if got := r.fails(t); !strings.Contains(got, "cannot reach wsim at http://127.0.0.1:1 (is `wsim serve` running?") {
		t.Errorf("an unreachable endpoint: %q", got)
	}
	cmd := process.Command(t, "clock", "show", "--endpoint", srv.URL)
	cmd.Env = append(os.Environ(), "WSIM_ENDPOINT=http://127.0.0.1:1")
	if out, err := cmd.Output(); err != nil || !strings.HasPrefix(string(out), "Service time:  ") {
		t.Errorf("--endpoint over WSIM_ENDPOINT: %v %q", err, out)
	}
}
