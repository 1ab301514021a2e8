package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
)

func init() { extraCommands = append(extraCommands, newImportsCommand) }

func newImportsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "imports",
		Short: "List, show and watch the BYOL image imports of a running wsim",
		Long: "imports lists, shows and follows the custom image imports (ImportCustomWorkspaceImage)\n" +
			"of every account and Region of a running wsim, through its control API (/_wsim/pipelines).",
		Args: cobra.NoArgs, // refuses unknown subcommands
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	of := addOperatorFlags(cmd)
	cmd.AddCommand(newImportsListCommand(of), newImportsShowCommand(of), newImportsWatchCommand(of))
	return cmd
}

func newImportsListCommand(of *operatorFlags) *cobra.Command {
	var (
		account, region, state string
		limit                  int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the imports, newest first",
		Long: "list lists the custom image imports of every account and Region, newest first,\n" +
			"with their state and progress at the service time. It reads every page unless --limit says otherwise.",
		Example: "  wsim imports list\n  wsim imports list --account 111122223333 --state failed\n  wsim imports list --limit 5 -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("--limit must be 0 (every import) or more, not %d", limit)
			}
			q := url.Values{"kind": {string(pipeline.KindCustomImport)}, "order": {dashboard.OrderNewest}}
			setNonEmpty(q, "account", account)
			setNonEmpty(q, "region", region)
			setNonEmpty(q, "state", state)
			raw, _, err := c.listAll(cmd.Context(), "/_wsim/pipelines", q, "pipelines", limit)
			if err != nil {
				return err
			}
			if of.output == OutputJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			ps, err := decodeAll[dashboard.Pipeline](raw)
			if err != nil {
				return err
			}
			return importsTable(cmd.OutOrStdout(), ps)
		},
	}
	f := cmd.Flags()
	f.StringVar(&account, "account", "", "only this account (12 digits)")
	f.StringVar(&region, "region", "", "only this Region")
	f.StringVar(&state, "state", "", "only imports in-flight, completed or failed")
	f.IntVar(&limit, "limit", 0, "at most this many imports, the newest (0: every one)")
	cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(
		[]string{dashboard.PhaseInFlight, dashboard.PhaseCompleted, dashboard.PhaseFailed}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func setNonEmpty(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// importsTable is the table of imports list.
func importsTable(w io.Writer, ps []dashboard.Pipeline) error {
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		code := ""
		if p.Error != nil {
			code = p.Error.Code
		}
		rows = append(rows, []string{
			p.ResourceID, cell(p.Name), p.Account, p.Region, p.State, strconv.Itoa(p.Progress) + "%",
			timeCell(p.Created), cell(code),
		})
	}
	return table(w, []string{"IMAGE ID", "NAME", "ACCOUNT", "REGION", "STATE", "PROGRESS", "CREATED", "ERROR"}, rows, "No imports.")
}

func newImportsShowCommand(of *operatorFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show IMAGE-ID",
		Short: "Show one import in detail: state, progress, stage timeline, error, failure plan",
		Long: "show shows one import (or any other pipeline of an image: a copy, an update, an older\n" +
			"import), found by its id in whichever account and Region holds it: its state and\n" +
			"progress at the service time, every stage with its planned or past start and end, the\n" +
			"error once it failed, and the failure a wsim:fail-at tag or a fault rule scripted for it.",
		Example:           "  wsim imports show wsi-8k2m4q7xz\n  wsim imports show wsi-8k2m4q7xz -o json | jq .stages",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeImportIDs(of),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			raw, p, now, err := findPipeline(cmd.Context(), c, args[0], "", "")
			if err != nil {
				return err
			}
			if of.output == OutputJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			return importDetail(cmd.OutOrStdout(), p, now)
		},
	}
}

// notFoundError is an import the control API does not list.
type notFoundError struct{ base, id string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("wsim at %s has no import %s in any account or Region (wsim imports list lists them)", e.base, e.id)
}

func isNotFound(err error) bool {
	var nf *notFoundError
	return errors.As(err, &nf)
}

// findPipeline finds the pipeline of id, in the account and Region when
// they are given, else in any.
func findPipeline(ctx context.Context, c *controlClient, id, account, region string) (json.RawMessage, dashboard.Pipeline, time.Time, error) {
	q := url.Values{"id": {id}}
	setNonEmpty(q, "account", account)
	setNonEmpty(q, "region", region)
	raw, now, err := c.listAll(ctx, "/_wsim/pipelines", q, "pipelines", 1)
	if err != nil {
		return nil, dashboard.Pipeline{}, time.Time{}, err
	}
	if len(raw) == 0 {
		return nil, dashboard.Pipeline{}, now, &notFoundError{c.base, id}
	}
	var p dashboard.Pipeline
	if err := json.Unmarshal(raw[0], &p); err != nil {
		return nil, p, now, fmt.Errorf("wsim's answer is not what this wsim CLI understands: %w", err)
	}
	return raw[0], p, now, nil
}

