package control_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	hostile = `<script>alert("x")</script>`
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// world is a control plane over a service on the quick profile whose
// service clock stands frozen at t0, with two imports in two accounts and
// Regions; the one in account B is scripted to fail at GENERALIZING with a
// hostile message.
type world struct {
	t   *testing.T
	svc *service.Service
	h   http.Handler
	ids map[string]string
}

func newWorld(t *testing.T) *world {
	svc := servicetest.New(t, func(c *service.Config) { c.Now = func() time.Time { return t0 } }).Svc
	w := &world{t: t, svc: svc, h: control.New(svc), ids: map[string]string{}}
	w.post("/_wsim/clock", `{"action":"freeze"}`, http.StatusOK)
	w.ids["golden"] = w.importImage(acctA, "us-east-1", "golden")
	w.ids["doomed"] = w.importImage(acctB, "eu-west-1", "doomed",
		api.Tag{Key: api.String(pipeline.TagFailAt), Value: api.String("GENERALIZING")},
		api.Tag{Key: api.String(pipeline.TagErrorMessage), Value: api.String(hostile)})
	return w
}

func (w *world) importImage(account, region, name string, tags ...api.Tag) string {
	w.t.Helper()
	out, err := servicetest.Call(w.svc, api.OpImportCustomWorkspaceImage, servicetest.As(account, region), &api.ImportCustomWorkspaceImageInput{
		ImageName: api.String(name), ImageDescription: api.String("Windows 11 image"),
		ComputeType: api.String(api.ImageComputeTypeBase), Protocol: api.String(api.CustomImageProtocolDcv),
		ImageSource:                    &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: api.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/x"),
		Platform:                       api.String(api.PlatformWindows), OsVersion: api.String(api.OSVersionWindows11), Tags: tags,
	})
	if err != nil {
		w.t.Fatalf("ImportCustomWorkspaceImage(%s): %v", name, err)
	}
	return *out.ImageId
}

