package app

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGuardFlags: a non-loopback --addr needs --allow-remote or verified
// signatures (--auth sigv4), --allowed-host takes host names, and the control token comes
// from --control-token, else $WSIM_CONTROL_TOKEN.
func TestGuardFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		env     string
		wantErr string
		token   string
		hosts   []string
	}{
		{args: nil},
		{args: []string{"--addr", "localhost:4599"}},
		{args: []string{"--addr", "127.0.0.5:0"}},
		{args: []string{"--addr", "[::1]:4599"}},
		{args: []string{"--addr", "0.0.0.0:4599"}, wantErr: "--addr 0.0.0.0:4599: refusing to listen on a non-loopback address"},
		{args: []string{"--addr", ":4599"}, wantErr: "--addr :4599: refusing"},
		{args: []string{"--addr", "[::]:4599"}, wantErr: "refusing"},
		{args: []string{"--addr", "10.0.0.7:4599"}, wantErr: "--allow-remote"},
		{args: []string{"--addr", "wsim.example:4599"}, wantErr: "refusing"},
		{args: []string{"--addr", "0.0.0.0:4599", "--allow-remote"}},
		{args: []string{"--addr", "0.0.0.0:4599", "--auth", "sigv4", "--credentials", "CREDENTIALS"}},
		{args: []string{"--addr", "0.0.0.0:4599", "--auth", "friendly"}, wantErr: "refusing"},
		{args: []string{"--allowed-host", "wsim", "--allowed-host", "wsim.internal:4599"}, hosts: []string{"wsim", "wsim.internal:4599"}},
		{args: []string{"--allowed-host", ""}, wantErr: `--allowed-host: "" is not a host name`},
		{args: []string{"--allowed-host", "http://wsim"}, wantErr: "is not a host name"},
		{args: []string{"--control-token", "flag-token"}, env: "env-token", token: "flag-token"},
		{args: nil, env: "env-token", token: "env-token"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("WSIM_CONTROL_TOKEN", tt.env)
			args := slices.Clone(tt.args)
			if i := slices.Index(args, "CREDENTIALS"); i >= 0 {
				args[i] = filepath.Join(t.TempDir(), "credentials.json")
				creds := `{"credentials": [{"accessKeyId": "AKIDGUARD", "secretAccessKey": "s", "principal": "arn:aws:iam::111122223333:role/ci"}]}`
				if err := os.WriteFile(args[i], []byte(creds), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, o, err := ParseServeArgs(args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.ControlToken != tt.token || !slices.Equal(o.AllowedHosts, tt.hosts) {
				t.Errorf("ControlToken %q, AllowedHosts %q; want %q, %q", o.ControlToken, o.AllowedHosts, tt.token, tt.hosts)
			}
		})
	}
}
