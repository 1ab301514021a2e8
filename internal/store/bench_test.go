package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// benchBackends opens each backend for a benchmark; PostgreSQL only when
// WSIM_TEST_POSTGRES is set.
var benchBackends = []struct {
	name string
	open func(b *testing.B) Store
}{
	{"memory", func(b *testing.B) Store { return openBench(b, "memory", "") }},
	{"sqlite", func(b *testing.B) Store { return openBench(b, "sqlite", b.TempDir()) }},
	{"postgres", func(b *testing.B) Store { return openBench(b, pgTestDSN(b), "") }},
}

func openBench(b *testing.B, spec, dir string) Store {
	s, err := Open(context.Background(), spec, dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

var benchBody = []byte(`{"WorkspaceId":"ws-0123456789","DirectoryId":"d-0123456789","UserName":"alice","BundleId":"wsb-0123456789","State":"AVAILABLE","WorkspaceProperties":{"RunningMode":"AUTO_STOP","RunningModeAutoStopTimeoutInMinutes":60,"RootVolumeSizeGib":80,"UserVolumeSizeGib":50,"ComputeTypeName":"STANDARD"}}`)

// BenchmarkUpdateParallel measures durable single-insert transactions from
// many goroutines, the shape of concurrent Create* calls.
func BenchmarkUpdateParallel(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			var seq atomic.Int64
			b.SetParallelism(8) // goroutines per CPU, as a busy server would have
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					r := &Record{
						Key:     Key{"123456789012", "us-east-1", "workspace", fmt.Sprintf("ws-%010d", n)},
						Name:    fmt.Sprintf("name-%d", n),
						Created: t0,
						Body:    benchBody,
					}
					if err := s.Update(ctx, func(tx Tx) error { return tx.Insert(ctx, r, 0) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkGet measures committed reads of one of 1000 records.
func BenchmarkGet(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			const n = 1000
			err := s.Update(ctx, func(tx Tx) error {
				for i := range n {
					r := &Record{Key: Key{"123456789012", "us-east-1", "workspace", fmt.Sprintf("ws-%010d", i)}, Created: t0, Body: benchBody}
					if err := tx.Insert(ctx, r, 0); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			var seq atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1) % n
					if _, err := s.Get(ctx, Key{"123456789012", "us-east-1", "workspace", fmt.Sprintf("ws-%010d", i)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// fillScope inserts n records into one scope, in transactions of 5,000.
func fillScope(b *testing.B, s Store, sc Scope, n int) {
	ctx := context.Background()
	for start := 0; start < n; start += 5000 {
		err := s.Update(ctx, func(tx Tx) error {
			for i := start; i < min(start+5000, n); i++ {
				r := &Record{Key: Key{sc.Account, sc.Region, sc.Kind, fmt.Sprintf("ws-%010d", i)}, Created: t0, Body: benchBody}
				if err := tx.Insert(ctx, r, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListDepth reads a page of 25 of a scope of 10,000 records at
// its start and 400 pages in: issue 12 asks both to cost the same.
func BenchmarkListDepth(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			sc := Scope{"123456789012", "us-east-1", "workspace"}
			fillScope(b, s, sc, 10000)
			for _, page := range []int{1, 400} {
				after := ""
				if page > 1 {
					after = fmt.Sprintf("ws-%010d", (page-1)*25-1)
				}
				b.Run(fmt.Sprintf("page-%d", page), func(b *testing.B) {
					for b.Loop() {
						rs, err := s.List(ctx, sc, after, 25)
						if err != nil || len(rs) != 25 {
							b.Fatalf("%d records, %v", len(rs), err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkInsertDepth inserts one record at a time into an empty scope
// and into one that holds 10,000: issue 12 asks both to cost the same.
func BenchmarkInsertDepth(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			for _, size := range []int{0, 10000} {
				sc := Scope{"123456789012", "us-east-1", fmt.Sprintf("kind-%d", size)}
				fillScope(b, s, sc, size)
				b.Run(fmt.Sprintf("holding-%d", size), func(b *testing.B) {
					i := 0
					for b.Loop() {
						// Ids land between the filled ones, as random ids do.
						r := &Record{Key: Key{sc.Account, sc.Region, sc.Kind, fmt.Sprintf("ws-%010d-%d", i%max(size, 1), i)}, Created: t0, Body: benchBody}
						if err := s.Update(ctx, func(tx Tx) error { return tx.Insert(ctx, r, 100000000) }); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
			}
		})
	}
}
