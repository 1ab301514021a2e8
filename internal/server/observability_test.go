package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/server"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/store"
)

// instrumented is a server over h (the failing table when nil) whose
// metrics go to a registry of their own and whose log is JSON in a buffer.
func instrumented(t *testing.T, h *api.Registry) (*server.Server, *prometheus.Registry, *bytes.Buffer) {
	t.Helper()
	if h == nil {
		h = failing()
	}
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	srv := server.New(server.Options{
		API: h, Defaults: auth.Defaults{Account: "123456789012", Region: "us-east-1"},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registry: reg,
	})
	return srv, reg, &logs
}

// requestRecords are the "request" lines of a JSON log.
func requestRecords(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "request" {
			out = append(out, rec)
		}
	}
	return out
}

// TestErrorMetricsAndLogs checks that every error rendered at the edge is
// counted by operation and code, that store errors are counted by kind, and
// that the request line names the error code.
func TestErrorMetricsAndLogs(t *testing.T) {
	tests := []struct {
		name, target, body string
		operation, code    string // "" code: success
		storeKind          string // wsim_store_errors_total kind, "" for none
	}{
		{"modelled error", "WorkspacesService.DescribeCustomWorkspaceImageImport", `{"ImageId":"wsi-123456789"}`, "DescribeCustomWorkspaceImageImport", "ResourceNotFoundException", ""},
		{"missing target", "", "{}", "-", "UnknownOperationException", ""},
		{"unknown operation", "WorkspacesService.Nope", "{}", "-", "UnknownOperationException", ""},
		{"validation", "WorkspacesService.DescribeWorkspaceImages", `{"MaxResults":26}`, "DescribeWorkspaceImages", "ValidationException", ""},
		{"serialization", "WorkspacesService.DescribeWorkspaceImages", `[1]`, "DescribeWorkspaceImages", "SerializationException", ""},
		{"not implemented", "WorkspacesService.DescribeWorkspacesPools", "{}", "DescribeWorkspacesPools", "NotImplementedException", ""},
		{"panic", "WorkspacesService.DescribeWorkspaceImages", "{}", "DescribeWorkspaceImages", "InternalFailure", server.StoreErrorInternal},
		{"internal error", "WorkspacesService.DescribeAccount", "{}", "DescribeAccount", "InternalFailure", server.StoreErrorInternal},
		{"store unavailable", "WorkspacesService.DescribeAccountModifications", "{}", "DescribeAccountModifications", "ServiceUnavailableException", server.StoreErrorUnavailable},
		{"store too slow", "WorkspacesService.DescribeWorkspaceBundles", "{}", "DescribeWorkspaceBundles", "ServiceUnavailableException", server.StoreErrorUnavailable},
		{"no error", "WorkspacesService.ListAvailableManagementCidrRanges", `{"ManagementCidrRangeConstraint":"10.0.0.0/8"}`, "ListAvailableManagementCidrRanges", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *api.Registry
			if tt.storeKind == "" {
				h = newRegistry(t)
			}
			srv, reg, logs := instrumented(t, h)
			// Twice, so that the counts are the requests' and not a constant.
			for range 2 {
				call(srv, "POST", tt.target, tt.body)
			}
			wantErrors := 0.0
			if tt.code != "" {
				wantErrors = 2
				if got := valueOf(t, reg, "wsim_api_errors_total", map[string]string{"operation": tt.operation, "code": tt.code}); got != 2 {
					t.Errorf("wsim_api_errors_total{operation=%q,code=%q} = %v, want 2", tt.operation, tt.code, got)
				}
			}
			if got := sumOf(t, reg, "wsim_api_errors_total"); got != wantErrors {
				t.Errorf("wsim_api_errors_total sums to %v, want %v", got, wantErrors)
			}
			for _, kind := range []string{server.StoreErrorUnavailable, server.StoreErrorInternal} {
				want := 0.0
				if kind == tt.storeKind {
					want = 2
				}
				if got := valueOf(t, reg, "wsim_store_errors_total", map[string]string{"kind": kind}); got != want {
					t.Errorf("wsim_store_errors_total{kind=%q} = %v, want %v", kind, got, want)
				}
			}
			recs := requestRecords(t, logs)
			if len(recs) != 2 {
				t.Fatalf("%d request lines, want 2:\n%s", len(recs), logs)
			}
			code, has := recs[0]["error_code"]
			if tt.code == "" && has || tt.code != "" && code != tt.code {
				t.Errorf("request line error_code = %v (present %v), want %q:\n%s", code, has, tt.code, logs)
			}
			if recs[0]["operation"] != tt.operation {
				t.Errorf("request line operation = %v, want %s", recs[0]["operation"], tt.operation)
			}
		})
	}
}

