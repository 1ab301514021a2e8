package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"time"
)

// fixture is the account the list-* and describe-* operations read, and
// the ids of the first page of each of its listings, which the describe-*
// operations pick from.
type fixture struct {
	account string
	ids     map[string][]string // by fixtureNeeds kind
}

// Bodies of the list-* operations: a full page, asked for explicitly where
// the operation takes a page size.
var listBodies = map[string][]byte{
	OpListBundles:       []byte(`{}`),
	OpListAmazonBundles: []byte(`{"Owner":"AMAZON"}`),
	OpListDirectories:   fmt.Appendf(nil, `{"Limit":%d}`, ListPage),
	OpListWorkspaces:    fmt.Appendf(nil, `{"Limit":%d}`, ListPage),
	OpListIPGroups:      fmt.Appendf(nil, `{"MaxResults":%d}`, ListPage),
}

// byIDFields are the request members that name items for the describe-*
// operations.
var byIDFields = map[string]string{
	OpDescribeBundle:       "BundleIds",
	OpDescribeAmazonBundle: "BundleIds",
	OpDescribeDirectory:    "DirectoryIds",
	OpDescribeWorkspace:    "WorkspaceIds",
	OpDescribeIPGroup:      "GroupIds",
}

// body is the request body of op: its full page, or one of the first
// page's items by id.
func (f *fixture) body(op string, rng *mrand.Rand) []byte {
	if b, ok := listBodies[op]; ok {
		return b
	}
	ids := f.ids[fixtureNeeds[op]]
	return fmt.Appendf(nil, `{%q:[%q]}`, byIDFields[op], ids[rng.IntN(len(ids))])
}

// fixtureAccount is the last account of the prefix, which imports never
// reach (Config.normalize keeps room for it).
func fixtureAccount(gen *generator) string {
	return gen.prefix + strings.Repeat("9", 12-len(gen.prefix))
}

// syntheticFixture stands in for the fixture against the do-nothing
// handler, which answers {} whatever the ids.
func syntheticFixture(gen *generator) *fixture {
	f := &fixture{account: fixtureAccount(gen), ids: map[string][]string{}}
	for _, kind := range fixtureNeeds {
		f.ids[kind] = []string{"wsim-bench-synthetic"}
	}
	return f
}

// pollInterval is how often the fixture asks whether what it waits for
// (an image AVAILABLE, a directory REGISTERED) is there yet.
var pollInterval = 500 * time.Millisecond

// setup sends the fixture's requests as one account and records them.
type setup struct {
	c       *client
	account string
	rec     *recorder
	runID   string
}

