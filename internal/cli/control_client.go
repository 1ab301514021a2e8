package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// DefaultEndpoint is where the operator commands find wsim unless told
// otherwise by --endpoint or WSIM_ENDPOINT.
const DefaultEndpoint = "http://127.0.0.1:4599"

// Output formats of the operator commands.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// operatorFlags are the persistent flags of every command that talks to a
// running wsim over its control API.
type operatorFlags struct {
	endpoint string
	output   string
	// token is the control token (--control-token, else $WSIM_CONTROL_TOKEN).
	token string
}

// addOperatorFlags registers --endpoint and --output on cmd, for it and its
// subcommands.
func addOperatorFlags(cmd *cobra.Command) *operatorFlags {
	f := &operatorFlags{}
	def := DefaultEndpoint
	if e := os.Getenv("WSIM_ENDPOINT"); e != "" {
		def = e
	}
	cmd.PersistentFlags().StringVar(&f.endpoint, "endpoint", def, "wsim to talk to ($WSIM_ENDPOINT)")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", OutputTable, "output format: table or json")
	// The token's default is read when the command runs, so that --help never shows it.
	cmd.PersistentFlags().StringVar(&f.token, "control-token", "", "the control token wsim serve was started with ($WSIM_CONTROL_TOKEN)")
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{OutputTable, OutputJSON}, cobra.ShellCompDirectiveNoFileComp))
	return f
}

// client returns the control-API client of the flags, after checking them.
func (f *operatorFlags) client() (*controlClient, error) {
	if f.output != OutputTable && f.output != OutputJSON {
		return nil, fmt.Errorf("--output must be %s or %s, not %q", OutputTable, OutputJSON, f.output)
	}
	u, err := url.Parse(strings.TrimRight(f.endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--endpoint %q is not an http:// or https:// URL of a wsim", f.endpoint)
	}
	token := f.token
	if token == "" {
		token = os.Getenv("WSIM_CONTROL_TOKEN")
	}
	return &controlClient{base: u.String(), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// controlClient speaks wsim's control API: JSON over HTTP under /_wsim/.
type controlClient struct {
	base string
	// token, when set, is sent as a bearer token.
	token string
	http  *http.Client
}

// controlError is an answer of the control API other than success: its
// status and the {"error": ...} it gave.
type controlError struct {
	Status  int
	Message string
}

func (e *controlError) Error() string {
	return fmt.Sprintf("wsim answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// do sends a request with in (when not nil) as its JSON body and decodes a
// JSON answer into out (when not nil).
func (c *controlClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if method != http.MethodGet {
		// wsim takes control-plane writes only as JSON, even without a body.
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach wsim at %s (is `wsim serve` running? --endpoint and WSIM_ENDPOINT say where): %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		return &controlError{Status: resp.StatusCode, Message: e.Error}
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("wsim's answer to %s %s is not what this wsim CLI understands: %w", method, path, err)
	}
	return nil
}

func (c *controlClient) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

func (c *controlClient) post(ctx context.Context, path string, in, out any) error {
	return c.do(ctx, http.MethodPost, path, in, out)
}

func (c *controlClient) delete(ctx context.Context, path string) error {
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// isStatus reports whether err is the control API answering status.
func isStatus(err error, status int) bool {
	var ce *controlError
	return errors.As(err, &ce) && ce.Status == status
}
