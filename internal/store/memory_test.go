package store

import (
	"context"
	"testing"
)

func openMemoryTest(t *testing.T) Store {
	s, err := Open(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMemoryConformance(t *testing.T) { runConformance(t, openMemoryTest) }
