package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newResetCommand) }

// resetAnswer is what POST /_wsim/reset answers (the fields this CLI reads;
// JSON output passes on every field).
type resetAnswer struct {
	Scope      string         `json:"scope"`
	Account    string         `json:"account"`
	Region     string         `json:"region"`
	Removed    map[string]int `json:"removed"`
	Unshared   int            `json:"unshared"`
	Clock      string         `json:"clock"`
	FaultRules int            `json:"faultRules"`
}

func newResetCommand() *cobra.Command {
	var account, region string
	cmd := &cobra.Command{
		Use:   "reset [--account ACCOUNT [--region REGION]]",
		Short: "Empty a running wsim: everything, one account, or one account in one Region",
		Long: "reset deletes state of a running wsim (POST /_wsim/reset) and prints what it removed.\n" +
			"Without flags it removes everything and returns the service clock to real time and\n" +
			"the fault rules to none. With --account it removes that account's images, bundles,\n" +
			"shares and settings in every Region, or in --region only, and leaves the clock, the\n" +
			"fault rules and every other account alone, except that grants between the account\n" +
			"and others go on both sides (docs/control-api.md#reset).",
		Example: "  wsim reset\n  wsim reset --account 111122223333\n" +
			"  wsim reset --account 111122223333 --region us-east-1 -o json",
		Args: cobra.NoArgs,
	}
	of := addOperatorFlags(cmd)
	cmd.Flags().StringVar(&account, "account", "", "reset only this 12-digit account")
	cmd.Flags().StringVar(&region, "region", "", "with --account, reset only this Region of it")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if region != "" && account == "" {
			return errors.New("--region needs --account: a reset of a Region is of one account's state there")
		}
		c, err := of.client()
		if err != nil {
			return err
		}
		body := map[string]string{}
		if account != "" {
			body["account"] = account
		}
		if region != "" {
			body["region"] = region
		}
		var raw json.RawMessage
		if err := c.post(cmd.Context(), "/_wsim/reset", body, &raw); err != nil {
			return err
		}
		if of.output == OutputJSON {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		return printReset(cmd.OutOrStdout(), raw)
	}
	return cmd
}

// printReset writes a reset's answer as a few lines for people.
func printReset(w io.Writer, raw json.RawMessage) error {
	var a resetAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("wsim's answer to POST /_wsim/reset is not what this wsim CLI understands: %w", err)
	}
	scope := "everything"
	switch a.Scope {
	case "account":
		scope = "account " + a.Account + " in every Region"
	case "region":
		scope = "account " + a.Account + " in " + a.Region
	}
	removed := "nothing"
	if len(a.Removed) > 0 {
		var parts []string
		for _, kind := range slices.Sorted(maps.Keys(a.Removed)) {
			parts = append(parts, kind+" "+strconv.Itoa(a.Removed[kind]))
		}
		removed = strings.Join(parts, ", ")
	}
	clock := "kept"
	if a.Clock == "reset" {
		clock = "reset to real time, running"
	}
	rules := "kept"
	if a.Scope == "all" {
		rules = strconv.Itoa(a.FaultRules) + " removed"
	}
	return fields(w, [][2]string{
		{"Reset", scope},
		{"Removed", removed},
		{"Unshared", strconv.Itoa(a.Unshared) + " image(s) of other accounts"},
		{"Clock", clock},
		{"Fault rules", rules},
	})
}
