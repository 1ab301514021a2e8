package pipeline

import (
	"fmt"
	"strings"
	"time"
)

// Profile maps each stage of each kind to a duration: the durations its
// name selects in every Lifecycle, with per-stage overrides. Profiles are
// values: WithOverride returns a modified copy and never changes the
// receiver, so a Profile can be shared between goroutines. The zero Profile
// makes every stage instant.
type Profile struct {
	Name string
	// overrides is keyed by stage name alone, so it applies to that stage in
	// every kind that has it (PENDING is in all of them).
	overrides map[string]time.Duration
}

// MaxStageDuration bounds an override so that the sum of a plan's stages
// cannot overflow time.Duration (about 292 years). A year per stage is far
// beyond any test that wants an operation that never seems to finish.
const MaxStageDuration = 365 * 24 * time.Hour

// The profiles. Default is the one a person can watch: realistic and quick
// take each stage's durations from its Lifecycle; instant makes every
// operation complete (or fail) at its creation time, for tests that only
// care about end states.
const (
	ProfileRealistic = "realistic"
	ProfileQuick     = "quick"
	ProfileInstant   = "instant"
	DefaultProfile   = ProfileQuick
)

// ProfileNames returns the names of the built-in profiles.
func ProfileNames() []string { return []string{ProfileRealistic, ProfileQuick, ProfileInstant} }

// LookupProfile returns the built-in profile with the given name.
func LookupProfile(name string) (Profile, error) {
	switch name {
	case ProfileRealistic, ProfileQuick, ProfileInstant:
		return Profile{Name: name}, nil
	}
	return Profile{}, fmt.Errorf("unknown timing profile %q: valid profiles are %s",
		name, strings.Join(ProfileNames(), ", "))
}

// WithOverride returns a copy of p in which stage takes d. The override is
// keyed by stage name alone, so overriding PENDING changes the PENDING stage
// of every kind, including the single stage of copies, updates, legacy
// imports and account modifications.
func (p Profile) WithOverride(stage string, d time.Duration) (Profile, error) {
	if !isAnyStage(stage) {
		return p, fmt.Errorf("cannot override %q: not a stage; valid stages are %s",
			stage, strings.Join(allStages(), ", "))
	}
	if d < 0 {
		return p, fmt.Errorf("cannot override %s: duration %s is negative", stage, d)
	}
	if d > MaxStageDuration {
		return p, fmt.Errorf("cannot override %s: duration %s exceeds the maximum of %s", stage, d, MaxStageDuration)
	}
	o := make(map[string]time.Duration, len(p.overrides)+1)
	for k, v := range p.overrides {
		o[k] = v
	}
	o[stage] = d
	p.overrides = o
	return p, nil
}

// Overrides returns the stage durations p overrides, by stage name (a copy;
// empty when none).
func (p Profile) Overrides() map[string]time.Duration {
	o := make(map[string]time.Duration, len(p.overrides))
	for k, v := range p.overrides {
		o[k] = v
	}
	return o
}

// ParseOverrides applies overrides written as "STAGE=DURATION" (a
// time.ParseDuration string, e.g. "UPDATING_OPERATING_SYSTEM=2m"). An element
// may hold several overrides separated by commas, so one flag or environment
// variable can carry them all. Later overrides of the same stage win.
func ParseOverrides(p Profile, spec []string) (Profile, error) {
	for _, elem := range spec {
		for _, item := range strings.Split(elem, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			stage, dur, ok := strings.Cut(item, "=")
			if !ok {
				return p, fmt.Errorf("invalid stage override %q: want STAGE=DURATION, e.g. GENERALIZING=30s", item)
			}
			d, err := time.ParseDuration(strings.TrimSpace(dur))
			if err != nil {
				return p, fmt.Errorf("invalid stage override %q: %v", item, err)
			}
			if p, err = p.WithOverride(strings.TrimSpace(stage), d); err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// Duration returns how long stage of kind takes under p; 0 for a stage the
// kind does not have.
func (p Profile) Duration(kind Kind, stage string) time.Duration {
	lc, ok := kinds[kind]
	if !ok {
		return 0
	}
	i := stageIndex(lc.stages, stage)
	if i < 0 {
		return 0
	}
	if d, ok := p.overrides[stage]; ok {
		return d
	}
	switch p.Name {
	case ProfileRealistic:
		return lc.Stages[i].Realistic
	case ProfileQuick:
		return lc.Stages[i].Quick
	}
	return 0
}

// Plan builds the plan of a new operation of kind starting at start. A
// non-nil failure is copied with its empty Code and Message filled from the
// default error vocabulary, so the stored plan says exactly how it will fail.
func (p Profile) Plan(kind Kind, start time.Time, failure *Failure) Plan {
	spec, ok := kinds[kind]
	if !ok {
		panic("pipeline: no lifecycle " + string(kind))
	}
	stages := make([]Stage, len(spec.stages))
	for i, s := range spec.stages {
		stages[i] = Stage{State: s, Duration: p.Duration(kind, s)}
	}
	plan := Plan{Kind: kind, Start: start, Stages: stages, Final: spec.Final}
	if failure != nil {
		f := failure.withDefaults(kind)
		plan.Failure = &f
	}
	return plan
}

// Total returns how long a successful operation of kind takes under p.
func (p Profile) Total(kind Kind) time.Duration {
	var t time.Duration
	if lc, ok := kinds[kind]; ok {
		for _, s := range lc.stages {
			t = addSat(t, p.Duration(kind, s))
		}
	}
	return t
}

func isAnyStage(stage string) bool {
	for _, spec := range kinds {
		if stageIndex(spec.stages, stage) >= 0 {
			return true
		}
	}
	return false
}

// allStages lists every stage name of every kind once, in lifecycle order,
// for error messages.
func allStages() []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range kindOrder {
		for _, s := range kinds[k].stages {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
