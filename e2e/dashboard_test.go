package e2e_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

// pipelinesPage is the part of GET /_wsim/pipelines these tests read.
type pipelinesPage struct {
	Now       time.Time `json:"now"`
	Pipelines []struct {
		Kind       string `json:"kind"`
		Account    string `json:"account"`
		Region     string `json:"region"`
		ResourceID string `json:"resourceId"`
		Name       string `json:"name"`
		State      string `json:"state"`
		Phase      string `json:"phase"`
		Progress   int    `json:"progress"`
		StageIndex int    `json:"stageIndex"`
		Stages     []struct {
			State  string    `json:"state"`
			Status string    `json:"status"`
			Start  time.Time `json:"start"`
		} `json:"stages"`
		FailurePlan *struct {
			Stage string `json:"stage"`
		} `json:"failurePlan"`
	} `json:"pipelines"`
	NextToken string `json:"nextToken"`
}

func getPipelines(t *testing.T, srv *server, query string) pipelinesPage {
	t.Helper()
	status, hdr, body := srv.Do(t, http.MethodGet, "/_wsim/pipelines"+query, nil, nil)
	if status != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /_wsim/pipelines%s: %d %s: %s", query, status, hdr.Get("Content-Type"), body)
	}
	var page pipelinesPage
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("GET /_wsim/pipelines%s: %v: %s", query, err, body)
	}
	return page
}

func getDashboard(t *testing.T, srv *server, path string) string {
	t.Helper()
	status, hdr, body := srv.Do(t, http.MethodGet, path, nil, map[string]string{"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s: %s", path, status, hdr.Get("Content-Type"), body)
	}
	return string(body)
}

// TestDashboard imports in two accounts and two Regions through the SDK and
// watches the pipelines move on /_wsim/pipelines and on the dashboard as
// the service clock advances.
func TestDashboard(t *testing.T) { forEachStore(t, dashboard) }

func dashboard(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick")
	start := srv.FreezeRounded(t)
	a := srv.Client(t, accountA, usEast1)
	b := srv.Client(t, accountB, euWest1)
	golden := importImage(t, a, importInput("golden"))
	doomed := importImage(t, b, importInput("doomed", tag("wsim:fail-at", "GENERALIZING")))

	page := getPipelines(t, srv, "")
	if !page.Now.Equal(start) || len(page.Pipelines) != 2 {
		t.Fatalf("at the start: now %v, %d pipelines", page.Now, len(page.Pipelines))
	}
	// Ordered by account, then Region.
	g, d := page.Pipelines[0], page.Pipelines[1]
	if g.ResourceID != golden || g.Account != accountA || g.Region != usEast1 || g.Kind != "custom-import" ||
		g.State != "PENDING" || g.Phase != "in-flight" || g.Progress != 0 || len(g.Stages) != 12 || !g.Stages[0].Start.Equal(start) {
		t.Errorf("golden at the start = %+v", g)
	}
	if d.ResourceID != doomed || d.Account != accountB || d.Region != euWest1 || d.FailurePlan == nil || d.FailurePlan.Stage != "GENERALIZING" {
		t.Errorf("doomed at the start = %+v", d)
	}
	html := getDashboard(t, srv, "/_wsim/")
	for _, want := range []string{golden, doomed, ">golden<", ">doomed<", "<strong>frozen</strong>", "scripted to fail at <strong>GENERALIZING</strong>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}

	srv.Advance(t, 10*time.Second)
	page = getPipelines(t, srv, "?account="+accountA)
	if len(page.Pipelines) != 1 || page.Pipelines[0].State != "IMAGE_TESTING_START" || page.Pipelines[0].Progress != 25 {
		t.Fatalf("golden after 10 s = %+v", page.Pipelines)
	}
	if st := describeImport(t, a, golden).State; string(st) != page.Pipelines[0].State {
		t.Errorf("DescribeCustomWorkspaceImageImport says %s, the dashboard %s", st, page.Pipelines[0].State)
	}
	if html := getDashboard(t, srv, "/_wsim/"); !strings.Contains(html, "Stage 4 of 12: IMAGE_TESTING_START") {
		t.Errorf("the dashboard does not show golden at IMAGE_TESTING_START")
	}

	srv.Advance(t, time.Hour)
	done := getPipelines(t, srv, "?state=completed")
	failed := getPipelines(t, srv, "?state=failed&region="+euWest1)
	if len(done.Pipelines) != 1 || done.Pipelines[0].ResourceID != golden || done.Pipelines[0].State != string(types.CustomWorkspaceImageImportStateCompleted) {
		t.Errorf("completed pipelines = %+v", done.Pipelines)
	}
	if len(failed.Pipelines) != 1 || failed.Pipelines[0].ResourceID != doomed || failed.Pipelines[0].State != "ERROR" {
		t.Errorf("failed pipelines = %+v", failed.Pipelines)
	}

	// A browser opening wsim's address lands on the dashboard; an API
	// client asking the same gets the API's JSON error.
	html = getDashboard(t, srv, "/")
	if !strings.Contains(html, "AppXPackagesInstalled") || !strings.Contains(html, ">COMPLETED<") {
		t.Errorf("GET / from a browser does not show the finished pipelines")
	}
	status, hdr, body := srv.Do(t, http.MethodGet, "/", nil, map[string]string{"Accept": "application/json"})
	wantRawError(t, status, hdr, body, http.StatusBadRequest, "UnknownOperationException")

	screenshot(t, srv)
}

// screenshot loads the dashboard in headless Chromium, when there is one
// ($WSIM_CHROMIUM, else /usr/bin/chromium), and checks it renders to a
// picture; $WSIM_SCREENSHOT names a file to keep it in.
func screenshot(t *testing.T, srv *server) {
	chromium := os.Getenv("WSIM_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Log("no Chromium at " + chromium + "; not taking a screenshot")
		return
	}
	out := os.Getenv("WSIM_SCREENSHOT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "dashboard.png")
	}
	cmd := exec.CommandContext(ctx(t), chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=1400,1000", "--screenshot="+out, srv.URL+"/_wsim/")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", chromium, err, b)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if fi.Size() < 10_000 {
		t.Fatalf("screenshot %s has only %d bytes", out, fi.Size())
	}
}
