package records

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
	"github.com/wsim/wsim/internal/store/storetest"
)

// replicaStores returns, per store, two typed views that act as two
// replicas sharing it: on PostgreSQL (when WSIM_TEST_POSTGRES names one, in a
// schema of its own) two stores with their own connections, as two wsim
// processes have; on memory and SQLite, which one process owns, two views
// of one store.
func replicaStores(t *testing.T) map[string][2]*DB {
	ctx := context.Background()
	open := func(spec string) store.Store {
		st, err := store.Open(ctx, spec, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	out := map[string][2]*DB{}
	for name, spec := range map[string]string{"memory": "memory", "sqlite": "sqlite:" + filepath.Join(t.TempDir(), "wsim.db")} {
		st := open(spec)
		out[name] = [2]*DB{Open(st, Config{}), Open(st, Config{})}
	}
	if dsn := os.Getenv("WSIM_TEST_POSTGRES"); dsn != "" {
		dsn := storetest.PostgresSchema(t, dsn, "records")
		out["postgres"] = [2]*DB{Open(open(dsn), Config{}), Open(open(dsn), Config{})}
	}
	return out
}

// TestFaultRuleCacheAcrossReplicas: every change of the fault rules made
// through one replica is seen by both at their next read, including after a
// reset of everything brings the stamp back to nothing and a rule is added
// again, and rules written by a wsim from before stamps.
func TestFaultRuleCacheAcrossReplicas(t *testing.T) {
	for name, replicas := range replicaStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			add := func(id string) func(*DB) error {
				return func(db *DB) error {
					_, err := db.ChangeFaultRules(ctx, func(r *[]pipeline.FaultRule) error {
						*r = append(*r, pipeline.FaultRule{ID: id, FailAt: "PENDING"})
						return nil
					})
					return err
				}
			}
			remove := func(id string) func(*DB) error {
				return func(db *DB) error {
					_, err := db.ChangeFaultRules(ctx, func(r *[]pipeline.FaultRule) error {
						*r = slices.DeleteFunc(*r, func(x pipeline.FaultRule) bool { return x.ID == id })
						return nil
					})
					return err
				}
			}
			reset := func(db *DB) error { _, err := Reset(ctx, db, Selection{}); return err }
			// legacy writes the rules as a wsim without stamps did.
			legacy := func(id string) func(*DB) error {
				return func(db *DB) error {
					_, err := FaultRules.Change(ctx, db, func(r *[]pipeline.FaultRule) error {
						*r = append(*r, pipeline.FaultRule{ID: id, FailAt: "PENDING"})
						return nil
					})
					return err
				}
			}
			steps := []struct {
				name   string
				by     int
				change func(*DB) error
				want   string
			}{
				{"nothing yet", 0, nil, ""},
				{"A adds a", 0, add("a"), "a"},
				{"B adds b", 1, add("b"), "a,b"},
				{"A removes a", 0, remove("a"), "b"},
				{"B resets", 1, reset, ""},
				{"A adds c after the reset", 0, add("c"), "c"},
				{"A resets again", 0, reset, ""},
				{"an old wsim writes d without a stamp", 1, legacy("d"), "d"},
				{"and e", 0, legacy("e"), "d,e"},
				{"B adds f with a stamp", 1, add("f"), "d,e,f"},
				{"B resets", 1, reset, ""},
			}
			for _, step := range steps {
				if step.change != nil {
					if err := step.change(replicas[step.by]); err != nil {
						t.Fatalf("%s: %v", step.name, err)
					}
				}
				for i, db := range replicas {
					// Twice: the first read may fill the cache, the second
					// must answer from it the same.
					for range 2 {
						rules, err := db.LoadFaultRules(ctx)
						if err != nil {
							t.Fatalf("%s: replica %d: %v", step.name, i, err)
						}
						ids := make([]string, len(rules))
						for j, r := range rules {
							ids[j] = r.ID
						}
						if got := strings.Join(ids, ","); got != step.want {
							t.Errorf("%s: replica %d reads %q, want %q", step.name, i, got, step.want)
						}
					}
				}
			}
		})
	}
}

// BenchmarkFaultRules reads the largest rules there may be (MaxFaultRules
// rules with every field at its maximum), as every new operation does:
// through the cache, and decoded each time as before it existed.
func BenchmarkFaultRules(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "wsim.db"), "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	db := Open(st, Config{})
	if _, err := db.ChangeFaultRules(ctx, func(r *[]pipeline.FaultRule) error {
		for i := range pipeline.MaxFaultRules {
			*r = append(*r, pipeline.FaultRule{ID: fmt.Sprint(i), NamePattern: strings.Repeat("n", 256),
				SourceID: strings.Repeat("s", 2048), FailAt: "PENDING", ErrorCode: strings.Repeat("c", 256),
				ErrorMessage: strings.Repeat("m", 2048)})
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.LoadFaultRules(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decoded", func(b *testing.B) {
		for b.Loop() {
			// A fresh view has an empty cache: this is a read of the rules
			// record and a decode, as every import did before the cache.
			if _, err := Open(st, Config{}).LoadFaultRules(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
