package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newClockCommand) }

// clockState is the service clock as GET /_wsim/clock shows it (the fields
// this CLI reads; JSON output passes on every field).
type clockState struct {
	Now           time.Time `json:"now"`
	Frozen        bool      `json:"frozen"`
	OffsetSeconds float64   `json:"offsetSeconds"`
	Note          string    `json:"note,omitempty"`
}

func newClockCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clock",
		Short: "Show, freeze, resume, advance or set the service clock of a running wsim",
		Long: "clock reads and moves the service clock, which every state, progress and timestamp of\n" +
			"wsim is computed from (POST /_wsim/clock). It never moves backwards: advancing by a\n" +
			"negative duration or setting an earlier time is refused. Every subcommand prints the\n" +
			"clock as it stands afterwards.",
		Args: cobra.NoArgs, // refuses unknown subcommands
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	of := addOperatorFlags(cmd)
	show := &cobra.Command{
		Use:     "show",
		Short:   "Show the service time, and whether the clock is frozen",
		Example: "  wsim clock show\n  wsim clock show -o json | jq -r .now",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.get(cmd.Context(), "/_wsim/clock", &raw); err != nil {
				return err
			}
			return printClock(cmd.OutOrStdout(), of.output, raw)
		},
	}
	cmd.AddCommand(show)
	// Each action is one POST /_wsim/clock {"action": ...}; an action with an
	// argument sends it as arg.
	for _, a := range []struct {
		use, short, example, arg string
	}{
		{"freeze", "Stop the clock where it stands", "  wsim clock freeze", ""},
		{"resume", "Let a frozen clock run on from where it stands", "  wsim clock resume", ""},
		{"advance DURATION", "Move the clock forward by a Go duration (90s, 45m, 2h30m), frozen or running", "  wsim clock advance 45m", "by"},
		{"set TIME", "Move the clock forward to an RFC 3339 time", "  wsim clock set 2030-01-01T00:00:00Z", "to"},
	} {
		cmd.AddCommand(clockActionCommand(of, a.use, a.short, a.example, a.arg))
	}
	return cmd
}

// clockActionCommand is the subcommand that posts the action named by the
// first word of use, with its one argument as the field arg when arg is set.
func clockActionCommand(of *operatorFlags, use, short, example, arg string) *cobra.Command {
	action, _, _ := strings.Cut(use, " ")
	args := cobra.NoArgs
	if arg != "" {
		args = cobra.ExactArgs(1)
	}
	return &cobra.Command{
		Use: use, Short: short, Example: example, Args: args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			body := map[string]string{"action": action}
			if arg != "" {
				body[arg] = argv[0]
			}
			var raw json.RawMessage
			if err := c.post(cmd.Context(), "/_wsim/clock", body, &raw); err != nil {
				return err
			}
			return printClock(cmd.OutOrStdout(), of.output, raw)
		},
	}
}

// printClock prints the clock the control API answered.
func printClock(w io.Writer, output string, raw json.RawMessage) error {
	if output == OutputJSON {
		return printJSON(w, raw)
	}
	var s clockState
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("wsim's clock is not what this wsim CLI understands: %w", err)
	}
	return fields(w, clockFields(s))
}

// clockFields are the lines of the clock's table.
func clockFields(s clockState) [][2]string {
	state := "running"
	if s.Frozen {
		state = "frozen"
	}
	switch off := time.Duration(math.Round(s.OffsetSeconds)) * time.Second; {
	case off > 0:
		state += fmt.Sprintf(", %s ahead of real time", off)
	case off < 0:
		state += fmt.Sprintf(", %s behind real time", -off)
	default:
		state += ", on real time"
	}
	kv := [][2]string{{"Service time", timeCell(s.Now)}, {"Clock", state}}
	if s.Note != "" {
		kv = append(kv, [2]string{"Note", s.Note})
	}
	return kv
}