// call sends one request and decodes a successful answer into out; a
// refusal is an error naming the operation, status, type and message.
func (s *setup) call(ctx context.Context, op string, body any, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := s.c.newTargetRequest(ctx, "WorkspacesService."+op, s.account, raw, time.Now())
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := s.c.http.Do(req)
	if err != nil {
		s.rec.add(result{latency: time.Since(start), err: err, errType: transportErrorType(err), message: err.Error()})
		return fmt.Errorf("%s: %w", op, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	res := result{status: resp.StatusCode, latency: time.Since(start), err: err}
	if err == nil && !res.ok() {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		res.errType, res.message = e.Type, e.Message
		err = fmt.Errorf("%s: status %d %s: %s", op, resp.StatusCode, e.Type, e.Message)
	}
	s.rec.add(res)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// wait polls check until it reports done, the run's time is up or it fails.
func wait(ctx context.Context, what string, check func() (bool, error)) error {
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (a server started with --profile instant has it at once)", what, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// buildFixture makes the fixture account hold FixtureSize of each kind the
// mix lists or describes, reusing what an earlier run left there, and
// returns the ids of each listing's first page.
func buildFixture(ctx context.Context, c *client, gen *generator, cfg Config) (*fixture, *OpStats, error) {
	s := &setup{c: c, account: fixtureAccount(gen), rec: newRecorder(64), runID: gen.runID}
	start := time.Now()
	need := map[string]bool{}
	for op, kind := range fixtureNeeds {
		if cfg.Mix[op] > 0 {
			need[kind] = true
		}
	}
	if need["workspaces"] {
		// WorkSpaces are launched from a public bundle into a directory.
		need["amazon-bundles"], need["directories"] = true, true
	}
	f := &fixture{account: s.account, ids: map[string][]string{}}
	// In dependency order: WorkSpaces need the others.
	for _, kind := range []string{"amazon-bundles", "ip-groups", "directories", "bundles", "workspaces"} {
		if !need[kind] {
			continue
		}
		ids, err := s.ensure(ctx, kind, f)
		if err != nil {
			stats := s.rec.stats("fixture", time.Since(start))
			return nil, &stats, fmt.Errorf("fixture account %s, %s: %w", s.account, kind, err)
		}
		f.ids[kind] = ids
	}
	stats := s.rec.stats("fixture", time.Since(start))
	return f, &stats, nil
}

// ensure makes the fixture account hold FixtureSize items of kind (the
// public bundles are there already) and returns its first page's ids.
func (s *setup) ensure(ctx context.Context, kind string, f *fixture) ([]string, error) {
	ids, full, err := s.firstPage(ctx, kind)
	if err != nil || full || kind == "amazon-bundles" {
		if err == nil && len(ids) == 0 {
			err = errors.New("the listing is empty")
		}
		return ids, err
	}
	missing := FixtureSize - len(ids)
	switch kind {
	case "ip-groups":
		for i := range missing {
			err = s.call(ctx, "CreateIpGroup", map[string]any{
				"GroupName": fmt.Sprintf("bench-%s-%d", s.runID, i), "GroupDesc": "wsim bench",
				"UserRules": []map[string]string{{"ipRule": fmt.Sprintf("10.%d.0.0/16", i), "ruleDesc": "office"}, {"ipRule": fmt.Sprintf("192.0.2.%d", i)}},
			}, nil)
			if err != nil {
				return nil, err
			}
		}
	case "directories":
		for i := range missing {
			// A Directory Service id, which wsim's friendly directories
			// mode takes as an existing directory.
			if err := s.call(ctx, "RegisterWorkspaceDirectory", map[string]any{"DirectoryId": fmt.Sprintf("d-%s%02x", s.runID, i)}, nil); err != nil {
				return nil, err
			}
		}
	case "bundles":
		if err := s.bundles(ctx, missing); err != nil {
			return nil, err
		}
	case "workspaces":
		if err := s.workspaces(ctx, f, missing); err != nil {
			return nil, err
		}
	}
	ids, full, err = s.firstPage(ctx, kind)
	if err == nil && !full {
		err = fmt.Errorf("holds %d after creating %d, want a full page of %d and more", len(ids), missing, ListPage)
	}
	return ids, err
}

// firstPage lists the first page of kind: its ids, and whether the page is
// full with more after it.
func (s *setup) firstPage(ctx context.Context, kind string) ([]string, bool, error) {
	var out struct {
		Bundles     []struct{ BundleId string }
		Directories []struct{ DirectoryId string }
		Workspaces  []struct{ WorkspaceId string }
		Result      []struct {
			GroupID string `json:"groupId"`
		}
		NextToken string
	}
	var ids []string
	switch kind {
	case "amazon-bundles", "bundles":
		op := map[string]string{"amazon-bundles": OpListAmazonBundles, "bundles": OpListBundles}[kind]
		if err := s.call(ctx, "DescribeWorkspaceBundles", json.RawMessage(listBodies[op]), &out); err != nil {
			return nil, false, err
		}
		for _, b := range out.Bundles {
			ids = append(ids, b.BundleId)
		}
	case "directories":
		if err := s.call(ctx, "DescribeWorkspaceDirectories", json.RawMessage(listBodies[OpListDirectories]), &out); err != nil {
			return nil, false, err
		}
		for _, d := range out.Directories {
			ids = append(ids, d.DirectoryId)
		}
	case "workspaces":
		if err := s.call(ctx, "DescribeWorkspaces", json.RawMessage(listBodies[OpListWorkspaces]), &out); err != nil {
			return nil, false, err
		}
		for _, w := range out.Workspaces {
			ids = append(ids, w.WorkspaceId)
		}
	case "ip-groups":
		if err := s.call(ctx, "DescribeIpGroups", json.RawMessage(listBodies[OpListIPGroups]), &out); err != nil {
			return nil, false, err
		}
		for _, g := range out.Result {
			ids = append(ids, g.GroupID)
		}
	}
	return ids, len(ids) >= ListPage && out.NextToken != "", nil
}

// bundles creates n custom bundles on an image imported for them, once it
// is AVAILABLE.
func (s *setup) bundles(ctx context.Context, n int) error {
	var imp struct{ ImageId string }
	err := s.call(ctx, "ImportCustomWorkspaceImage", map[string]any{
		"ImageName": "bench-" + s.runID + "-bundles", "ImageDescription": "wsim bench", "ComputeType": "BASE", "Protocol": "DCV",
		"ImageSource":                    map[string]string{"Ec2ImageId": "ami-0123456789abcdef0"},
		"InfrastructureConfigurationArn": "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/bench",
		"Platform":                       "WINDOWS", "OsVersion": "Windows_11",
	}, &imp)
	if err != nil {
		return err
	}
	err = wait(ctx, "image "+imp.ImageId+" to be AVAILABLE", func() (bool, error) {
		var out struct{ Images []struct{ State string } }
		if err := s.call(ctx, "DescribeWorkspaceImages", map[string]any{"ImageIds": []string{imp.ImageId}}, &out); err != nil {
			return false, err
		}
		if len(out.Images) != 1 || out.Images[0].State == "ERROR" {
			return false, fmt.Errorf("image %s is gone or failed: %+v", imp.ImageId, out.Images)
		}
		return out.Images[0].State == "AVAILABLE", nil
	})
	if err != nil {
		return err
	}
	for i := range n {
		err := s.call(ctx, "CreateWorkspaceBundle", map[string]any{
			"BundleName": fmt.Sprintf("bench-%s-%d", s.runID, i), "BundleDescription": "wsim bench", "ImageId": imp.ImageId,
			"ComputeType": map[string]string{"Name": "STANDARD"}, "UserStorage": map[string]string{"Capacity": "50"},
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// workspaces launches n WorkSpaces from the first public bundle into the
// first directory, once it is REGISTERED.
func (s *setup) workspaces(ctx context.Context, f *fixture, n int) error {
	dir, bundle := f.ids["directories"][0], f.ids["amazon-bundles"][0]
	err := wait(ctx, "directory "+dir+" to be REGISTERED", func() (bool, error) {
		var out struct{ Directories []struct{ State string } }
		if err := s.call(ctx, "DescribeWorkspaceDirectories", map[string]any{"DirectoryIds": []string{dir}}, &out); err != nil {
			return false, err
		}
		if len(out.Directories) != 1 || out.Directories[0].State == "ERROR" {
			return false, fmt.Errorf("directory %s is gone or failed: %+v", dir, out.Directories)
		}
		return out.Directories[0].State == "REGISTERED", nil
	})
	if err != nil {
		return err
	}
	for first := 0; first < n; first += ListPage {
		var reqs []map[string]string
		for i := first; i < min(n, first+ListPage); i++ {
			reqs = append(reqs, map[string]string{"DirectoryId": dir, "UserName": fmt.Sprintf("bench-%s-%d", s.runID, i), "BundleId": bundle})
		}
		var out struct {
			FailedRequests []struct{ ErrorCode, ErrorMessage string }
		}
		if err := s.call(ctx, "CreateWorkspaces", map[string]any{"Workspaces": reqs}, &out); err != nil {
			return err
		}
		if len(out.FailedRequests) > 0 {
			e := out.FailedRequests[0]
			hint := ""
			if strings.Contains(e.ErrorCode, "LimitExceeded") {
				hint = fmt.Sprintf(" (start wsim serve with --workspace-quota %d or more)", FixtureSize)
			}
			return fmt.Errorf("CreateWorkspaces refused %d of %d: %s: %s%s", len(out.FailedRequests), len(reqs), e.ErrorCode, e.ErrorMessage, hint)
		}
	}
	return nil
}