// newRegistry is the real dispatch table over a memory store.
func newRegistry(t *testing.T) *api.Registry {
	t.Helper()
	st, err := store.Open(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return service.New(service.Config{Now: func() time.Time { return time.Unix(1796000000, 0) }}, st).Registry()
}

// valueOf is the value of the counter name's series with exactly labels in
// reg, 0 when there is none.
func valueOf(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if maps.Equal(got, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// sumOf adds up every series of the counter name.
func sumOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestMetricsExposition checks the series at /metrics by name and help,
// the store errors at 0 before any request.
func TestMetricsExposition(t *testing.T) {
	srv, reg, _ := instrumented(t, newRegistry(t))
	want := `
# HELP wsim_store_errors_total API requests failed inside wsim: the store unavailable (503) or an internal failure (500).
# TYPE wsim_store_errors_total counter
wsim_store_errors_total{kind="internal"} 0
wsim_store_errors_total{kind="unavailable"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "wsim_store_errors_total"); err != nil {
		t.Error(err)
	}
	call(srv, "POST", "WorkspacesService.DescribeWorkspaceImages", `{"MaxResults":26}`)
	want = `
# HELP wsim_api_errors_total API requests answered with an error, by operation and error code.
# TYPE wsim_api_errors_total counter
wsim_api_errors_total{code="ValidationException",operation="DescribeWorkspaceImages"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "wsim_api_errors_total"); err != nil {
		t.Error(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, series := range []string{"wsim_api_requests_total{", "wsim_api_errors_total{", "wsim_store_errors_total{"} {
		if !strings.Contains(w.Body.String(), series) {
			t.Errorf("/metrics has no %s:\n%s", series, w.Body)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// stsResponse is either document STS answers.
type stsResponse struct {
	XMLName xml.Name
	Xmlns   string `xml:"xmlns,attr"`
	Result  struct {
		Arn, UserId, Account string
	} `xml:"GetCallerIdentityResult"`
	Metadata struct{ RequestId string } `xml:"ResponseMetadata"`
	Error    struct{ Type, Code, Message string }
	// RequestId is where an error carries it.
	RequestId string
}

// TestSTSRouting checks which requests to / are STS's: those without
// X-Amz-Target that carry an Action in a form body or a GET query; the rest
// keep the WorkSpaces answers.
func TestSTSRouting(t *testing.T) {
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	sig := func(key, service string) string {
		return "AWS4-HMAC-SHA256 Credential=" + key + "/20261130/eu-west-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	}
	tests := []struct {
		name, method, path, contentType, target, auth, body string
		status                                              int
		code                                                string // STS error code, or the __type of a JSON answer
		xml                                                 bool
		account, arn, operation                             string
	}{
		{name: "POST signed", method: "POST", contentType: form, auth: sig("111122223333", "sts"), body: "Action=GetCallerIdentity&Version=2011-06-15",
			status: 200, xml: true, account: "111122223333", arn: "arn:aws:iam::111122223333:user/wsim", operation: "GetCallerIdentity"},
		{name: "POST unsigned", method: "POST", contentType: "application/x-www-form-urlencoded", body: "Action=GetCallerIdentity&Version=2011-06-15",
			status: 200, xml: true, account: "123456789012", arn: "arn:aws:iam::123456789012:user/wsim", operation: "GetCallerIdentity"},
		{name: "other keys are the default account", method: "POST", contentType: form, auth: sig("AKIAIOSFODNN7EXAMPLE", "sts"), body: "Version=2011-06-15&Action=GetCallerIdentity",
			status: 200, xml: true, account: "123456789012", arn: "arn:aws:iam::123456789012:user/wsim", operation: "GetCallerIdentity"},
		{name: "GET query", method: "GET", path: "/?Action=GetCallerIdentity&Version=2011-06-15", auth: sig("444455556666", "sts"),
			status: 200, xml: true, account: "444455556666", arn: "arn:aws:iam::444455556666:user/wsim", operation: "GetCallerIdentity"},
		{name: "GET without Version", method: "GET", path: "/?Action=GetCallerIdentity",
			status: 200, xml: true, account: "123456789012", arn: "arn:aws:iam::123456789012:user/wsim", operation: "GetCallerIdentity"},
		{name: "Action in the query of a form POST", method: "POST", path: "/?Action=GetCallerIdentity", contentType: form, body: "Version=2011-06-15",
			status: 200, xml: true, account: "123456789012", operation: "GetCallerIdentity"},
		{name: "China partition", method: "POST", contentType: form, auth: "AWS4-HMAC-SHA256 Credential=111122223333/20261130/cn-north-1/sts/aws4_request, SignedHeaders=host, Signature=00",
			body: "Action=GetCallerIdentity&Version=2011-06-15", status: 200, xml: true, account: "111122223333", arn: "arn:aws-cn:iam::111122223333:user/wsim", operation: "GetCallerIdentity"},
		{name: "unknown action", method: "POST", contentType: form, body: "Action=AssumeRole&Version=2011-06-15", status: 400, xml: true, code: "InvalidAction", operation: "-"},
		{name: "unknown version", method: "POST", contentType: form, body: "Action=GetCallerIdentity&Version=2099-01-01", status: 400, xml: true, code: "InvalidAction", operation: "GetCallerIdentity"},
		{name: "WorkSpaces scope", method: "POST", contentType: form, auth: sig("111122223333", "workspaces"), body: "Action=GetCallerIdentity&Version=2011-06-15",
			status: 403, xml: true, code: "SignatureDoesNotMatch", operation: "-"},
		{name: "malformed signature", method: "POST", contentType: form, auth: "AWS4-HMAC-SHA256 Credential=x", body: "Action=GetCallerIdentity&Version=2011-06-15",
			status: 400, xml: true, code: "IncompleteSignature", operation: "-"},
		// Not STS: today's answers.
		{name: "JSON content type", method: "POST", contentType: "application/x-amz-json-1.1", body: "Action=GetCallerIdentity", status: 400, code: "UnknownOperationException", operation: "-"},
		{name: "form without Action", method: "POST", contentType: form, body: "Version=2011-06-15", status: 400, code: "UnknownOperationException", operation: "-"},
		{name: "form that is not a form", method: "POST", contentType: form, body: "Action=GetCallerIdentity&x=%zz", status: 400, code: "UnknownOperationException", operation: "-"},
		{name: "form over the size limit", method: "POST", contentType: form, body: "Action=GetCallerIdentity&x=" + strings.Repeat("a", 2000), status: 400, code: "UnknownOperationException", operation: "-"},
		{name: "with X-Amz-Target", method: "POST", contentType: form, target: "WorkspacesService.DescribeWorkspaceImages", body: "Action=GetCallerIdentity", status: 400, code: "SerializationException", operation: "DescribeWorkspaceImages"},
		{name: "PUT", method: "PUT", path: "/?Action=GetCallerIdentity", status: 400, code: "UnknownOperationException", operation: "-"},
		{name: "GET without Action", method: "GET", path: "/?Version=2011-06-15", status: 400, code: "UnknownOperationException", operation: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			var logs bytes.Buffer
			srv := server.New(server.Options{
				API: newRegistry(t), Defaults: auth.Defaults{Account: "123456789012", Region: "us-east-1"},
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registry: reg, MaxBodyBytes: 1 << 10,
			})
			path := tt.path
			if path == "" {
				path = "/"
			}
			r := httptest.NewRequest(tt.method, path, strings.NewReader(tt.body))
			for k, v := range map[string]string{"Content-Type": tt.contentType, "X-Amz-Target": tt.target, "Authorization": tt.auth} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			ids := w.Header()["x-amzn-RequestId"]
			if len(ids) != 1 || len(ids[0]) != 36 {
				t.Fatalf("x-amzn-RequestId = %q", ids)
			}
			id := ids[0]
			if !tt.xml {
				var body map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["__type"] != tt.code {
					t.Errorf("body = %s, want a JSON %s error", w.Body, tt.code)
				}
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type = %q, want text/xml", ct)
			}
			var doc stsResponse
			if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("body is not XML: %v\n%s", err, w.Body)
			}
			if doc.Xmlns != "https://sts.amazonaws.com/doc/2011-06-15/" {
				t.Errorf("xmlns = %q", doc.Xmlns)
			}
			recs := requestRecords(t, &logs)
			if len(recs) != 1 || recs[0]["operation"] != tt.operation || recs[0]["status"] != float64(tt.status) {
				t.Errorf("request lines %v, want one of operation %s, status %d", recs, tt.operation, tt.status)
			}
			if tt.code != "" {
				if doc.XMLName.Local != "ErrorResponse" || doc.Error.Code != tt.code || doc.Error.Type != "Sender" || doc.Error.Message == "" || doc.RequestId != id {
					t.Errorf("error document %+v, want %s from the Sender with request id %s:\n%s", doc, tt.code, id, w.Body)
				}
				if len(recs) == 1 && recs[0]["error_code"] != tt.code {
					t.Errorf("request line error_code = %v, want %s", recs[0]["error_code"], tt.code)
				}
				if got := valueOf(t, reg, "wsim_api_errors_total", map[string]string{"operation": tt.operation, "code": tt.code}); got != 1 {
					t.Errorf("wsim_api_errors_total = %v, want 1", got)
				}
				return
			}
			if doc.XMLName.Local != "GetCallerIdentityResponse" || doc.Result.Account != tt.account || doc.Metadata.RequestId != id ||
				tt.arn != "" && doc.Result.Arn != tt.arn || doc.Result.UserId != "AIDAWSIM"+tt.account {
				t.Errorf("response %+v, want account %s, ARN %s, request id %s:\n%s", doc, tt.account, tt.arn, id, w.Body)
			}
			if len(recs) == 1 && recs[0]["account"] != tt.account {
				t.Errorf("request line account = %v, want %s", recs[0]["account"], tt.account)
			}
		})
	}
}

// TestSTSFromABrowser: a browser's GET / goes to the dashboard, unless it
// asks STS something.
func TestSTSFromABrowser(t *testing.T) {
	control := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := server.New(server.Options{API: api.NewRegistry(), Control: control})
	r := httptest.NewRequest("GET", "/?Action=GetCallerIdentity", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<GetCallerIdentityResponse") {
		t.Errorf("GET /?Action=GetCallerIdentity = %d %s", w.Code, w.Body)
	}
}
