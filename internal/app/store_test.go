package app

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/store"
)

func TestStoreTimeoutFlag(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    time.Duration
		wantErr string
	}{
		{nil, store.DefaultTimeout, ""},
		{[]string{"--store-timeout", "1500ms"}, 1500 * time.Millisecond, ""},
		{[]string{"--store-timeout", "0s"}, 0, "--store-timeout must be positive"},
		{[]string{"--store-timeout", "-1s"}, 0, "--store-timeout must be positive"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, o, err := ParseServeArgs(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || o.StoreTimeout != tc.want {
				t.Fatalf("StoreTimeout = %s, %v; want %s", o.StoreTimeout, err, tc.want)
			}
		})
	}
}

// TestNewRefusesAStoreItCannotWrite opens a SQLite store that opens but
// cannot be written: a copy of a running one, taken with its write-ahead log
// (as a crash leaves it), whose log is then made immutable (chattr +i, which
// stops root too). New must refuse it, saying why.
func TestNewRefusesAStoreItCannotWrite(t *testing.T) {
	ctx := context.Background()
	src, dst := t.TempDir(), t.TempDir()
	a, err := New(ctx, Options{Store: "sqlite:" + filepath.Join(src, "wsim.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, name := range []string{"wsim.db", "wsim.db-wal"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wal := filepath.Join(dst, "wsim.db-wal")
	if out, err := exec.Command("chattr", "+i", wal).CombinedOutput(); err != nil {
		t.Skipf("chattr +i (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", wal).Run() })

	b, err := New(ctx, Options{Store: "sqlite:" + filepath.Join(dst, "wsim.db")})
	if err == nil {
		b.Close()
		t.Fatal("New on a store it cannot write succeeded")
	}
	if !strings.Contains(err.Error(), "the store does not take writes") || !strings.Contains(err.Error(), dst) {
		t.Fatalf("New: %v, want a refusal naming the store", err)
	}
	t.Log(err)
}
