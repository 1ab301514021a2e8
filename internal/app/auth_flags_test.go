package app

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuthFlags(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"credentials":[{"accessKeyId":"AKIA1","secretAccessKey":"s","principal":"arn:aws:iam::111122223333:user/u"}]}`), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"credentials":[{"accessKeyId":"AKIA1","principal":"arn:aws:iam::111122223333:user/u"}]}`), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		verified bool
	}{
		{"friendly by default", nil, "", false},
		{"sigv4 with a file", []string{"--auth", "sigv4", "--credentials", good}, "", true},
		{"sigv4 may listen beyond loopback", []string{"--auth", "sigv4", "--credentials", good, "--addr", "0.0.0.0:4599"}, "", true},
		{"sigv4 without a file", []string{"--auth", "sigv4"}, "--auth sigv4 needs --credentials FILE", false},
		{"a file without sigv4", []string{"--credentials", good}, "--credentials needs --auth sigv4", false},
		{"an invalid file", []string{"--auth", "sigv4", "--credentials", bad}, "secretAccessKey is required", false},
		{"a missing file", []string{"--auth", "sigv4", "--credentials", filepath.Join(dir, "none.json")}, "no such file", false},
		{"an unknown mode", []string{"--auth", "basic"}, `--auth must be friendly or sigv4, not "basic"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, o, err := ParseServeArgs(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (o.Credentials != nil) != tt.verified {
				t.Errorf("Credentials = %v, want verified %v", o.Credentials, tt.verified)
			}
		})
	}
}
