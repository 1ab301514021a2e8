package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/server"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/store"
)

type serveFlags struct {
	addr           string
	store          string
	dataDir        string
	defaultAccount string
	defaultRegion  string
	profile        string
	stageDurations []string
	imageQuota     int
	bundleQuota    int
	byol           string
	logFormat      string
	logLevel       string
}

// defaultDataDir is where the embedded store lives unless told otherwise:
// $WSIM_DATA_DIR, else $XDG_DATA_HOME/wsim, else ~/.local/share/wsim.
func defaultDataDir() string {
	if d := os.Getenv("WSIM_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "wsim")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "wsim")
	}
	return ".wsim"
}

func newServeCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the WorkSpaces API",
		Long: "Serve the WorkSpaces API over AWS JSON 1.1, plus wsim's control plane under /_wsim/\n" +
			"and Prometheus metrics at /metrics, on one port.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:4599", "address to listen on")
	fl.StringVar(&f.store, "store", "sqlite", "state store: sqlite (a file in --data-dir), sqlite:/path/file.db, memory, or postgres://...")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir(), "directory of the embedded store ($WSIM_DATA_DIR)")
	fl.StringVar(&f.defaultAccount, "default-account", "123456789012", "account of unsigned requests and of access keys that are not 12-digit account ids")
	fl.StringVar(&f.defaultRegion, "default-region", "us-east-1", "Region of unsigned requests")
	fl.StringVar(&f.profile, "profile", pipeline.DefaultProfile, "timing profile of long-running operations: "+strings.Join(pipeline.ProfileNames(), ", "))
	fl.StringArrayVar(&f.stageDurations, "stage-duration", nil, "override one stage's duration, STAGE=DURATION (e.g. UPDATING_OPERATING_SYSTEM=10m); repeatable")
	fl.IntVar(&f.imageQuota, "image-quota", service.DefaultImageQuota, "images an account may hold per Region")
	fl.IntVar(&f.bundleQuota, "bundle-quota", service.DefaultBundleQuota, "custom bundles an account may hold per Region")
	fl.StringVar(&f.byol, "byol", string(service.BYOLFriendly), "how accounts start: friendly (enabled for BYOL, imports work at once) or strict (BYOL imports refused until ModifyAccount has completed)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func serve(ctx context.Context, cmd *cobra.Command, f *serveFlags) error {
	logger, err := newLogger(f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	profile, err := pipeline.LookupProfile(f.profile)
	if err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	if profile, err = pipeline.ParseOverrides(profile, f.stageDurations); err != nil {
		return fmt.Errorf("--stage-duration: %w", err)
	}
	byol, err := service.ParseBYOLMode(f.byol)
	if err != nil {
		return fmt.Errorf("--byol: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, f.store, f.dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	shared := strings.HasPrefix(f.store, "postgres")
	cacheTTL := time.Duration(0)
	if !shared {
		// This process owns its store, so nobody else moves the clock.
		cacheTTL = time.Hour
	}
	svc := service.New(service.Config{
		Profile: profile, ImageQuota: f.imageQuota, BundleQuota: f.bundleQuota, BYOL: byol,
		ClockCacheTTL: cacheTTL, Logger: logger,
	}, st)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler := server.New(server.Options{
		Handler:  svc,
		Defaults: auth.Defaults{Account: f.defaultAccount, Region: f.defaultRegion},
		Logger:   logger,
		Control:  control.New(svc),
		Registry: reg,
	})

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(cmd.OutOrStdout(), "wsim %s listening on http://%s (store: %s, profile: %s)\n",
		version(), ln.Addr(), store.Describe(f.store, f.dataDir), profile.Name)
	logger.Info("listening", "addr", ln.Addr().String(), "store", store.Describe(f.store, f.dataDir), "profile", profile.Name)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
