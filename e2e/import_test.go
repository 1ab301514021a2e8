package e2e_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"

	"github.com/wsim/wsim/e2e/process"
)

var (
	imageIDPattern   = regexp.MustCompile(`^wsi-[0-9a-z]{9}$`)
	builderIDPattern = regexp.MustCompile(`^i-[0-9a-f]{17}$`)
)

// imageErrorCodes is the model's WorkspaceImageErrorDetailCode enum, the
// vocabulary wsim draws default failure codes from.
var imageErrorCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range types.WorkspaceImageErrorDetailCode("").Values() {
		m[string(c)] = true
	}
	return m
}()

// TestImportLifecycleInstant runs an import under the instant profile: it is
// complete as soon as it is created, and the catalogue shows it available.
func TestImportLifecycleInstant(t *testing.T) { forEachStore(t, importLifecycleInstant) }

func importLifecycleInstant(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	created := srv.FreezeRounded(t)

	in := importInput("instant-win11")
	id := importImage(t, c, in)
	if !imageIDPattern.MatchString(id) {
		t.Errorf("ImageId %q does not look like wsi- + 9 of [0-9a-z]", id)
	}

	out := describeImport(t, c, id)
	if out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("State = %q, want COMPLETED", out.State)
	}
	if p := aws.ToInt32(out.ProgressPercentage); p != 100 {
		t.Errorf("ProgressPercentage = %d, want 100", p)
	}
	if aws.ToString(out.ImageId) != id {
		t.Errorf("ImageId = %q, want %q", aws.ToString(out.ImageId), id)
	}
	if !builderIDPattern.MatchString(aws.ToString(out.ImageBuilderInstanceId)) {
		t.Errorf("ImageBuilderInstanceId = %q, want i- + 17 hex", aws.ToString(out.ImageBuilderInstanceId))
	}
	if len(out.ErrorDetails) != 0 {
		t.Errorf("ErrorDetails = %+v on a completed import", out.ErrorDetails)
	}
	if aws.ToString(out.StateMessage) == "" {
		t.Errorf("no StateMessage")
	}
	if !aws.ToTime(out.Created).Equal(created) || !aws.ToTime(out.LastUpdatedTime).Equal(created) {
		t.Errorf("Created %v, LastUpdatedTime %v, want both %v", out.Created, out.LastUpdatedTime, created)
	}
	if aws.ToString(out.InfrastructureConfigurationArn) != infraARN {
		t.Errorf("InfrastructureConfigurationArn = %q, want %q", aws.ToString(out.InfrastructureConfigurationArn), infraARN)
	}
	if src, ok := out.ImageSource.(*types.ImageSourceIdentifierMemberEc2ImageId); !ok || src.Value != sourceAMI {
		t.Errorf("ImageSource = %#v, want Ec2ImageId %s", out.ImageSource, sourceAMI)
	}

	img := catalogueImage(t, c, id)
	checks := []struct{ what, got, want string }{
		{"ImageId", aws.ToString(img.ImageId), id},
		{"Name", aws.ToString(img.Name), aws.ToString(in.ImageName)},
		{"Description", aws.ToString(img.Description), aws.ToString(in.ImageDescription)},
		{"State", string(img.State), "AVAILABLE"},
		{"RequiredTenancy", string(img.RequiredTenancy), "DEDICATED"},
		{"OwnerAccountId", aws.ToString(img.OwnerAccountId), accountA},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("catalogue %s = %q, want %q", ch.what, ch.got, ch.want)
		}
	}
	if img.OperatingSystem == nil || img.OperatingSystem.Type != types.OperatingSystemTypeWindows {
		t.Errorf("catalogue OperatingSystem = %+v, want WINDOWS", img.OperatingSystem)
	}
	if !aws.ToTime(img.Created).Equal(created) {
		t.Errorf("catalogue Created = %v, want %v", img.Created, created)
	}
	if img.ErrorCode != nil || img.ErrorMessage != nil || len(img.ErrorDetails) != 0 {
		t.Errorf("catalogue shows an error on an available image: %+v", img)
	}
}

// observation is one poll of an import under a stepped clock.
type observation struct {
	at  time.Time
	out *workspaces.DescribeCustomWorkspaceImageImportOutput
	cat types.WorkspaceImageState
}

