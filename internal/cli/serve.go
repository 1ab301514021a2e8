package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsim/wsim/internal/app"
	"github.com/wsim/wsim/internal/server"
)

func newServeCommand() *cobra.Command {
	f := &app.ServeFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the WorkSpaces API",
		Long: "Serve the WorkSpaces API over AWS JSON 1.1, plus wsim's control plane under /_wsim/\n" +
			"and Prometheus metrics at /metrics, on one port.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), cmd, f) },
	}
	f.Register(cmd.Flags())
	return cmd
}

// serve runs wsim serve: flags → app.Options → app.New → an http.Server,
// until SIGINT or SIGTERM.
func serve(ctx context.Context, cmd *cobra.Command, f *app.ServeFlags) error {
	opts, err := f.Options(os.Stderr)
	if err != nil {
		return err
	}
	opts.Version = version()
	logger := opts.Logger
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.New(ctx, opts)
	if err != nil {
		return err
	}
	defer a.Close()

	ln, err := net.Listen("tcp", f.Addr)
	if err != nil {
		return err
	}
	// Bounded resources (docs/security.md, "Limits"): the body's deadline is
	// per request rather than http.Server.ReadTimeout, which would also
	// stop net/http's background read and so cancel long-running handlers
	// (the dashboard's event streams).
	maxConns, nofile := server.FitMaxConnections(f.MaxConnections)
	if maxConns != f.MaxConnections {
		logger.Warn("--max-connections lowered to fit the open-file limit", "requested", f.MaxConnections,
			"max_connections", maxConns, "open_file_limit", nofile)
	}
	ln = server.FramingListener(server.LimitListener(ln, maxConns))
	handler := server.LimitRequests(a.Handler(), server.RequestLimits{
		MaxRequests: f.MaxRequests, BodyTimeout: f.ReadTimeout, Logger: logger, Registry: opts.Registry,
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: f.ReadHeaderTimeout, IdleTimeout: f.IdleTimeout}
	d := a.Describe()
	clockState := "unknown"
	if r, err := a.ClockReading(ctx); err == nil {
		clockState = r.String()
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wsim %s listening on http://%s (store: %s, profile: %s, auth: %s, clock: %s)\n",
		version(), ln.Addr(), d.Store, d.Profile, authState(d.Auth), clockState)
	a.LogStartup(ctx, ln.Addr().String())

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

// authState says on the start-up line whether signatures are checked.
func authState(mode string) string {
	if mode == app.AuthSigV4 {
		return "sigv4, signatures verified"
	}
	return mode + ", signatures not verified"
}
