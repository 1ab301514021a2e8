package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/dashboard"
)

// watchOptions are how imports watch follows an import.
type watchOptions struct {
	// Interval is the time between two polls of the control API.
	Interval time.Duration
	// Out gets the progress; Err the notes beside it.
	Out, Err io.Writer
	// Terminal draws a progress bar redrawn in place instead of lines.
	Terminal bool
}

// watch follows the pipeline of id until it ends: nil when it completed,
// an error with the error code and message when it failed, or with the
// reason when it cannot be followed (unknown, vanished, wsim unreachable,
// ctx ended).
func watch(ctx context.Context, c *controlClient, id string, o watchOptions) error {
	_, p, now, err := findPipeline(ctx, c, id, "", "")
	if ctx.Err() != nil {
		return fmt.Errorf("stopped watching %s: %w", id, ctx.Err())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Watching %s %q (%s) in account %s, Region %s\n", p.ResourceID, p.Name, p.Kind, p.Account, p.Region)
	if p.Phase == dashboard.PhaseInFlight {
		var clk clockState
		if err := c.get(ctx, "/_wsim/clock", &clk); err == nil && clk.Frozen {
			fmt.Fprintf(o.Err, "wsim: the service clock is frozen at %s: the import moves only when the clock does "+
				"(wsim clock advance DURATION, or wsim clock resume)\n", timeCell(clk.Now))
		}
	}
	r := &watchRenderer{w: o.Out, terminal: o.Terminal}
	for {
		r.show(p, now)
		switch p.Phase {
		case dashboard.PhaseCompleted:
			r.end()
			return nil
		case dashboard.PhaseFailed:
			r.end()
			return importFailed(p)
		}
		select {
		case <-ctx.Done():
			r.end()
			return fmt.Errorf("stopped watching %s: %w", id, ctx.Err())
		case <-time.After(o.Interval):
		}
		_, p, now, err = findPipeline(ctx, c, id, p.Account, p.Region)
		switch {
		case ctx.Err() != nil:
			r.end()
			return fmt.Errorf("stopped watching %s: %w", id, ctx.Err())
		case isNotFound(err):
			r.end()
			return fmt.Errorf("import %s vanished while watched: it was deleted, or wsim was reset", id)
		case err != nil:
			r.end()
			return err
		}
	}
}

// importFailed is the error watch ends with when the import failed.
func importFailed(p dashboard.Pipeline) error {
	code, msg := "", ""
	if p.Error != nil {
		code, msg = p.Error.Code, p.Error.Message
	}
	return fmt.Errorf("import %s failed at %s: %s: %s", p.ResourceID, failedStage(p), code, msg)
}

// failedStage is the stage p failed at.
func failedStage(p dashboard.Pipeline) string {
	if p.StageIndex >= 0 && p.StageIndex < len(p.Stages) {
		return p.Stages[p.StageIndex].State
	}
	return p.State
}

// watchRenderer draws what watch sees: on a terminal one line redrawn in
// place, otherwise a line for every change of state or progress.
type watchRenderer struct {
	w        io.Writer
	terminal bool
	last     string // the last line drawn (terminal) or the last state and progress (lines)
	drawn    bool
}

func (r *watchRenderer) show(p dashboard.Pipeline, now time.Time) {
	if r.terminal {
		line := barLine(p, now)
		if r.drawn && line == r.last {
			return
		}
		fmt.Fprint(r.w, "\r\x1b[K"+line)
		r.last, r.drawn = line, true
		return
	}
	key := fmt.Sprint(p.State, p.Phase, p.StageIndex, p.Progress)
	if r.drawn && key == r.last {
		return
	}
	fmt.Fprintln(r.w, watchLine(p, now))
	r.last, r.drawn = key, true
}

// end finishes the bar's line, so what follows starts on a line of its own.
func (r *watchRenderer) end() {
	if r.terminal && r.drawn {
		fmt.Fprintln(r.w)
		r.drawn = false
	}
}

// stateWidth is the longest custom import state, IMAGE_TESTING_GENERALIZATION.
const stateWidth = 28

// watchLine is the line watch prints when it is not on a terminal:
// "2026-03-01T12:00:11Z  UPDATING_OPERATING_SYSTEM     30%  stage 5 of 12".
func watchLine(p dashboard.Pipeline, now time.Time) string {
	var detail string
	switch p.Phase {
	case dashboard.PhaseInFlight:
		detail = fmt.Sprintf("stage %d of %d", p.StageIndex+1, len(p.Stages))
	case dashboard.PhaseFailed:
		detail = "failed at " + failedStage(p)
		if p.Error != nil {
			detail += ": " + p.Error.Code
		}
	}
	return strings.TrimRight(fmt.Sprintf("%s  %-*s  %3d%%  %s", timeCell(now), stateWidth, p.State, p.Progress, detail), " ")
}

// barWidth is the number of cells of the progress bar.
const barWidth = 24

// barLine is the line watch redraws on a terminal:
// "[███████░░░░░░░░░░░░░░░░░]  30%  UPDATING_OPERATING_SYSTEM (5/12), 29s left".
func barLine(p dashboard.Pipeline, now time.Time) string {
	var detail string
	switch p.Phase {
	case dashboard.PhaseInFlight:
		detail = fmt.Sprintf("%s (%d/%d)", p.State, p.StageIndex+1, len(p.Stages))
		if left := p.ExpectedCompletion.Sub(now).Round(time.Second); !p.ExpectedCompletion.IsZero() && left > 0 {
			detail += fmt.Sprintf(", %s left", left)
		}
	case dashboard.PhaseFailed:
		detail = p.State + " at " + failedStage(p)
		if p.Error != nil {
			detail += ": " + p.Error.Code
		}
	default:
		detail = p.State
	}
	return fmt.Sprintf("%s %3d%%  %s", progressBar(p.Progress, barWidth), p.Progress, detail)
}

// progressBar draws percent (clamped to 0..100) as width cells.
func progressBar(percent, width int) string {
	filled := min(max(percent, 0), 100) * width / 100
	return "[" + strings.Repeat("█", filled) + strings.Repeat("░", width-filled) + "]"
}