// TestImportLifecycleRealistic walks the realistic profile minute by minute
// on a frozen clock and checks every member of the response at every step.
func TestImportLifecycleRealistic(t *testing.T) { forEachStore(t, importLifecycleRealistic) }

func importLifecycleRealistic(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "realistic")
	c := srv.Client(t, accountA, usEast1)
	start := srv.FreezeRounded(t)

	in := importInput("realistic-win11")
	in.ImageSource = &types.ImageSourceIdentifierMemberImageBuildVersionArn{Value: buildARN}
	id := importImage(t, c, in)

	var obs []observation
	now := start
	for step := 0; step <= 3*60; step++ {
		if step > 0 {
			now = srv.Advance(t, time.Minute)
		}
		out := describeImport(t, c, id)
		obs = append(obs, observation{at: now, out: out, cat: catalogueImage(t, c, id).State})
		if out.State == types.CustomWorkspaceImageImportStateCompleted {
			break
		}
	}

	var seen []types.CustomWorkspaceImageImportState
	var builder string
	prevProgress := int32(-1)
	for i, o := range obs {
		out := o.out
		state := out.State
		if len(seen) == 0 || seen[len(seen)-1] != state {
			seen = append(seen, state)
			// A stage begins on a whole minute after the start, which is when
			// this step observes it first.
			if !aws.ToTime(out.LastUpdatedTime).Equal(o.at) {
				t.Errorf("at %v: entered %s but LastUpdatedTime = %v", o.at.Sub(start), state, aws.ToTime(out.LastUpdatedTime))
			}
		} else if prev := obs[i-1].out; !aws.ToTime(out.LastUpdatedTime).Equal(aws.ToTime(prev.LastUpdatedTime)) {
			t.Errorf("at %v: LastUpdatedTime moved from %v to %v while staying in %s",
				o.at.Sub(start), aws.ToTime(prev.LastUpdatedTime), aws.ToTime(out.LastUpdatedTime), state)
		}

		p := aws.ToInt32(out.ProgressPercentage)
		if p < prevProgress {
			t.Errorf("at %v: ProgressPercentage fell from %d to %d", o.at.Sub(start), prevProgress, p)
		}
		prevProgress = p
		if (p == 100) != (state == types.CustomWorkspaceImageImportStateCompleted) {
			t.Errorf("at %v: ProgressPercentage %d in state %s", o.at.Sub(start), p, state)
		}
		if !aws.ToTime(out.Created).Equal(start) {
			t.Errorf("at %v: Created = %v, want %v", o.at.Sub(start), aws.ToTime(out.Created), start)
		}
		if msg := aws.ToString(out.StateMessage); msg == "" || len(msg) > 1000 {
			t.Errorf("at %v: StateMessage %q", o.at.Sub(start), msg)
		}
		if aws.ToString(out.InfrastructureConfigurationArn) != infraARN {
			t.Errorf("at %v: InfrastructureConfigurationArn = %q", o.at.Sub(start), aws.ToString(out.InfrastructureConfigurationArn))
		}
		if src, ok := out.ImageSource.(*types.ImageSourceIdentifierMemberImageBuildVersionArn); !ok || src.Value != buildARN {
			t.Errorf("at %v: ImageSource = %#v, want ImageBuildVersionArn %s", o.at.Sub(start), out.ImageSource, buildARN)
		}
		if len(out.ErrorDetails) != 0 {
			t.Errorf("at %v: ErrorDetails %+v on a healthy import", o.at.Sub(start), out.ErrorDetails)
		}

		hasBuilder := slices.Index(customImportStates, state) >= slices.Index(customImportStates, "IMAGE_TESTING_START")
		got := aws.ToString(out.ImageBuilderInstanceId)
		switch {
		case hasBuilder && !builderIDPattern.MatchString(got):
			t.Errorf("at %v (%s): ImageBuilderInstanceId = %q, want i- + 17 hex", o.at.Sub(start), state, got)
		case !hasBuilder && out.ImageBuilderInstanceId != nil:
			t.Errorf("at %v (%s): ImageBuilderInstanceId %q before the build instance exists", o.at.Sub(start), state, got)
		case hasBuilder && builder != "" && got != builder:
			t.Errorf("at %v: ImageBuilderInstanceId changed from %s to %s", o.at.Sub(start), builder, got)
		}
		if hasBuilder {
			builder = got
		}

		wantCat := types.WorkspaceImageStatePending
		if state == types.CustomWorkspaceImageImportStateCompleted {
			wantCat = types.WorkspaceImageStateAvailable
		}
		if o.cat != wantCat {
			t.Errorf("at %v (%s): catalogue State = %s, want %s", o.at.Sub(start), state, o.cat, wantCat)
		}
	}
	if !slices.Equal(seen, customImportStates) {
		t.Errorf("states observed in order:\n %v\nwant\n %v", seen, customImportStates)
	}
	total := obs[len(obs)-1].at.Sub(start)
	if total < 90*time.Minute || total > 3*time.Hour {
		t.Errorf("the realistic import took %v, want 90 min to 3 h", total)
	}
}

