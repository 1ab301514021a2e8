// Package cli is wsim's command line: one cobra command per file, each a thin
// layer that parses flags and hands over to the packages that do the work.
package cli

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/wsim/wsim/internal/api"
)

// Version is wsim's version, set at build time with
// -ldflags "-X github.com/wsim/wsim/internal/cli.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Main runs the command line and returns the process exit code.
func Main(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "wsim:", err)
		return 1
	}
	return 0
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "wsim",
		Short: "An offline emulator of the Amazon WorkSpaces API",
		Long: "wsim implements the Amazon WorkSpaces API (" + api.APIVersion + ") so that boto3, the AWS CLI\n" +
			"and aws-sdk-go-v2 work against it offline, with a controllable clock and scripted failures.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newVersionCommand())
	for _, extra := range extraCommands {
		root.AddCommand(extra())
	}
	return root
}

// extraCommands lets other files of this package register commands.
var extraCommands []func() *cobra.Command

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print wsim's version and the API model it serves",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "wsim %s\nWorkSpaces API %s, %d operations, model from %s\n",
				version(), api.APIVersion, len(api.Operations), api.ModelSource)
		},
	}
}
