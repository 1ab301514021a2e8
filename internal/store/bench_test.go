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