// TestImportFailsAtEveryStageInstant scripts a failure at each stage with the
// wsim:fail-at tag and checks what the import and the catalogue report.
func TestImportFailsAtEveryStageInstant(t *testing.T) {
	forEachStore(t, importFailsAtEveryStageInstant)
}

func importFailsAtEveryStageInstant(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	for _, stage := range nonTerminalStates {
		t.Run(string(stage), func(t *testing.T) {
			name := "fail-" + strings.ToLower(strings.ReplaceAll(string(stage), "_", "-"))
			id := importImage(t, c, importInput(name, tag("wsim:fail-at", string(stage))))
			out := describeImport(t, c, id)
			if out.State != types.CustomWorkspaceImageImportStateError {
				t.Fatalf("State = %s, want ERROR", out.State)
			}
			if len(out.ErrorDetails) != 1 {
				t.Fatalf("ErrorDetails = %+v, want one", out.ErrorDetails)
			}
			code, msg := aws.ToString(out.ErrorDetails[0].ErrorCode), aws.ToString(out.ErrorDetails[0].ErrorMessage)
			if !imageErrorCodes[code] {
				t.Errorf("ErrorCode %q is not in the WorkSpaces image error vocabulary", code)
			}
			if msg == "" {
				t.Errorf("empty ErrorMessage")
			}
			if sm := aws.ToString(out.StateMessage); !strings.Contains(sm, string(stage)) {
				t.Errorf("StateMessage %q does not name the stage %s", sm, stage)
			}
			if p := aws.ToInt32(out.ProgressPercentage); p >= 100 {
				t.Errorf("ProgressPercentage = %d on a failed import", p)
			}
			hasBuilder := slices.Index(customImportStates, stage) >= slices.Index(customImportStates, "IMAGE_TESTING_START")
			if (out.ImageBuilderInstanceId != nil) != hasBuilder {
				t.Errorf("ImageBuilderInstanceId = %v after failing at %s", aws.ToString(out.ImageBuilderInstanceId), stage)
			}

			img := catalogueImage(t, c, id)
			if img.State != types.WorkspaceImageStateError {
				t.Errorf("catalogue State = %s, want ERROR", img.State)
			}
			if aws.ToString(img.ErrorCode) != code || aws.ToString(img.ErrorMessage) != msg {
				t.Errorf("catalogue error %q %q, want %q %q", aws.ToString(img.ErrorCode), aws.ToString(img.ErrorMessage), code, msg)
			}
			if len(img.ErrorDetails) != 1 || string(img.ErrorDetails[0].ErrorCode) != code || aws.ToString(img.ErrorDetails[0].ErrorMessage) != msg {
				t.Errorf("catalogue ErrorDetails = %+v, want [%s %s]", img.ErrorDetails, code, msg)
			}
		})
	}
}

// TestImportFailsAtEveryStageRealistic checks on the realistic clock that a
// failure scripted at a stage happens during that stage: the import passes
// through every earlier stage, is seen in the failing one, then reports ERROR
// and stays there.
func TestImportFailsAtEveryStageRealistic(t *testing.T) {
	forEachStore(t, importFailsAtEveryStageRealistic)
}