// stageOf describes where p stands: "UPDATING_OPERATING_SYSTEM (stage 5 of
// 12)", "ERROR (failed at GENERALIZING, stage 10 of 12)" or "COMPLETED".
func stageOf(p dashboard.Pipeline) string {
	n := len(p.Stages)
	switch {
	case p.Phase == dashboard.PhaseFailed && p.StageIndex < n:
		return fmt.Sprintf("%s (failed at %s, stage %d of %d)", p.State, p.Stages[p.StageIndex].State, p.StageIndex+1, n)
	case p.Phase == dashboard.PhaseInFlight && p.StageIndex < n:
		return fmt.Sprintf("%s (stage %d of %d)", p.State, p.StageIndex+1, n)
	}
	return p.State
}

// importDetail is the text of imports show.
func importDetail(w io.Writer, p dashboard.Pipeline, now time.Time) error {
	errText, plan := "-", "-"
	if p.Error != nil {
		errText = p.Error.Code + ": " + p.Error.Message
	}
	if fp := p.FailurePlan; fp != nil {
		plan = fmt.Sprintf("fails at %s at %s with %s: %s", fp.Stage, timeCell(fp.At), fp.Code, fp.Message)
	}
	kv := [][2]string{
		{"Image ID", p.ResourceID},
		{"Kind", string(p.Kind)},
		{"Name", cell(p.Name)},
		{"Description", cell(p.Description)},
		{"Account", p.Account},
		{"Region", p.Region},
		{"Source", cell(p.Source)},
		{"State", stageOf(p)},
		{"Progress", strconv.Itoa(p.Progress) + "%"},
		{"Message", cell(p.Message)},
		{"Created", timeCell(p.Created)},
		{"Last updated", timeCell(p.LastUpdated)},
		{"Expected completion", timeCell(p.ExpectedCompletion)},
		{"Error", errText},
		{"Failure plan", plan},
		{"Service time", timeCell(now)},
	}
	if err := fields(w, kv); err != nil {
		return err
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(p.Stages))
	for i, s := range p.Stages {
		rows = append(rows, []string{strconv.Itoa(i + 1), s.State, s.Status, timeCell(s.Start), timeCell(s.End), durationCell(s.DurationSeconds)})
	}
	return table(w, []string{"#", "STAGE", "STATUS", "START", "END", "DURATION"}, rows, "No stages.")
}

func newImportsWatchCommand(of *operatorFlags) *cobra.Command {
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "watch IMAGE-ID",
		Short: "Follow one import until it ends; exit 0 on COMPLETED, 1 on ERROR",
		Long: `watch follows one import (or any other pipeline of an image), polling the control
API every --interval, until it ends. On a terminal it draws a progress bar with the
stage, redrawn in place; otherwise it prints one line per change of stage or progress:
the service time, the state, the progress and the stage.

It exits 0 when the import is COMPLETED (AVAILABLE for other images), and 1 when it
ends in ERROR, after printing the error code and message; also 1, with the reason,
when the import does not exist or vanishes while watched (deleted, or wsim reset), or
wsim cannot be reached. It moves as the service clock moves: while the clock is
frozen it waits until someone advances it (it says so when it starts).`,
		Example:           "  wsim imports watch wsi-8k2m4q7xz\n  wsim imports watch wsi-8k2m4q7xz --interval 200ms > import.log",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeImportIDs(of),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			if interval <= 0 {
				return fmt.Errorf("--interval must be positive, not %s", interval)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			out := cmd.OutOrStdout()
			return watch(ctx, c, args[0], watchOptions{
				Interval: interval, Out: out, Err: cmd.ErrOrStderr(), Terminal: isTerminal(out),
			})
		},
	}
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "how often to ask wsim")
	return cmd
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// completeImportIDs completes the ids of the newest imports, with their
// names and states as descriptions.
func completeImportIDs(of *operatorFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := of.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
		defer cancel()
		raw, _, err := c.listAll(ctx, "/_wsim/pipelines", url.Values{"kind": {string(pipeline.KindCustomImport)}, "order": {dashboard.OrderNewest}}, "pipelines", 100)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ps, _ := decodeAll[dashboard.Pipeline](raw)
		var out []cobra.Completion
		for _, p := range ps {
			out = append(out, cobra.CompletionWithDesc(p.ResourceID, p.Name+" ("+p.State+")"))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
