package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustProfile(t testing.TB, name string) Profile {
	t.Helper()
	p, err := LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKinds(t *testing.T) {
	want := map[Kind][]string{
		KindCustomImport: {"PENDING", "IN_PROGRESS", "PROCESSING_SOURCE_IMAGE", "IMAGE_TESTING_START",
			"UPDATING_OPERATING_SYSTEM", "IMAGE_COMPATIBILITY_CHECKING", "IMAGE_TESTING_GENERALIZATION",
			"CREATING_TEST_INSTANCE", "INSTALLING_COMPONENTS", "GENERALIZING", "VALIDATING", "PUBLISHING", "COMPLETED"},
		KindLegacyImport:        {"PENDING", "AVAILABLE"},
		KindCopy:                {"PENDING", "AVAILABLE"},
		KindUpdate:              {"PENDING", "AVAILABLE"},
		KindAccountModification: {"PENDING", "COMPLETED"},
	}
	if len(Kinds()) != len(want) {
		t.Fatalf("Kinds() = %v", Kinds())
	}
	for _, k := range Kinds() {
		got := append(k.Stages(), k.Final())
		if diff := cmp.Diff(want[k], got); diff != "" {
			t.Errorf("%s stages+final (-want +got):\n%s", k, diff)
		}
		if !k.Valid() {
			t.Errorf("%s not valid", k)
		}
	}
	// Stages must hand out a copy: callers must not be able to corrupt the table.
	KindCustomImport.Stages()[0] = "X"
	if KindCustomImport.Stages()[0] != "PENDING" {
		t.Error("Stages() exposes the internal slice")
	}
	if Kind("nope").Valid() || Kind("nope").Stages() != nil || Kind("nope").Final() != "" {
		t.Error("unknown kind looks valid")
	}
}

func TestProfileTotals(t *testing.T) {
	tests := []struct {
		profile string
		kind    Kind
		want    time.Duration
	}{
		{ProfileRealistic, KindCustomImport, 150 * time.Minute},
		{ProfileRealistic, KindLegacyImport, 100 * time.Minute},
		{ProfileRealistic, KindCopy, 20 * time.Minute},
		{ProfileRealistic, KindUpdate, 60 * time.Minute},
		{ProfileRealistic, KindAccountModification, 10 * time.Minute},
		{ProfileQuick, KindCustomImport, 40 * time.Second},
		{ProfileQuick, KindLegacyImport, 20 * time.Second},
		{ProfileQuick, KindCopy, 10 * time.Second},
		{ProfileQuick, KindUpdate, 15 * time.Second},
		{ProfileQuick, KindAccountModification, 5 * time.Second},
		{ProfileInstant, KindCustomImport, 0},
		{ProfileInstant, KindCopy, 0},
	}
	for _, tt := range tests {
		p := mustProfile(t, tt.profile)
		if got := p.Total(tt.kind); got != tt.want {
			t.Errorf("%s %s: Total = %v, want %v", tt.profile, tt.kind, got, tt.want)
		}
		plan := p.Plan(tt.kind, t0, nil)
		if got := plan.total(); got != tt.want {
			t.Errorf("%s %s: plan total = %v, want %v", tt.profile, tt.kind, got, tt.want)
		}
	}
	// Every quick stage must be visible when polled every second.
	q := mustProfile(t, ProfileQuick)
	for _, k := range Kinds() {
		for _, s := range k.Stages() {
			if d := q.Duration(k, s); d < 2*time.Second {
				t.Errorf("quick %s %s = %v, want >= 2s", k, s, d)
			}
		}
	}
}

// TestAtBoundaries checks every stage boundary of every kind in every profile.
func TestAtBoundaries(t *testing.T) {
	for _, name := range ProfileNames() {
		for _, kind := range Kinds() {
			t.Run(name+"/"+string(kind), func(t *testing.T) {
				plan := mustProfile(t, name).Plan(kind, t0, nil)
				var off time.Duration
				for i, s := range plan.Stages {
					if s.Duration > 0 {
						for _, at := range []time.Duration{off, off + s.Duration/2, off + s.Duration - 1} {
							st := plan.At(t0.Add(at))
							if st.State != s.State || st.StageIndex != i || st.Done || st.Failed {
								t.Errorf("at +%v: got %s/%d done=%v, want %s/%d", at, st.State, st.StageIndex, st.Done, s.State, i)
							}
							if !st.LastUpdated.Equal(t0.Add(off)) {
								t.Errorf("at +%v: LastUpdated = %v, want %v", at, st.LastUpdated, t0.Add(off))
							}
							if st.Progress > 99 {
								t.Errorf("at +%v: progress %d before final", at, st.Progress)
							}
						}
					}
					off += s.Duration
				}
				final := plan.At(t0.Add(off))
				want := Status{
					State:           kind.Final(),
					StageIndex:      len(plan.Stages),
					Progress:        100,
					Message:         StateMessage(kind, kind.Final()),
					LastUpdated:     t0.Add(off),
					Done:            true,
					BuilderInstance: kind == KindCustomImport,
				}
				if diff := cmp.Diff(want, final); diff != "" {
					t.Errorf("at total (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, plan.At(t0.Add(off+1000*time.Hour))); diff != "" {
					t.Errorf("long after total (-want +got):\n%s", diff)
				}
				if name == ProfileInstant && !plan.At(t0).Done {
					t.Errorf("instant: not final at Start")
				}
			})
		}
	}
}

func TestAtFirstStage(t *testing.T) {
	plan := mustProfile(t, ProfileRealistic).Plan(KindCustomImport, t0, nil)
	want := Status{
		State:       "PENDING",
		Progress:    0,
		Message:     "The image import request was received and is waiting to start.",
		LastUpdated: t0,
	}
	for _, now := range []time.Time{t0, t0.Add(-time.Hour), t0.Add(-1), {}} {
		if diff := cmp.Diff(want, plan.At(now)); diff != "" {
			t.Errorf("At(%v) (-want +got):\n%s", now, diff)
		}
	}
	// 1% of 150 minutes is 90 seconds.
	if got := plan.At(t0.Add(90*time.Second - 1)).Progress; got != 0 {
		t.Errorf("progress just before 1%% = %d", got)
	}
	if got := plan.At(t0.Add(90 * time.Second)).Progress; got != 1 {
		t.Errorf("progress at 1%% = %d", got)
	}
	if got := plan.At(t0.Add(150*time.Minute - 1)).Progress; got != 99 {
		t.Errorf("progress just before final = %d", got)
	}
}

// sweep samples plan at n+1 evenly spaced instants from before Start to
// after the end, plus every stage boundary and failure instant ±1ns.
func sweep(plan Plan, n int) []time.Time {
	total := plan.total()
	span := total + total/5 + time.Second
	var ts []time.Time
	for i := 0; i <= n; i++ {
		ts = append(ts, t0.Add(-time.Second+span*time.Duration(i)/time.Duration(n)))
	}
	var off time.Duration
	for _, s := range plan.Stages {
		ts = append(ts, t0.Add(off-1), t0.Add(off), t0.Add(off+s.Duration/2), t0.Add(off+s.Duration/2-1))
		off += s.Duration
	}
	ts = append(ts, t0.Add(total-1), t0.Add(total), t0.Add(total+1))
	sortTimes(ts)
	return ts
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// TestMonotone checks, over a fine sweep, that nothing goes backwards and
// that 100 means Final, for every kind, profile and failure stage.
func TestMonotone(t *testing.T) {
	for _, name := range ProfileNames() {
		for _, kind := range Kinds() {
			failures := []*Failure{nil}
			for _, s := range kind.Stages() {
				failures = append(failures, &Failure{Stage: s})
			}
			for _, f := range failures {
				plan := mustProfile(t, name).Plan(kind, t0, f)
				var prev Status
				for i, now := range sweep(plan, 3000) {
					st := plan.At(now)
					if st.Message == "" || len([]rune(st.Message)) > maxMessage {
						t.Fatalf("%s %s %v at %v: bad message %q", name, kind, f, now, st.Message)
					}
					if (st.Progress == 100) != (st.State == kind.Final()) {
						t.Fatalf("%s %s %v at %v: progress %d in state %s", name, kind, f, now, st.Progress, st.State)
					}
					if st.Done != (st.State == kind.Final() || st.State == StateError) {
						t.Fatalf("%s %s at %v: Done=%v in %s", name, kind, now, st.Done, st.State)
					}
					if i > 0 {
						if st.Progress < prev.Progress || st.LastUpdated.Before(prev.LastUpdated) ||
							st.StageIndex < prev.StageIndex || (prev.Done && st != prev) ||
							(prev.BuilderInstance && !st.BuilderInstance) {
							t.Fatalf("%s %s %v: went backwards at %v:\nprev %+v\nnow  %+v", name, kind, f, now, prev, st)
						}
					}
					prev = st
				}
				if f != nil && !prev.Failed {
					t.Errorf("%s %s %v: never failed", name, kind, f)
				}
			}
		}
	}
}

// TestFailureEveryStage scripts a failure at each stage of each kind.
func TestFailureEveryStage(t *testing.T) {
	for _, name := range ProfileNames() {
		prof := mustProfile(t, name)
		for _, kind := range Kinds() {
			for k, stage := range kind.Stages() {
				t.Run(fmt.Sprintf("%s/%s/%s", name, kind, stage), func(t *testing.T) {
					plan := prof.Plan(kind, t0, &Failure{Stage: stage})
					def := DefaultFailure(kind, stage)
					if diff := cmp.Diff(&def, plan.Failure); diff != "" {
						t.Errorf("stored failure (-want +got):\n%s", diff)
					}
					off := plan.offset(k)
					d := plan.Stages[k].Duration
					failAt := t0.Add(off + d/2)
					if d/2 > 0 {
						before := plan.At(failAt.Add(-1))
						if before.State != stage || before.Failed {
							t.Errorf("just before the midpoint: state %s failed=%v, want %s", before.State, before.Failed, stage)
						}
					}
					wantProgress := 0
					if total := plan.total(); total > 0 {
						wantProgress = int(100 * int64(off+d/2) / int64(total))
					}
					builderIdx := stageIndex(kind.Stages(), kinds[KindCustomImport].BuilderStage)
					want := Status{
						State:           StateError,
						StageIndex:      k,
						Progress:        wantProgress,
						Message:         fmt.Sprintf("The %s failed during %s: %s", kind.noun(), stage, def.Message),
						LastUpdated:     failAt,
						Done:            true,
						Failed:          true,
						ErrorCode:       def.Code,
						ErrorMessage:    def.Message,
						BuilderInstance: builderIdx >= 0 && k >= builderIdx,
					}
					for _, now := range []time.Time{failAt, failAt.Add(time.Nanosecond), failAt.Add(d), t0.Add(10000 * time.Hour)} {
						if diff := cmp.Diff(want, plan.At(now)); diff != "" {
							t.Errorf("At(+%v) (-want +got):\n%s", now.Sub(t0), diff)
						}
					}
				})
			}
		}
	}
}

func TestFailureCustomCodeAndMessage(t *testing.T) {
	prof := mustProfile(t, ProfileQuick)
	tests := []struct {
		name     string
		in       Failure
		wantCode string
		wantMsg  string
	}{
		{"both", Failure{Stage: "GENERALIZING", Code: "ReservedStorageInUse", Message: "boom"}, "ReservedStorageInUse", "boom"},
		{"code only, known", Failure{Stage: "GENERALIZING", Code: "ReservedStorageInUse"}, "ReservedStorageInUse", codeMessages["ReservedStorageInUse"]},
		{"code only, unknown", Failure{Stage: "GENERALIZING", Code: "Custom.Thing"}, "Custom.Thing", "The image import failed with error code Custom.Thing."},
		{"message only", Failure{Stage: "GENERALIZING", Message: "custom"}, "AppXPackagesInstalled", "custom"},
		{"neither", Failure{Stage: "GENERALIZING"}, "AppXPackagesInstalled", codeMessages["AppXPackagesInstalled"]},
	}
	for _, tt := range tests {
		// A hand-built plan relies on At's defaulting, a profile plan on Plan's.
		hand := prof.Plan(KindCustomImport, t0, nil)
		f := tt.in
		hand.Failure = &f
		for _, plan := range []Plan{prof.Plan(KindCustomImport, t0, &tt.in), hand} {
			st := plan.At(t0.Add(time.Hour))
			if st.ErrorCode != tt.wantCode || st.ErrorMessage != tt.wantMsg {
				t.Errorf("%s: got %q %q, want %q %q", tt.name, st.ErrorCode, st.ErrorMessage, tt.wantCode, tt.wantMsg)
			}
			if !strings.Contains(st.Message, "GENERALIZING") || !strings.Contains(st.Message, tt.wantMsg) {
				t.Errorf("%s: message %q does not name stage and error", tt.name, st.Message)
			}
		}
	}
}

func TestFailureUnknownStageIgnored(t *testing.T) {
	plan := mustProfile(t, ProfileQuick).Plan(KindCopy, t0, nil)
	plan.Failure = &Failure{Stage: "GENERALIZING"}
	if st := plan.At(t0.Add(time.Hour)); st.State != "AVAILABLE" || st.Failed {
		t.Errorf("got %+v", st)
	}
}

func TestBuilderInstance(t *testing.T) {
	plan := mustProfile(t, ProfileRealistic).Plan(KindCustomImport, t0, nil)
	for i, s := range plan.Stages {
		st := plan.At(t0.Add(plan.offset(i)))
		if want := i >= 3; st.BuilderInstance != want {
			t.Errorf("%s: BuilderInstance = %v, want %v", s.State, st.BuilderInstance, want)
		}
	}
	if !plan.At(t0.Add(plan.total())).BuilderInstance {
		t.Error("COMPLETED: no builder instance")
	}
	for _, k := range []Kind{KindLegacyImport, KindCopy, KindUpdate, KindAccountModification} {
		p := mustProfile(t, ProfileQuick).Plan(k, t0, nil)
		if p.At(t0).BuilderInstance || p.At(t0.Add(time.Hour)).BuilderInstance {
			t.Errorf("%s has a builder instance", k)
		}
	}
}

// TestZeroLengthStages checks that instant stages are passed through and
// that LastUpdated is the start of the stage actually shown.
func TestZeroLengthStages(t *testing.T) {
	p := mustProfile(t, ProfileInstant)
	p, err := ParseOverrides(p, []string{"UPDATING_OPERATING_SYSTEM=10m", "GENERALIZING=4m"})
	if err != nil {
		t.Fatal(err)
	}
	plan := p.Plan(KindCustomImport, t0, nil)
	tests := []struct {
		at          time.Duration
		state       string
		lastUpdated time.Duration
		progress    int
	}{
		{-time.Minute, "UPDATING_OPERATING_SYSTEM", 0, 0},
		{0, "UPDATING_OPERATING_SYSTEM", 0, 0},
		{7 * time.Minute, "UPDATING_OPERATING_SYSTEM", 0, 50},
		{10 * time.Minute, "GENERALIZING", 10 * time.Minute, 71},
		{14*time.Minute - 1, "GENERALIZING", 10 * time.Minute, 99},
		{14 * time.Minute, "COMPLETED", 14 * time.Minute, 100},
	}
	for _, tt := range tests {
		st := plan.At(t0.Add(tt.at))
		if st.State != tt.state || !st.LastUpdated.Equal(t0.Add(tt.lastUpdated)) || st.Progress != tt.progress {
			t.Errorf("at %v: got %s %v %d, want %s %v %d", tt.at, st.State, st.LastUpdated.Sub(t0), st.Progress,
				tt.state, tt.lastUpdated, tt.progress)
		}
	}
	// A failure in a zero-length stage happens when the stage is entered.
	plan = p.Plan(KindCustomImport, t0, &Failure{Stage: "VALIDATING"})
	if st := plan.At(t0.Add(14*time.Minute - 1)); st.State != "GENERALIZING" {
		t.Errorf("before VALIDATING: %s", st.State)
	}
	if st := plan.At(t0.Add(14 * time.Minute)); st.State != StateError || st.Progress != 99 || st.StageIndex != 10 {
		t.Errorf("entering VALIDATING: %+v", st)
	}
}

func TestHugeDurations(t *testing.T) {
	plan := Plan{Kind: KindCopy, Start: t0, Final: "AVAILABLE", Stages: []Stage{
		{"A", maxDuration / 2}, {"B", maxDuration / 2}, {"C", maxDuration}, {"D", -time.Hour},
	}}
	prev := -1
	for _, at := range []time.Duration{0, time.Hour, maxDuration / 4, maxDuration/2 - 1, maxDuration / 2, maxDuration - 2, maxDuration - 1} {
		st := plan.At(t0.Add(at))
		if st.Progress < prev || st.Progress > 99 {
			t.Errorf("at %v: progress %d after %d", at, st.Progress, prev)
		}
		prev = st.Progress
	}
	if got := plan.At(t0.Add(maxDuration/2 - 1)).Progress; got != 49 {
		t.Errorf("progress near half = %d, want 49", got)
	}
}

func TestPlanJSONRoundTrip(t *testing.T) {
	plan := mustProfile(t, ProfileQuick).Plan(KindCustomImport, t0, &Failure{Stage: "VALIDATING", Code: "X"})
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	var got Plan
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, now := range sweep(plan, 200) {
		if diff := cmp.Diff(plan.At(now), got.At(now)); diff != "" {
			t.Fatalf("decoded plan differs at %v:\n%s", now, diff)
		}
	}
}

func TestLookupProfile(t *testing.T) {
	for _, n := range ProfileNames() {
		p, err := LookupProfile(n)
		if err != nil || p.Name != n {
			t.Errorf("LookupProfile(%q) = %v, %v", n, p.Name, err)
		}
	}
	if _, err := LookupProfile(DefaultProfile); err != nil {
		t.Error(err)
	}
	for _, n := range []string{"", "Quick", "fast"} {
		_, err := LookupProfile(n)
		if err == nil {
			t.Errorf("LookupProfile(%q): no error", n)
			continue
		}
		for _, v := range ProfileNames() {
			if !strings.Contains(err.Error(), v) {
				t.Errorf("LookupProfile(%q) error %q does not name %q", n, err, v)
			}
		}
	}
}

func TestOverrides(t *testing.T) {
	base := mustProfile(t, ProfileQuick)
	p, err := base.WithOverride("PENDING", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds() {
		if d := p.Duration(k, "PENDING"); d != time.Minute {
			t.Errorf("%s PENDING = %v after override", k, d)
		}
	}
	if d := base.Duration(KindCopy, "PENDING"); d != 10*time.Second {
		t.Errorf("override changed the original profile: %v", d)
	}
	if got := p.Total(KindCustomImport); got != 40*time.Second-2*time.Second+time.Minute {
		t.Errorf("custom total = %v", got)
	}
	if o := p.Overrides(); len(o) != 1 || o["PENDING"] != time.Minute {
		t.Errorf("Overrides() = %v, want PENDING=1m", o)
	}
	p.Overrides()["PENDING"] = time.Hour // a copy: changes nothing
	if d := p.Duration(KindCopy, "PENDING"); d != time.Minute {
		t.Errorf("changing what Overrides returned changed the profile: %v", d)
	}
	if o := base.Overrides(); len(o) != 0 {
		t.Errorf("base Overrides() = %v, want none", o)
	}

	tests := []struct {
		spec    []string
		want    map[string]time.Duration // stage -> custom-import duration
		wantErr string
	}{
		{spec: nil, want: map[string]time.Duration{"GENERALIZING": 4 * time.Second}},
		{spec: []string{"GENERALIZING=1m", "PENDING=0s"}, want: map[string]time.Duration{"GENERALIZING": time.Minute, "PENDING": 0}},
		{spec: []string{" GENERALIZING = 1m30s , VALIDATING=2s,"}, want: map[string]time.Duration{"GENERALIZING": 90 * time.Second, "VALIDATING": 2 * time.Second}},
		{spec: []string{"GENERALIZING=1m", "GENERALIZING=2m"}, want: map[string]time.Duration{"GENERALIZING": 2 * time.Minute}},
		{spec: []string{"GENERALIZING"}, wantErr: "STAGE=DURATION"},
		{spec: []string{"GENERALIZING=soon"}, wantErr: "invalid duration"},
		{spec: []string{"GENERALIZING=-1s"}, wantErr: "negative"},
		{spec: []string{"GENERALIZING=9000h"}, wantErr: "maximum"},
		{spec: []string{"generalizing=1s"}, wantErr: "valid stages are PENDING, IN_PROGRESS"},
		{spec: []string{"COMPLETED=1s"}, wantErr: "not a stage"},
		{spec: []string{"ERROR=1s"}, wantErr: "not a stage"},
		{spec: []string{"AVAILABLE=1s"}, wantErr: "not a stage"},
	}
	for _, tt := range tests {
		got, err := ParseOverrides(base, tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseOverrides(%q) error = %v, want containing %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseOverrides(%q): %v", tt.spec, err)
			continue
		}
		for stage, d := range tt.want {
			if g := got.Duration(KindCustomImport, stage); g != d {
				t.Errorf("ParseOverrides(%q): %s = %v, want %v", tt.spec, stage, g, d)
			}
		}
	}

	// The zero Profile is instant, and overrides still apply.
	var zero Profile
	if zero.Total(KindCustomImport) != 0 {
		t.Error("zero profile not instant")
	}
	z, err := zero.WithOverride("PUBLISHING", time.Second)
	if err != nil || z.Total(KindCustomImport) != time.Second {
		t.Errorf("zero profile override: %v %v", z.Total(KindCustomImport), err)
	}
}

func TestParseFailureTags(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		tags    map[string]string
		want    *Failure
		wantErr string
	}{
		{name: "no tags", kind: KindCustomImport},
		{name: "unrelated tags", kind: KindCustomImport, tags: map[string]string{"team": "a"}},
		{name: "stage only", kind: KindCustomImport, tags: map[string]string{TagFailAt: "GENERALIZING"},
			want: &Failure{"GENERALIZING", "AppXPackagesInstalled", codeMessages["AppXPackagesInstalled"]}},
		{name: "all three", kind: KindCustomImport,
			tags: map[string]string{TagFailAt: "VALIDATING", TagErrorCode: "InvalidIp", TagErrorMessage: "nope"},
			want: &Failure{"VALIDATING", "InvalidIp", "nope"}},
		{name: "empty code is default", kind: KindCustomImport,
			tags: map[string]string{TagFailAt: "PUBLISHING", TagErrorCode: ""},
			want: &Failure{"PUBLISHING", "UnknownError", codeMessages["UnknownError"]}},
		{name: "copy", kind: KindCopy, tags: map[string]string{TagFailAt: "PENDING"},
			want: &Failure{"PENDING", "UnknownError", kinds[KindCopy].FailureMessage}},
		{name: "legacy", kind: KindLegacyImport, tags: map[string]string{TagFailAt: "PENDING"},
			want: &Failure{"PENDING", "OSNotSupported", codeMessages["OSNotSupported"]}},
		{name: "lowercase stage", kind: KindCustomImport, tags: map[string]string{TagFailAt: "generalizing"},
			wantErr: "valid stages are PENDING, IN_PROGRESS, PROCESSING_SOURCE_IMAGE"},
		{name: "final", kind: KindCustomImport, tags: map[string]string{TagFailAt: "COMPLETED"}, wantErr: "not a stage"},
		{name: "error state", kind: KindCustomImport, tags: map[string]string{TagFailAt: "ERROR"}, wantErr: "not a stage"},
		{name: "stage of another kind", kind: KindCopy, tags: map[string]string{TagFailAt: "GENERALIZING"},
			wantErr: "valid stages are PENDING"},
		{name: "empty stage", kind: KindCustomImport, tags: map[string]string{TagFailAt: ""}, wantErr: "not a stage"},
		{name: "code alone", kind: KindCustomImport, tags: map[string]string{TagErrorCode: "X"}, wantErr: TagFailAt},
		{name: "message alone", kind: KindCustomImport, tags: map[string]string{TagErrorMessage: "X"}, wantErr: TagFailAt},
		{name: "long code", kind: KindCustomImport,
			tags: map[string]string{TagFailAt: "PENDING", TagErrorCode: strings.Repeat("x", 257)}, wantErr: "maximum is 256"},
		{name: "unknown kind", kind: "nope", tags: map[string]string{TagFailAt: "PENDING"}, wantErr: "unknown operation kind"},
	}
	for _, tt := range tests {
		got, err := ParseFailureTags(tt.kind, tt.tags)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v, want containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestFaultRuleValidate(t *testing.T) {
	tests := []struct {
		name    string
		rule    FaultRule
		wantErr string
	}{
		{name: "minimal", rule: FaultRule{FailAt: "GENERALIZING"}},
		{name: "full", rule: FaultRule{Account: "123456789012", Region: "us-east-1", NamePattern: "win11-*",
			SourceID: "ami-0123456789abcdef0", Kind: KindCustomImport, FailAt: "VALIDATING", ErrorCode: "InvalidIp", ErrorMessage: "m"}},
		{name: "copy", rule: FaultRule{Kind: KindCopy, FailAt: "PENDING"}},
		{name: "no stage", rule: FaultRule{}, wantErr: "not a stage"},
		{name: "stage of other kind", rule: FaultRule{Kind: KindCopy, FailAt: "GENERALIZING"}, wantErr: "valid stages are PENDING"},
		{name: "default kind has no AVAILABLE", rule: FaultRule{FailAt: "AVAILABLE"}, wantErr: "not a stage of custom-import"},
		{name: "bad kind", rule: FaultRule{Kind: "import", FailAt: "PENDING"}, wantErr: "valid kinds are custom-import"},
		{name: "bad pattern", rule: FaultRule{NamePattern: "win[", FailAt: "PENDING"}, wantErr: "syntax error in pattern"},
		{name: "bad pattern after mismatch", rule: FaultRule{NamePattern: "a[", FailAt: "PENDING"}, wantErr: "syntax error in pattern"},
		{name: "bad account", rule: FaultRule{Account: "12345", FailAt: "PENDING"}, wantErr: "12-digit"},
		{name: "source of an account modification", rule: FaultRule{Kind: KindAccountModification, SourceID: "ami-0123456789abcdef0", FailAt: "PENDING"},
			wantErr: "account modifications have no source"},
		{name: "long message", rule: FaultRule{FailAt: "PENDING", ErrorMessage: strings.Repeat("é", 2049)}, wantErr: "maximum is 2048"},
	}
	for _, tt := range tests {
		err := tt.rule.Validate()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestFaultRuleMatches(t *testing.T) {
	subj := Subject{Kind: KindCustomImport, Account: "123456789012", Region: "eu-west-1", Name: "win11-golden", SourceID: "ami-0123456789abcdef0"}
	tests := []struct {
		name string
		rule FaultRule
		subj Subject
		want bool
	}{
		{"empty rule matches custom import", FaultRule{FailAt: "PENDING"}, subj, true},
		{"empty subject kind is custom import", FaultRule{FailAt: "PENDING"}, Subject{Name: "x"}, true},
		{"empty rule kind does not match copy", FaultRule{FailAt: "PENDING"}, Subject{Kind: KindCopy}, false},
		{"copy rule matches copy", FaultRule{Kind: KindCopy, FailAt: "PENDING"}, Subject{Kind: KindCopy}, true},
		{"account", FaultRule{Account: "123456789012"}, subj, true},
		{"other account", FaultRule{Account: "000000000000"}, subj, false},
		{"region", FaultRule{Region: "eu-west-1"}, subj, true},
		{"other region", FaultRule{Region: "us-east-1"}, subj, false},
		{"glob", FaultRule{NamePattern: "win11-*"}, subj, true},
		{"glob class", FaultRule{NamePattern: "win1[01]-golden"}, subj, true},
		{"glob mismatch", FaultRule{NamePattern: "win10-*"}, subj, false},
		{"glob is anchored", FaultRule{NamePattern: "golden"}, subj, false},
		{"bad glob", FaultRule{NamePattern: "win["}, subj, false},
		{"source", FaultRule{SourceID: "ami-0123456789abcdef0"}, subj, true},
		{"other source", FaultRule{SourceID: "ami-00000000"}, subj, false},
		{"all fields", FaultRule{Account: "123456789012", Region: "eu-west-1", NamePattern: "*", SourceID: "ami-0123456789abcdef0", Kind: KindCustomImport}, subj, true},
		{"one field off", FaultRule{Account: "123456789012", Region: "eu-west-2", NamePattern: "*"}, subj, false},
	}
	for _, tt := range tests {
		if got := tt.rule.Matches(tt.subj); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMatchFailure(t *testing.T) {
	rules := []FaultRule{
		{ID: "1", Region: "us-east-1", FailAt: "PUBLISHING"},
		{ID: "2", NamePattern: "bad-*", FailAt: "NOT_A_STAGE"},
		{ID: "3", NamePattern: "bad-*", FailAt: "GENERALIZING", ErrorCode: "ReservedStorageInUse"},
		{ID: "4", NamePattern: "bad-*", FailAt: "VALIDATING"},
		{ID: "5", Kind: KindCopy, FailAt: "PENDING", ErrorMessage: "copy broke"},
	}
	tests := []struct {
		name string
		subj Subject
		want *Failure
	}{
		{"no match", Subject{Name: "good", Region: "eu-west-1"}, nil},
		{"first wins", Subject{Name: "bad-1", Region: "us-east-1"}, &Failure{"PUBLISHING", "UnknownError", codeMessages["UnknownError"]}},
		{"invalid rule skipped", Subject{Name: "bad-1"}, &Failure{"GENERALIZING", "ReservedStorageInUse", codeMessages["ReservedStorageInUse"]}},
		{"copy", Subject{Kind: KindCopy, Name: "bad-1"}, &Failure{"PENDING", "UnknownError", "copy broke"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, MatchFailure(rules, tt.subj)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if MatchFailure(nil, Subject{}) != nil {
		t.Error("nil rules matched")
	}
}

func TestVocabulary(t *testing.T) {
	if len(ErrorCodes) != 48 {
		t.Errorf("len(ErrorCodes) = %d, want 48 (the model's enum)", len(ErrorCodes))
	}
	known := map[string]bool{}
	for _, c := range ErrorCodes {
		if known[c] {
			t.Errorf("duplicate code %s", c)
		}
		known[c] = true
		m := codeMessages[c]
		if m == "" || len(m) > maxErrorMessage || !strings.HasSuffix(m, ".") {
			t.Errorf("code %s: bad message %q", c, m)
		}
	}
	if len(codeMessages) != len(ErrorCodes) {
		t.Errorf("%d messages for %d codes", len(codeMessages), len(ErrorCodes))
	}
	for _, k := range Kinds() {
		for _, s := range k.Stages() {
			f := DefaultFailure(k, s)
			if !known[f.Code] || f.Message == "" || f.Stage != s {
				t.Errorf("DefaultFailure(%s, %s) = %+v", k, s, f)
			}
			if _, ok := kinds[k].codes[s]; !ok {
				t.Errorf("no default code chosen for %s %s", k, s)
			}
		}
		for _, s := range append(k.Stages(), k.Final()) {
			m, ok := kinds[k].messages[s]
			if !ok || m == "" || len([]rune(m)) > maxMessage {
				t.Errorf("state message %s %s = %q", k, s, m)
			}
		}
		if got := len(kinds[k].messages); got != len(k.Stages())+1 {
			t.Errorf("%s: %d state messages, want %d", k, got, len(k.Stages())+1)
		}
	}
	if m := StateMessage(KindCopy, "WEIRD"); m == "" {
		t.Error("empty fallback message")
	}
	if m := StateMessage(KindCopy, StateError); m == "" {
		t.Error("empty ERROR message")
	}
	want := map[string]string{
		"PENDING":                   "The image import request was received and is waiting to start.",
		"UPDATING_OPERATING_SYSTEM": "Installing the latest Windows updates on the build instance.",
		"COMPLETED":                 "The image was imported successfully and is available.",
	}
	for s, w := range want {
		if got := StateMessage(KindCustomImport, s); got != w {
			t.Errorf("StateMessage(%s) = %q, want %q", s, got, w)
		}
	}
}

func TestErrorMessageTruncated(t *testing.T) {
	plan := mustProfile(t, ProfileInstant).Plan(KindCustomImport, t0, &Failure{Stage: "PENDING", Code: "X", Message: strings.Repeat("ü", 2048)})
	st := plan.At(t0)
	if n := len([]rune(st.Message)); n != maxMessage {
		t.Errorf("message has %d characters", n)
	}
	if st.ErrorMessage != plan.Failure.Message {
		t.Error("ErrorMessage was truncated")
	}
}

func BenchmarkAt(b *testing.B) {
	plan := mustProfile(b, ProfileRealistic).Plan(KindCustomImport, t0, &Failure{Stage: "PUBLISHING"})
	total := plan.total()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = plan.At(t0.Add(time.Duration(i%1000) * total / 1000))
		i++
	}
}

// TestTimelineAgreesWithAt checks the planned timeline against the states At
// computes: each stage is current from its start to its end, the plan ends
// at End, and a scripted failure happens exactly at FailsAt.
func TestTimelineAgreesWithAt(t *testing.T) {
	quick := mustProfile(t, ProfileQuick)
	for _, kind := range Kinds() {
		p := quick.Plan(kind, t0, nil)
		spans := p.Timeline()
		if len(spans) != len(p.Stages) || !spans[0].Start.Equal(t0) || !spans[len(spans)-1].End.Equal(p.End()) {
			t.Fatalf("%s: timeline %v does not run from %v to End %v", kind, spans, t0, p.End())
		}
		for i, sp := range spans {
			if i > 0 && !sp.Start.Equal(spans[i-1].End) {
				t.Errorf("%s: stage %s starts at %v, the previous one ends at %v", kind, sp.State, sp.Start, spans[i-1].End)
			}
			for _, at := range []time.Time{sp.Start, sp.End.Add(-time.Nanosecond)} {
				if st := p.At(at); st.State != sp.State || st.StageIndex != i {
					t.Errorf("%s: At(%v) = %s (#%d), want %s (#%d)", kind, at, st.State, st.StageIndex, sp.State, i)
				}
			}
		}
		if st := p.At(p.End()); st.State != kind.Final() {
			t.Errorf("%s: At(End) = %s, want %s", kind, st.State, kind.Final())
		}
		if _, _, ok := p.FailsAt(); ok {
			t.Errorf("%s: a plan without a failure fails", kind)
		}

		last := kind.Stages()[len(kind.Stages())-1]
		f := quick.Plan(kind, t0, &Failure{Stage: last})
		k, at, ok := f.FailsAt()
		if !ok || k != len(f.Stages)-1 {
			t.Fatalf("%s: FailsAt = %d, %v, %v; want the last stage", kind, k, at, ok)
		}
		if before := f.At(at.Add(-time.Nanosecond)); before.Failed || before.State != last {
			t.Errorf("%s: just before FailsAt the plan is %s", kind, before.State)
		}
		if after := f.At(at); !after.Failed || !after.LastUpdated.Equal(at) {
			t.Errorf("%s: at FailsAt the plan is %s, last updated %v", kind, after.State, after.LastUpdated)
		}
	}
}