func importFailsAtEveryStageRealistic(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "realistic")
	c := srv.Client(t, accountA, usEast1)
	start := srv.FreezeRounded(t)

	ids := map[types.CustomWorkspaceImageImportState]string{}
	for _, stage := range nonTerminalStates {
		ids[stage] = importImage(t, c, importInput("rfail-"+strings.ToLower(strings.ReplaceAll(string(stage), "_", "-")),
			tag("wsim:fail-at", string(stage)), tag("wsim:error-code", "DiskSizeExceeded")))
	}
	seen := map[types.CustomWorkspaceImageImportState][]types.CustomWorkspaceImageImportState{}
	failedAt := map[types.CustomWorkspaceImageImportState]time.Time{}
	lastProgress := map[types.CustomWorkspaceImageImportState]int32{}
	now := start
	for step := 0; step <= 160 && len(failedAt) < len(ids); step++ {
		if step > 0 {
			now = srv.Advance(t, time.Minute)
		}
		for _, stage := range nonTerminalStates {
			out := describeImport(t, c, ids[stage])
			s := seen[stage]
			if len(s) == 0 || s[len(s)-1] != out.State {
				seen[stage] = append(s, out.State)
			}
			if p := aws.ToInt32(out.ProgressPercentage); p < lastProgress[stage] {
				t.Errorf("%s: progress fell from %d to %d", stage, lastProgress[stage], p)
			} else {
				lastProgress[stage] = p
			}
			if out.State == types.CustomWorkspaceImageImportStateError {
				if _, ok := failedAt[stage]; !ok {
					failedAt[stage] = now
					if !aws.ToTime(out.LastUpdatedTime).After(now.Add(-time.Minute)) || aws.ToTime(out.LastUpdatedTime).After(now) {
						t.Errorf("%s: LastUpdatedTime %v is not the failure instant (seen at %v)", stage, aws.ToTime(out.LastUpdatedTime), now)
					}
					if len(out.ErrorDetails) != 1 || aws.ToString(out.ErrorDetails[0].ErrorCode) != "DiskSizeExceeded" {
						t.Errorf("%s: ErrorDetails = %+v, want DiskSizeExceeded", stage, out.ErrorDetails)
					}
				}
			}
		}
	}
	for i, stage := range nonTerminalStates {
		want := append(slices.Clone(customImportStates[:i+1]), types.CustomWorkspaceImageImportStateError)
		if !slices.Equal(seen[stage], want) {
			t.Errorf("fail-at %s: states observed\n %v\nwant\n %v", stage, seen[stage], want)
		}
	}
	// Nothing moves after ERROR.
	srv.Advance(t, 5*time.Hour)
	for _, stage := range nonTerminalStates {
		out := describeImport(t, c, ids[stage])
		if out.State != types.CustomWorkspaceImageImportStateError || aws.ToInt32(out.ProgressPercentage) != lastProgress[stage] {
			t.Errorf("fail-at %s: after 5 more hours State %s progress %d", stage, out.State, aws.ToInt32(out.ProgressPercentage))
		}
	}
}

// TestImportFailureWithCodeAndMessage checks wsim:error-code and
// wsim:error-message reach both APIs verbatim.
func TestImportFailureWithCodeAndMessage(t *testing.T) {
	forEachStore(t, importFailureWithCodeAndMessage)
}

func importFailureWithCodeAndMessage(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	const code, message = "AntiVirusInstalled", "Remove the antivirus software named Contoso Shield."
	id := importImage(t, c, importInput("custom-error",
		tag("wsim:fail-at", "IMAGE_COMPATIBILITY_CHECKING"),
		tag("wsim:error-code", code),
		tag("wsim:error-message", message)))
	out := describeImport(t, c, id)
	if out.State != types.CustomWorkspaceImageImportStateError || len(out.ErrorDetails) != 1 {
		t.Fatalf("State %s ErrorDetails %+v, want ERROR with one detail", out.State, out.ErrorDetails)
	}
	if got := aws.ToString(out.ErrorDetails[0].ErrorCode); got != code {
		t.Errorf("ErrorCode = %q, want %q", got, code)
	}
	if got := aws.ToString(out.ErrorDetails[0].ErrorMessage); got != message {
		t.Errorf("ErrorMessage = %q, want %q", got, message)
	}
	if sm := aws.ToString(out.StateMessage); !strings.Contains(sm, "IMAGE_COMPATIBILITY_CHECKING") || !strings.Contains(sm, message) {
		t.Errorf("StateMessage %q names neither the stage nor the message", sm)
	}
	img := catalogueImage(t, c, id)
	if aws.ToString(img.ErrorCode) != code || aws.ToString(img.ErrorMessage) != message {
		t.Errorf("catalogue error %q %q, want %q %q", aws.ToString(img.ErrorCode), aws.ToString(img.ErrorMessage), code, message)
	}

	// A code with no message gets that code's own message, not the stage's.
	id = importImage(t, c, importInput("code-only", tag("wsim:fail-at", "PENDING"), tag("wsim:error-code", "PendingReboot")))
	out = describeImport(t, c, id)
	if len(out.ErrorDetails) != 1 || aws.ToString(out.ErrorDetails[0].ErrorCode) != "PendingReboot" ||
		!strings.Contains(strings.ToLower(aws.ToString(out.ErrorDetails[0].ErrorMessage)), "reboot") &&
			!strings.Contains(strings.ToLower(aws.ToString(out.ErrorDetails[0].ErrorMessage)), "restart") {
		t.Errorf("code-only failure ErrorDetails = %+v", out.ErrorDetails)
	}
}