func (w *world) do(method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

func (w *world) post(path, body string, want int) {
	w.t.Helper()
	if rec := w.do(http.MethodPost, path, body); rec.Code != want {
		w.t.Fatalf("POST %s %s = %d %s, want %d", path, body, rec.Code, rec.Body, want)
	}
}

func (w *world) get(path string, want int) *httptest.ResponseRecorder {
	w.t.Helper()
	rec := w.do(http.MethodGet, path, "")
	if rec.Code != want {
		w.t.Fatalf("GET %s = %d %s, want %d", path, rec.Code, rec.Body, want)
	}
	return rec
}

// TestPipelinesJSON pins down the wire shape of /_wsim/pipelines.
func TestPipelinesJSON(t *testing.T) {
	w := newWorld(t)
	w.post("/_wsim/clock", `{"action":"advance","by":"31s"}`, http.StatusOK)
	rec := w.get("/_wsim/pipelines", http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var page map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if page["now"] != "2026-03-01T12:00:31Z" || page["nextToken"] != nil {
		t.Errorf("page now = %v, nextToken = %v", page["now"], page["nextToken"])
	}
	ps := page["pipelines"].([]any)
	if len(ps) != 2 {
		t.Fatalf("%d pipelines, want 2: %s", len(ps), rec.Body)
	}
	golden, doomed := ps[0].(map[string]any), ps[1].(map[string]any)
	stages := golden["stages"].([]any)
	if len(stages) != 12 {
		t.Fatalf("golden has %d stages", len(stages))
	}
	golden["stages"] = nil
	wantGolden := map[string]any{
		"kind": "custom-import", "account": acctA, "region": "us-east-1", "resourceId": w.ids["golden"],
		"name": "golden", "description": "Windows 11 image", "source": "ami-0123456789abcdef0",
		"state": "GENERALIZING", "phase": "in-flight", "message": golden["message"], "progress": 77.0, "stageIndex": 9.0,
		"stages": nil, "created": "2026-03-01T12:00:00Z", "lastUpdated": "2026-03-01T12:00:29Z",
		"expectedCompletion": "2026-03-01T12:00:40Z",
	}
	if diff := cmp.Diff(wantGolden, golden); diff != "" {
		t.Errorf("golden (-want +got):\n%s", diff)
	}
	wantStage := map[string]any{"state": "GENERALIZING", "status": "current",
		"start": "2026-03-01T12:00:29Z", "end": "2026-03-01T12:00:33Z", "durationSeconds": 4.0}
	if diff := cmp.Diff(wantStage, stages[9]); diff != "" {
		t.Errorf("golden stage 10 (-want +got):\n%s", diff)
	}
	if got := stages[10].(map[string]any)["status"]; got != "pending" {
		t.Errorf("golden stage 11 is %v", got)
	}

	if doomed["state"] != "ERROR" || doomed["phase"] != "failed" || doomed["expectedCompletion"] != nil {
		t.Errorf("doomed = %v", doomed)
	}
	wantErr := map[string]any{"code": "AppXPackagesInstalled", "message": hostile}
	if diff := cmp.Diff(wantErr, doomed["error"]); diff != "" {
		t.Errorf("doomed error (-want +got):\n%s", diff)
	}
	wantPlan := map[string]any{"stage": "GENERALIZING", "code": "AppXPackagesInstalled", "message": hostile, "at": "2026-03-01T12:00:31Z"}
	if diff := cmp.Diff(wantPlan, doomed["failurePlan"]); diff != "" {
		t.Errorf("doomed failure plan (-want +got):\n%s", diff)
	}
	if skipped := doomed["stages"].([]any)[11].(map[string]any); skipped["status"] != "skipped" || skipped["start"] != nil {
		t.Errorf("doomed's last stage = %v", skipped)
	}
}

func TestPipelinesQuery(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		query string
		want  []string // names; nil with status 400
	}{
		{"", []string{"golden", "doomed"}},
		{"?account=" + acctB, []string{"doomed"}},
		{"?region=us-east-1", []string{"golden"}},
		{"?account=" + acctA + "&region=eu-west-1", []string{}},
		{"?kind=custom-import&state=in-flight", []string{"golden", "doomed"}},
		{"?kind=copy", []string{}},
		{"?state=failed", []string{}},
		{"?limit=1", []string{"golden"}},
		{"?kind=nightly", nil},
		{"?state=PENDING", nil},
		{"?limit=0", nil},
		{"?limit=1001", nil},
		{"?limit=many", nil},
		{"?acount=" + acctA, nil},
		{"?nextToken=garbage", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if tt.want == nil {
				rec := w.get("/_wsim/pipelines"+tt.query, http.StatusBadRequest)
				if !strings.Contains(rec.Body.String(), `"error"`) {
					t.Errorf("body = %s", rec.Body)
				}
				return
			}
			var page dashboard.PipelinePage
			if err := json.Unmarshal(w.get("/_wsim/pipelines"+tt.query, http.StatusOK).Body.Bytes(), &page); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, p := range page.Pipelines {
				got = append(got, p.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// One pipeline by its id, in whichever account and Region holds it.
	for id, want := range map[string][]string{w.ids["doomed"]: {"doomed"}, "wsi-000000000": {}} {
		var page dashboard.PipelinePage
		if err := json.Unmarshal(w.get("/_wsim/pipelines?order=newest&id="+id, http.StatusOK).Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, p := range page.Pipelines {
			got = append(got, p.Name)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("id=%s (-want +got):\n%s", id, diff)
		}
	}

	// Paging: the token of the first page leads to the second and last.
	var first, second dashboard.PipelinePage
	json.Unmarshal(w.get("/_wsim/pipelines?limit=1", http.StatusOK).Body.Bytes(), &first)
	if first.NextToken == "" {
		t.Fatal("a first page of 1 of 2 has no nextToken")
	}
	json.Unmarshal(w.get("/_wsim/pipelines?limit=1&nextToken="+first.NextToken, http.StatusOK).Body.Bytes(), &second)
	if len(second.Pipelines) != 1 || second.Pipelines[0].Name != "doomed" || second.NextToken != "" {
		t.Errorf("second page = %+v", second)
	}
}

// TestDashboard checks the HTML page shows the pipelines, the clock and the
// fault rules, and escapes everything a user controls.
func TestDashboard(t *testing.T) {
	w := newWorld(t)
	w.post("/_wsim/faults", `{"namePattern":"<b>nightly-*","failAt":"PUBLISHING","errorMessage":"<img src=x onerror=alert(1)>"}`, http.StatusCreated)
	w.post("/_wsim/clock", `{"action":"advance","by":"10s"}`, http.StatusOK)

	rec := w.get("/_wsim/", http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"<th scope=\"col\">Progress and stages</th>",
		w.ids["golden"], w.ids["doomed"], ">golden<", ">doomed<",
		`<a class="mono" href="?account=` + acctA + `">` + acctA + `</a><br><a href="?account=` + acctA + `&amp;region=us-east-1">us-east-1</a>`,
		"2 pipeline(s), newest first", "2 resource(s), newest first", `data-kind="image"`,
		`<body data-events="/_wsim/events" data-version="`,
		"IMAGE_TESTING_START", `value="25"`, "Stage 4 of 12: IMAGE_TESTING_START",
		"2026-03-01 12:00:10 UTC", "<strong>frozen</strong>",
		"scripted to fail at <strong>GENERALIZING</strong> with AppXPackagesInstalled at 12:00:31 (in under a minute)",
		"&lt;b&gt;nightly-*", "&lt;img src=x onerror=alert(1)&gt;",
		`data-clock='{"action":"advance","by":"10m"}'`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	for _, bad := range []string{"<img src=x", "<b>nightly"} {
		if strings.Contains(body, bad) {
			t.Errorf("dashboard contains unescaped %q", bad)
		}
	}

	// Once failed, the hostile message is on the page, escaped.
	w.post("/_wsim/clock", `{"action":"advance","by":"30s"}`, http.StatusOK)
	body = w.get("/_wsim/?account="+acctB, http.StatusOK).Body.String()
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") || strings.Contains(body, hostile) {
		t.Errorf("the failure message is missing or unescaped")
	}
	if strings.Contains(body, ">golden<") || !strings.Contains(body, `<option value="`+"failed"+`">failed</option>`) {
		t.Errorf("the filter by account shows other accounts, or the state filter is missing")
	}
	if !strings.Contains(body, `<input name="account" value="`+acctB+`"`) {
		t.Errorf("the filter form does not show the filter")
	}

	// A refused filter is explained on the page, which keeps its controls.
	rec = w.get("/_wsim/?kind=%3Cscript%3E", http.StatusBadRequest)
	if body := rec.Body.String(); !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "unknown kind") ||
		strings.Contains(body, "<script>\"") || !strings.Contains(body, "data-clock") {
		t.Errorf("a refused filter renders as:\n%s", body)
	}
}
