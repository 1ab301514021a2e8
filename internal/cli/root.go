// Package cli is wsim's command line: one cobra command per file, each a thin
// layer that parses flags and hands over to the packages that do the work.
package cli

import (
	"fmt"
	"os"
	"runtime"
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

// vcsInfo is the version-control state the binary was built from, as the
// go command records it (go build -buildvcs, the default in a checkout).
type vcsInfo struct {
	Revision string // commit id; "" when not recorded
	Time     string // commit time, RFC 3339
	Modified bool   // the working tree had changes
}

func buildVCS() vcsInfo {
	var v vcsInfo
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String says where the binary comes from in one line.
func (v vcsInfo) String() string {
	if v.Revision == "" {
		return "revision unknown (built without VCS information)"
	}
	s := "revision " + v.Revision
	if v.Time != "" {
		s += ", committed " + v.Time
	}
	if v.Modified {
		s += ", with local modifications"
	}
	return s
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
		Short: "Print wsim's version, the revision it was built from and the API model it serves",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "wsim %s\n%s\nWorkSpaces API %s, %d operations, model from %s\nbuilt with %s\n",
				version(), buildVCS(), api.APIVersion, len(api.Operations), api.ModelSource, runtime.Version())
		},
	}
}