// TestImportFaultRules makes imports fail through server-side rules matched
// by name pattern, account and source id, and checks that tags win.
func TestImportFaultRules(t *testing.T) { forEachStore(t, importFaultRules) }

func importFaultRules(t *testing.T, store storeBackend) {
	srv := store.start(t)
	a := srv.Client(t, accountA, usEast1)
	b := srv.Client(t, accountB, usEast1)

	failed := func(t *testing.T, c *workspaces.Client, in *workspaces.ImportCustomWorkspaceImageInput) (bool, string, string) {
		t.Helper()
		out := describeImport(t, c, importImage(t, c, in))
		if out.State == types.CustomWorkspaceImageImportStateError {
			return true, aws.ToString(out.ErrorDetails[0].ErrorCode), aws.ToString(out.StateMessage)
		}
		if out.State != types.CustomWorkspaceImageImportStateCompleted {
			t.Fatalf("State = %s under the instant profile", out.State)
		}
		return false, "", ""
	}

	t.Run("name pattern", func(t *testing.T) {
		srv.AddFaultRule(t, map[string]any{"namePattern": "doomed-*", "failAt": "GENERALIZING", "errorCode": "ZeroRearmCount"})
		t.Cleanup(func() { srv.ClearFaultRules(t) })
		if f, code, sm := failed(t, a, importInput("doomed-1")); !f || code != "ZeroRearmCount" || !strings.Contains(sm, "GENERALIZING") {
			t.Errorf("doomed-1: failed=%v code=%q message=%q", f, code, sm)
		}
		if f, _, _ := failed(t, a, importInput("fine-1")); f {
			t.Errorf("fine-1 failed without a matching rule")
		}
	})
	t.Run("account", func(t *testing.T) {
		srv.AddFaultRule(t, map[string]any{"account": accountB, "failAt": "PENDING"})
		t.Cleanup(func() { srv.ClearFaultRules(t) })
		if f, code, _ := failed(t, b, importInput("acct-b")); !f || !imageErrorCodes[code] {
			t.Errorf("account B: failed=%v code=%q", f, code)
		}
		if f, _, _ := failed(t, a, importInput("acct-a")); f {
			t.Errorf("account A failed under a rule for account B")
		}
	})
	t.Run("source id", func(t *testing.T) {
		const badAMI = "ami-0fedcba9876543210"
		srv.AddFaultRule(t, map[string]any{"sourceId": badAMI, "failAt": "PROCESSING_SOURCE_IMAGE", "errorCode": "OSNotSupported"})
		t.Cleanup(func() { srv.ClearFaultRules(t) })
		in := importInput("bad-source")
		in.ImageSource = &types.ImageSourceIdentifierMemberEc2ImageId{Value: badAMI}
		if f, code, _ := failed(t, a, in); !f || code != "OSNotSupported" {
			t.Errorf("bad source: failed=%v code=%q", f, code)
		}
		if f, _, _ := failed(t, a, importInput("good-source")); f {
			t.Errorf("another source failed under a rule for %s", badAMI)
		}
	})
	t.Run("region", func(t *testing.T) {
		srv.AddFaultRule(t, map[string]any{"region": euWest1, "failAt": "VALIDATING"})
		t.Cleanup(func() { srv.ClearFaultRules(t) })
		if f, _, _ := failed(t, srv.Client(t, accountA, euWest1), importInput("in-eu")); !f {
			t.Errorf("eu-west-1 import did not fail under a rule for eu-west-1")
		}
		if f, _, _ := failed(t, a, importInput("in-us")); f {
			t.Errorf("us-east-1 import failed under a rule for eu-west-1")
		}
	})
	t.Run("tags win over rules", func(t *testing.T) {
		srv.AddFaultRule(t, map[string]any{"namePattern": "*", "failAt": "PENDING", "errorCode": "UnknownError"})
		t.Cleanup(func() { srv.ClearFaultRules(t) })
		f, code, sm := failed(t, a, importInput("tagged",
			tag("wsim:fail-at", "PUBLISHING"), tag("wsim:error-code", "InsufficientDiskSpace")))
		if !f || code != "InsufficientDiskSpace" || !strings.Contains(sm, "PUBLISHING") {
			t.Errorf("tagged import: failed=%v code=%q message=%q, want the tags' failure", f, code, sm)
		}
	})
	t.Run("cleared rules stop matching", func(t *testing.T) {
		srv.AddFaultRule(t, map[string]any{"namePattern": "*", "failAt": "PENDING"})
		srv.ClearFaultRules(t)
		if f, _, _ := failed(t, a, importInput("after-clear")); f {
			t.Errorf("an import failed after the rules were cleared")
		}
	})
	t.Run("invalid rule is refused", func(t *testing.T) {
		for _, rule := range []string{`{"failAt":"COMPLETED"}`, `{"failAt":"PENDING","account":"12"}`, `{"failAt":"PENDING","bogus":1}`, `{"failAt":"PENDING","namePattern":"["}`} {
			status, _, body := srv.Do(t, http.MethodPost, "/_wsim/faults", strings.NewReader(rule), map[string]string{"Content-Type": "application/json"})
			if status != http.StatusBadRequest {
				t.Errorf("POST /_wsim/faults %s: status %d (%s), want 400", rule, status, body)
			}
		}
	})
}

