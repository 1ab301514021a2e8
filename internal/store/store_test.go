package store

import (
	"context"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		spec, dataDir string
		want          string
		wantNot       string
	}{
		{spec: "memory", want: "in-memory"},
		{spec: "sqlite", dataDir: "/var/lib/wsim", want: "SQLite store at /var/lib/wsim/wsim.db"},
		{spec: "", dataDir: "/d", want: "SQLite store at /d/wsim.db"},
		{spec: "sqlite:/tmp/x.db", want: "SQLite store at /tmp/x.db"},
		{spec: "postgres://wsim:s3cret@db:5432/wsim?sslmode=disable", want: "PostgreSQL store at postgres://wsim:xxxxx@db:5432/wsim", wantNot: "s3cret"},
		{spec: "postgresql://db/wsim?user=u&password=s3cret", want: "PostgreSQL store at postgresql://db/wsim", wantNot: "s3cret"},
		{spec: "mysql://u:s3cret@db/x", want: "invalid", wantNot: "s3cret"},
	} {
		got := Describe(c.spec, c.dataDir)
		if !strings.Contains(got, c.want) || c.wantNot != "" && strings.Contains(got, c.wantNot) {
			t.Errorf("Describe(%q, %q) = %q, want it to contain %q and not %q", c.spec, c.dataDir, got, c.want, c.wantNot)
		}
	}
}

func TestOpenRejectsUnknownSpecs(t *testing.T) {
	for _, spec := range []string{"mem", "sqlite:", "mysql://x", "file:/x.db", "sqlite:/tmp/a?b.db"} {
		_, err := Open(context.Background(), spec, t.TempDir())
		if err == nil {
			t.Errorf("Open(%q) succeeded", spec)
			continue
		}
		if spec == "mysql://x" && !strings.Contains(err.Error(), `"memory"`) {
			t.Errorf("Open(%q): error %q does not list the accepted forms", spec, err)
		}
	}
	if _, err := Open(context.Background(), "sqlite", ""); err == nil {
		t.Error(`Open("sqlite") without a data directory succeeded`)
	}
}
