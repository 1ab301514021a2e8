package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsim/wsim/internal/pipeline"
)

func init() { extraCommands = append(extraCommands, newFaultsCommand) }

func newFaultsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "faults",
		Short: "List, add and remove the server-side fault rules of a running wsim",
		Long: "faults manages the rules that make matching operations fail at a stage, for clients that\n" +
			"cannot tag their imports with wsim:fail-at (/_wsim/faults). A rule applies to operations\n" +
			"started after it is added; the first matching rule wins, and an import's own wsim: tags\n" +
			"win over every rule.",
		Args: cobra.NoArgs, // refuses unknown subcommands
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	of := addOperatorFlags(cmd)
	cmd.AddCommand(newFaultsListCommand(of), newFaultsAddCommand(of), newFaultsRmCommand(of))
	return cmd
}

func newFaultsListCommand(of *operatorFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the fault rules, in matching order",
		Example: "  wsim faults list\n  wsim faults list -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			raw, err := listFaults(cmd.Context(), c)
			if err != nil {
				return err
			}
			if of.output == OutputJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			rules, err := decodeAll[pipeline.FaultRule](raw)
			if err != nil {
				return err
			}
			return faultsTable(cmd.OutOrStdout(), rules)
		},
	}
}

// listFaults returns the rules as the control API gave them.
func listFaults(ctx context.Context, c *controlClient) ([]json.RawMessage, error) {
	var page struct {
		Rules []json.RawMessage `json:"rules"`
	}
	if err := c.get(ctx, "/_wsim/faults", &page); err != nil {
		return nil, err
	}
	if page.Rules == nil {
		page.Rules = []json.RawMessage{}
	}
	return page.Rules, nil
}

// faultsTable is the table of faults list and add. "*" is a field that
// matches anything; "-" a code or message left to the stage's default.
func faultsTable(w io.Writer, rules []pipeline.FaultRule) error {
	anyCell := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	rows := make([][]string, 0, len(rules))
	for _, r := range rules {
		kind := r.Kind
		if kind == "" {
			kind = pipeline.KindCustomImport
		}
		rows = append(rows, []string{
			r.ID, string(kind), anyCell(r.Account), anyCell(r.Region), anyCell(r.NamePattern), anyCell(r.SourceID),
			r.FailAt, cell(r.ErrorCode), cell(truncate(r.ErrorMessage, 60)),
		})
	}
	return table(w, []string{"ID", "KIND", "ACCOUNT", "REGION", "NAME PATTERN", "SOURCE ID", "FAIL AT", "ERROR CODE", "ERROR MESSAGE"}, rows, "No fault rules.")
}

func newFaultsAddCommand(of *operatorFlags) *cobra.Command {
	var rule pipeline.FaultRule
	var kind string
	cmd := &cobra.Command{
		Use:   "add --fail-at STAGE [flags]",
		Short: "Add a fault rule: operations it matches, started from now on, fail at a stage",
		Long: `add adds a rule at the end of the list. Operations of --kind (custom-import unless said)
started from now on whose account, Region, name and source match fail at the stage
--fail-at, halfway through it, with --error-code and --error-message (the stage's own
code and message unless said). Unset matchers match anything. It prints the rule with
the id wsim gave it.`,
		Example: "  wsim faults add --name-pattern 'nightly-*' --fail-at GENERALIZING\n" +
			"  wsim faults add --account 111122223333 --fail-at PUBLISHING --error-code UnknownError --error-message 'publishing failed'\n" +
			"  wsim faults add --kind copy --fail-at PENDING",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			rule.Kind = pipeline.Kind(kind)
			var raw json.RawMessage
			if err := c.post(cmd.Context(), "/_wsim/faults", rule, &raw); err != nil {
				return err
			}
			if of.output == OutputJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			var added pipeline.FaultRule
			if err := json.Unmarshal(raw, &added); err != nil {
				return fmt.Errorf("wsim's answer is not what this wsim CLI understands: %w", err)
			}
			return faultsTable(cmd.OutOrStdout(), []pipeline.FaultRule{added})
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "", "operations of this kind: custom-import (default), legacy-import, copy, update, account-modification")
	f.StringVar(&rule.Account, "account", "", "only this account (12 digits)")
	f.StringVar(&rule.Region, "region", "", "only this Region")
	f.StringVar(&rule.NamePattern, "name-pattern", "", "only names matching this glob (Go's path.Match: *, ?, [a-z])")
	f.StringVar(&rule.SourceID, "source-id", "", "only this source: AMI id, import task id, image version ARN, or the source image of a copy or update")
	f.StringVar(&rule.FailAt, "fail-at", "", "the stage to fail at (required)")
	f.StringVar(&rule.ErrorCode, "error-code", "", "the error code (default: the stage's own)")
	f.StringVar(&rule.ErrorMessage, "error-message", "", "the error message (default: the code's own)")
	cmd.MarkFlagRequired("fail-at")
	cmd.RegisterFlagCompletionFunc("kind", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, k := range pipeline.Kinds() {
			out = append(out, string(k))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.RegisterFlagCompletionFunc("fail-at", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		k := pipeline.Kind(kind)
		if k == "" {
			k = pipeline.KindCustomImport
		}
		return k.Stages(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func newFaultsRmCommand(of *operatorFlags) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "rm RULE-ID... | --all",
		Short:   "Remove fault rules by id, or every one",
		Example: "  wsim faults rm rule-3kq8z2mw\n  wsim faults rm --all",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return errors.New("give rule ids or --all, not both")
			case !all && len(args) == 0:
				return errors.New("give the ids of the rules to remove (wsim faults list shows them), or --all")
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			c, err := of.client()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
			defer cancel()
			raw, err := listFaults(ctx, c)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			rules, _ := decodeAll[pipeline.FaultRule](raw)
			var out []cobra.Completion
			for _, r := range rules {
				out = append(out, cobra.CompletionWithDesc(r.ID, "fail at "+r.FailAt))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if all {
				if err := c.delete(cmd.Context(), "/_wsim/faults"); err != nil {
					return err
				}
				if of.output == OutputTable {
					fmt.Fprintln(w, "Removed every fault rule.")
				}
				return nil
			}
			for _, id := range args {
				err := c.delete(cmd.Context(), "/_wsim/faults/"+url.PathEscape(id))
				if isStatus(err, http.StatusNotFound) {
					return fmt.Errorf("no fault rule %s (wsim faults list shows them)", id)
				}
				if err != nil {
					return err
				}
				if of.output == OutputTable {
					fmt.Fprintf(w, "Removed fault rule %s.\n", id)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove every rule")
	return cmd
}