// TestImportErrors checks every error ImportCustomWorkspaceImage and
// DescribeCustomWorkspaceImageImport raise on purpose.
func TestImportErrors(t *testing.T) { forEachStore(t, importErrors) }

func importErrors(t *testing.T, store storeBackend) {
	srv := store.start(t, "--image-quota", "3")
	c := srv.Client(t, accountA, usEast1)
	first := importImage(t, c, importInput("first"))

	fiftyOne := make([]types.Tag, 51)
	for i := range fiftyOne {
		fiftyOne[i] = tag(fmt.Sprintf("k%02d", i), "v")
	}
	fifty := fiftyOne[:50]
	win11PCoIP := importInput("win11-pcoip")
	win11PCoIP.Protocol = types.CustomImageProtocolPcoip
	win10PCoIP := importInput("win10-pcoip")
	win10PCoIP.Protocol = types.CustomImageProtocolPcoip
	win10PCoIP.OsVersion = types.OSVersionWindows10

	tests := []struct {
		name      string
		in        *workspaces.ImportCustomWorkspaceImageInput
		code      string
		fragments []string
	}{
		{name: "duplicate name", in: importInput("first"), code: "ResourceAlreadyExistsException", fragments: []string{"first"}},
		{name: "Windows 11 with PCOIP", in: win11PCoIP, code: "OperationNotSupportedException", fragments: []string{"PCOIP"}},
		{name: "51 tags", in: importInput("many-tags", fiftyOne...), code: "ResourceLimitExceededException", fragments: []string{"50"}},
		{name: "aws: tag key", in: importInput("aws-tag", tag("aws:x", "v")), code: "InvalidParameterValuesException", fragments: []string{"aws:x"}},
		{name: "duplicate tag key", in: importInput("dup-tag", tag("k", "1"), tag("k", "2")), code: "InvalidParameterValuesException"},
		{name: "invalid fail-at", in: importInput("bad-fail-at", tag("wsim:fail-at", "LUNCH")), code: "InvalidParameterValuesException", fragments: []string{"LUNCH", "wsim:fail-at"}},
		{name: "fail-at a final state", in: importInput("fail-at-completed", tag("wsim:fail-at", "COMPLETED")), code: "InvalidParameterValuesException", fragments: []string{"COMPLETED"}},
		{name: "error code without fail-at", in: importInput("code-no-stage", tag("wsim:error-code", "OSNotSupported")), code: "InvalidParameterValuesException", fragments: []string{"wsim:fail-at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ImportCustomWorkspaceImage(ctx(t), tt.in)
			wantAPIError(t, err, tt.code, http.StatusBadRequest, tt.fragments...)
		})
	}

	// What was refused took no quota: two more fit, with 50 tags and with
	// Windows 10 over PCOIP, and the fourth image is over the quota of 3.
	importImage(t, c, importInput("fifty-tags", fifty...))
	importImage(t, c, win10PCoIP)
	_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("fourth"))
	wantAPIError(t, err, "ResourceLimitExceededException", http.StatusBadRequest, "3")
	// The quota is per account and Region.
	importImage(t, srv.Client(t, accountB, usEast1), importInput("fourth"))
	importImage(t, srv.Client(t, accountA, euWest1), importInput("fourth"))

	t.Run("malformed id", func(t *testing.T) {
		_, err := c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String("bad")})
		wantAPIError(t, err, "ValidationException", http.StatusBadRequest,
			"Value 'bad' at 'imageId' failed to satisfy constraint: Member must satisfy regular expression pattern: wsi-[0-9a-z]{9,63}$")
	})
	t.Run("unknown id", func(t *testing.T) {
		_, err := c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String("wsi-000000000")})
		wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, "wsi-000000000")
	})
	t.Run("known id", func(t *testing.T) {
		describeImport(t, c, first)
	})
}

