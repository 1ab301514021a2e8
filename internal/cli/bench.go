package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsim/wsim/internal/loadgen"
)

func init() { extraCommands = append(extraCommands, newBenchCommand) }

func newBenchCommand() *cobra.Command {
	var (
		cfg      loadgen.Config
		mix      string
		baseline bool
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a local wsim endpoint with signed requests and report throughput and latency",
		Long: `bench sends a weighted mix of SigV4-signed WorkSpaces requests to a running
wsim and prints throughput, latency percentiles (p50/p90/p99/max, exact) and
errors by HTTP status and AWS error type, per operation and in total.

Operations for --mix:
  import           ImportCustomWorkspaceImage, each with a unique image name
  describe-import  DescribeCustomWorkspaceImageImport of a random image from a
                   pool of --pool imports made before the measurement starts
  describe-images  DescribeWorkspaceImages of an account (of the pool, if any)
  list-images      DescribeWorkspaceImages with MaxResults 25 from the pool's
                   first account, which holds a full page (needs --pool and
                   --imports-per-account of at least 25)
  describe-image   DescribeWorkspaceImages of one image of the pool by id

A full page of 25 of each other listing, and a by-id describe of one item of
that page, from a fixture account (the last account of --accounts-prefix)
that bench fills with 26 of each before measuring, or reuses:
  list-bundles, describe-bundle                 DescribeWorkspaceBundles, custom
  list-amazon-bundles, describe-amazon-bundle   DescribeWorkspaceBundles, Owner AMAZON
  list-directories, describe-directory          DescribeWorkspaceDirectories
  list-workspaces, describe-workspace           DescribeWorkspaces
  list-ip-groups, describe-ip-group             DescribeIpGroups
Bundles need an imported image to be AVAILABLE and WorkSpaces a REGISTERED
directory, so against the default quick profile the fixture waits about 40
seconds (--profile instant: not at all); WorkSpaces need the server's
--workspace-quota at 26 or more.

Imports are spread over generated 12-digit accounts (the access key id is the
account): --accounts-prefix, then a counter, --imports-per-account images each,
which keeps every account under the default image quota of 40. To measure
imports into big accounts, raise the server's --image-quota and pass
--imports-per-account in the thousands, and --prefill N to import N images
into those accounts before measuring (counted in --duration).

The run stops at --requests measured requests or after --duration (pool
creation included), whichever comes first. Only loopback targets are
accepted: 127.0.0.0/8, [::1], or localhost resolving only to those.

--baseline then runs the same mix, client, signing and concurrency against an
in-process handler that only answers {}, and prints wsim's throughput as a
fraction of it.

bench exits non-zero when the target is refused or every request failed.`,
		Example: `  wsim serve &
  wsim bench --mix describe-import=90,import=10 --concurrency 32 --requests 100000 --duration 30s --baseline
  wsim bench --mix describe-images=1 --requests 20000 --json > bench.json
  wsim serve --profile instant --workspace-quota 100 &
  wsim bench --mix list-workspaces=1 --concurrency 16 --requests 5000 --accounts-prefix 4242
  wsim bench --mix describe-workspace=1 --concurrency 16 --requests 5000 --accounts-prefix 4242
  wsim serve --image-quota 1000000 &
  wsim bench --mix import=1 --prefill 10000 --imports-per-account 1000000 --requests 3000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := parseMix(mix)
			if err != nil {
				return err
			}
			cfg.Mix = m
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runBench(ctx, cmd, cfg, baseline, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Target, "target", "http://127.0.0.1:4599", "wsim endpoint (loopback only)")
	f.StringVar(&mix, "mix", "describe-import=90,import=10", "operations and weights: name=weight,... ("+strings.Join(loadgen.Operations(), ", ")+")")
	f.IntVar(&cfg.Concurrency, "concurrency", 32, fmt.Sprintf("concurrent workers, one request in flight each (max %d)", loadgen.MaxConcurrency))
	f.IntVar(&cfg.Requests, "requests", 100_000, fmt.Sprintf("measured requests to send (max %d)", loadgen.MaxRequests))
	f.DurationVar(&cfg.Duration, "duration", 30*time.Second, fmt.Sprintf("time limit of the run, pool included (max %s)", loadgen.MaxDuration))
	f.StringVar(&cfg.Region, "region", "us-east-1", "Region signed into the credential scope")
	f.IntVar(&cfg.Pool, "pool", 100, "images imported before the measurement, for describe-import, describe-image and list-images")
	f.StringVar(&cfg.AccountsPrefix, "accounts-prefix", "", "leading digits of generated account ids (default: 4 random digits)")
	f.IntVar(&cfg.ImportsPerAccount, "imports-per-account", loadgen.DefaultImportsPerAccount, "imports per generated account before moving to the next")
	f.IntVar(&cfg.Prefill, "prefill", 0, fmt.Sprintf("images imported into the measured imports' accounts before measuring (max %d)", loadgen.MaxPrefill))
	f.BoolVar(&baseline, "baseline", false, "also measure a do-nothing handler and print the ratio wsim/baseline")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func runBench(ctx context.Context, cmd *cobra.Command, cfg loadgen.Config, baseline, asJSON bool) error {
	out := cmd.OutOrStdout()
	rep, runErr := loadgen.Run(ctx, cfg)
	if runErr != nil && rep.Target == "" {
		return runErr // refused or invalid: nothing was sent
	}
	var base *loadgen.Report
	if baseline && runErr == nil && ctx.Err() == nil {
		b, err := loadgen.Baseline(ctx, cfg)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		base = &b
	}
	ratio := 0.0
	if base != nil && base.Total.Throughput > 0 {
		ratio = rep.Total.Throughput / base.Total.Throughput
	}

	if asJSON {
		v := any(rep)
		if base != nil {
			v = struct {
				Wsim     loadgen.Report `json:"wsim"`
				Baseline loadgen.Report `json:"baseline"`
				Ratio    float64        `json:"throughput_ratio"`
			}{rep, *base, ratio}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		fmt.Fprint(out, rep.String())
		if base != nil {
			fmt.Fprint(out, "\n", base.String())
			fmt.Fprintf(out, "\nthroughput wsim/baseline: %.3f (%.1f vs %.1f req/s)\n",
				ratio, rep.Total.Throughput, base.Total.Throughput)
		}
	}

	if runErr != nil {
		return runErr
	}
	if rep.Total.Requests > 0 && rep.Total.OK == 0 {
		return errors.New("every request failed")
	}
	if rep.Total.Requests == 0 {
		return errors.New("no request completed")
	}
	return nil
}

// parseMix reads "name=weight,name=weight".
func parseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		weight, err := strconv.Atoi(strings.TrimSpace(w))
		if !ok || err != nil || weight < 0 {
			return nil, fmt.Errorf("--mix: want name=weight with a non-negative integer weight, got %q", part)
		}
		mix[strings.TrimSpace(name)] += weight
	}
	if len(mix) == 0 {
		return nil, errors.New("--mix is empty")
	}
	return mix, nil
}
