package iam_test

import (
	"testing"

	"github.com/wsim/wsim/internal/iam"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// Every operation wsim implements is authorized on resources from the
// table: an operation added without an entry fails here.
func TestEveryImplementedOperationHasResources(t *testing.T) {
	implemented := servicetest.New(t).Svc.Registry().Implemented()
	if len(implemented) < 55 {
		t.Fatalf("only %d operations implemented", len(implemented))
	}
	for _, op := range implemented {
		if !iam.Covers(op) {
			t.Errorf("%s has no entry in the resource table (internal/iam/resources.go)", op)
		}
	}
}