// TestImportIsolation checks images belong to one account and Region.
func TestImportIsolation(t *testing.T) { forEachStore(t, importIsolation) }

func importIsolation(t *testing.T, store storeBackend) {
	srv := store.start(t)
	aUS := srv.Client(t, accountA, usEast1)
	aEU := srv.Client(t, accountA, euWest1)
	bUS := srv.Client(t, accountB, usEast1)

	id := importImage(t, aUS, importInput("golden"))
	for _, other := range []struct {
		name string
		c    *workspaces.Client
	}{{"account B", bUS}, {"eu-west-1", aEU}} {
		t.Run(other.name, func(t *testing.T) {
			_, err := other.c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
			wantAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest, id)
			out, err := other.c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Images) != 0 {
				t.Errorf("another tenant lists %d images", len(out.Images))
			}
			out, err = other.c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Images) != 0 {
				t.Errorf("another tenant finds the image by id: %+v", out.Images)
			}
			// The same name is free elsewhere.
			otherID := importImage(t, other.c, importInput("golden"))
			if otherID == id {
				t.Errorf("two tenants got the same image id %s", id)
			}
			if img := catalogueImage(t, other.c, otherID); aws.ToString(img.Name) != "golden" {
				t.Errorf("name = %q", aws.ToString(img.Name))
			}
		})
	}
	// Unsigned raw requests act for the default account, which is neither.
	status, hdr, body := srv.Raw(t, targetPrefix+"DescribeCustomWorkspaceImageImport", `{"ImageId":"`+id+`"}`, nil)
	wantRawError(t, status, hdr, body, http.StatusBadRequest, "ResourceNotFoundException")
	status, _, body = srv.Raw(t, targetPrefix+"DescribeCustomWorkspaceImageImport", `{"ImageId":"`+id+`"}`, authHeader(accountA, usEast1))
	if status != http.StatusOK {
		t.Errorf("raw describe as account A: %d %s", status, body)
	}
}

// TestDescribeWorkspaceImagesPagination walks five images two at a time.
func TestDescribeWorkspaceImagesPagination(t *testing.T) {
	forEachStore(t, describeWorkspaceImagesPagination)
}

