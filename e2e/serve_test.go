package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/workspaces"

	"github.com/wsim/wsim/e2e/process"
)

// TestServeProcess checks what only the real binary shows: the start-up line
// on standard output, the structured log on standard error, a graceful exit
// on SIGTERM, and flags refused with a message and exit status 1.
func TestServeProcess(t *testing.T) {
	t.Parallel()
	srv := process.Start(t, "--profile", "realistic", "--log-format", "json", "--default-region", euWest1)
	if _, err := srv.Client(t, accountA, euWest1).DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if code := srv.ExitCode(); code != 0 {
		t.Errorf("after SIGTERM wsim exited with status %d, want 0", code)
	}

	logs := srv.Logs()
	addr := fmt.Sprintf("127.0.0.1:%d", srv.Port())
	startup := regexp.MustCompile(`(?m)^wsim \S+ listening on http://` + regexp.QuoteMeta(addr) +
		` \(store: in-memory store \(state is lost on exit\), profile: realistic, auth: friendly, signatures not verified, clock: running at real time\)$`)
	if !startup.MatchString(logs) {
		t.Errorf("no start-up line for %s in:\n%s", addr, logs)
	}
	var msgs []string
	for _, line := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line %q is not JSON: %v", line, err)
			continue
		}
		msg, _ := rec["msg"].(string)
		msgs = append(msgs, msg)
		switch msg {
		case "listening":
			if rec["addr"] != addr || rec["profile"] != "realistic" || !strings.Contains(fmt.Sprint(rec["store"]), "in-memory") ||
				rec["clock"] != "running at real time" || rec["byol"] != "friendly" || rec["version"] == "" || rec["stage_overrides"] != "" {
				t.Errorf("listening record = %v", rec)
			}
		case "request":
			if rec["operation"] != "DescribeWorkspaceImages" || rec["account"] != accountA || rec["region"] != euWest1 ||
				rec["status"] != float64(200) || rec["request_id"] == "" {
				t.Errorf("request record = %v", rec)
			}
		}
	}
	if want := []string{"listening", "request", "shutting down"}; strings.Join(msgs, ",") != strings.Join(want, ",") {
		t.Errorf("log records %q, want %q", msgs, want)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "leisurely"}, `wsim: --profile: unknown timing profile "leisurely"`},
		{[]string{"--stage-duration", "LUNCH=1h"}, `wsim: --stage-duration: cannot override "LUNCH"`},
		{[]string{"--byol", "lenient"}, `wsim: --byol: unknown BYOL mode "lenient"`},
		{[]string{"--store", "mongodb://x"}, `wsim: store: unknown store "mongodb://x"`},
	} {
		out, err := process.Command(t, append([]string{"serve"}, tt.args...)...).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.HasPrefix(string(out), tt.want) {
			t.Errorf("wsim serve %s: %v, output %q; want exit status 1 and %q", strings.Join(tt.args, " "), err, out, tt.want)
		}
	}
}