func describeWorkspaceImagesPagination(t *testing.T, store storeBackend) {
	srv := store.start(t)
	c := srv.Client(t, accountA, usEast1)
	var ids []string
	for i := range 5 {
		ids = append(ids, importImage(t, c, importInput(fmt.Sprintf("page-%d", i))))
	}
	// Another tenant's image must not show up.
	importImage(t, srv.Client(t, accountB, usEast1), importInput("page-b"))

	var seen []string
	var pages []int
	var token *string
	for range 10 {
		out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(out.Images))
		for _, img := range out.Images {
			seen = append(seen, aws.ToString(img.ImageId))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(pages, []int{2, 2, 1}) {
		t.Errorf("page sizes = %v, want [2 2 1]", pages)
	}
	if got, want := slices.Sorted(slices.Values(seen)), slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
		t.Errorf("pages walked %v, want each of %v exactly once", seen, ids)
	}

	t.Run("ImageIds filter", func(t *testing.T) {
		want := []string{ids[1], ids[3]}
		out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{
			ImageIds: append(slices.Clone(want), "wsi-zzzzzzzzz"),
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, img := range out.Images {
			got = append(got, aws.ToString(img.ImageId))
		}
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Errorf("ImageIds filter returned %v, want %v", got, want)
		}
	})
	t.Run("ImageIds filter with MaxResults", func(t *testing.T) {
		// MaxResults is the most a page may hold, with or without ImageIds;
		// the pages together must still return each requested image once.
		var got []string
		var token *string
		for range 10 {
			out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{
				ImageIds: ids, MaxResults: aws.Int32(2), NextToken: token,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Images) > 2 {
				t.Errorf("a page of MaxResults 2 holds %d images", len(out.Images))
			}
			for _, img := range out.Images {
				got = append(got, aws.ToString(img.ImageId))
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(ids))) {
			t.Errorf("pages over ImageIds returned %v, want each of %v once", got, ids)
		}
	})
	t.Run("ImageType SHARED", func(t *testing.T) {
		out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeShared})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Images) != 0 {
			t.Errorf("SHARED lists %d images; nothing is shared", len(out.Images))
		}
	})
	t.Run("ImageType OWNED", func(t *testing.T) {
		out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageType: types.ImageTypeOwned})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Images) != 5 {
			t.Errorf("OWNED lists %d images, want 5", len(out.Images))
		}
	})
	t.Run("garbage NextToken", func(t *testing.T) {
		_, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{NextToken: aws.String("garbage")})
		wantAPIError(t, err, "ValidationException", http.StatusBadRequest, "NextToken")
	})
}

// TestRestartDurability imports into the embedded store, kills the server
// with SIGKILL, restarts it and finds the image where the clock says.
func TestRestartDurability(t *testing.T) {
	t.Parallel()
	srv := process.Start(t, "--store", "sqlite", "--data-dir", t.TempDir(), "--profile", "realistic")
	c := srv.Client(t, accountA, usEast1)
	start := srv.FreezeRounded(t)
	id := importImage(t, c, importInput("survivor", tag("team", "vdi")))
	srv.Advance(t, 30*time.Minute)
	before := describeImport(t, c, id)
	if before.State == types.CustomWorkspaceImageImportStatePending || before.State == types.CustomWorkspaceImageImportStateCompleted {
		t.Fatalf("after 30 min the import is %s; want it in flight", before.State)
	}

	srv.Kill()
	srv.Restart(t)
	c = srv.Client(t, accountA, usEast1)

	if now := srv.Now(t); !now.Equal(start.Add(30 * time.Minute)) {
		t.Errorf("after restart the clock reads %v, want the frozen %v", now, start.Add(30*time.Minute))
	}
	after := describeImport(t, c, id)
	if after.State != before.State || aws.ToInt32(after.ProgressPercentage) != aws.ToInt32(before.ProgressPercentage) ||
		!aws.ToTime(after.LastUpdatedTime).Equal(aws.ToTime(before.LastUpdatedTime)) ||
		!aws.ToTime(after.Created).Equal(start) {
		t.Errorf("after restart: %s %d%% updated %v created %v; before: %s %d%% updated %v",
			after.State, aws.ToInt32(after.ProgressPercentage), aws.ToTime(after.LastUpdatedTime), aws.ToTime(after.Created),
			before.State, aws.ToInt32(before.ProgressPercentage), aws.ToTime(before.LastUpdatedTime))
	}
	if img := catalogueImage(t, c, id); aws.ToString(img.Name) != "survivor" || img.State != types.WorkspaceImageStatePending {
		t.Errorf("catalogue after restart: %s %s", aws.ToString(img.Name), img.State)
	}
	// The name is still taken, and the import still finishes on the clock.
	_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("survivor"))
	wantAPIError(t, err, "ResourceAlreadyExistsException", http.StatusBadRequest)
	srv.Advance(t, 3*time.Hour)
	if out := describeImport(t, c, id); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("3 h later the import is %s, want COMPLETED", out.State)
	}

	// A graceful restart keeps it too.
	srv.Restart(t)
	c = srv.Client(t, accountA, usEast1)
	if out := describeImport(t, c, id); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("after a graceful restart the import is %s, want COMPLETED", out.State)
	}
}
