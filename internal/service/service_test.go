package service_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/service/servicetest"
)

// TestImplementedOperationsAreDocumented keeps the list of implemented
// operations in docs/protocol.md equal to the dispatch table's: an
// operation is implemented exactly when a resource package registered it.
func TestImplementedOperationsAreDocumented(t *testing.T) {
	implemented := servicetest.New(t).Svc.Registry().Implemented()

	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "<!-- implemented:begin -->")
	section, _, _ = strings.Cut(section, "<!-- implemented:end -->")
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok {
			documented = append(documented, name)
		}
	}
	if !slices.Equal(implemented, documented) {
		t.Errorf("docs/protocol.md lists\n%v\nbut the service implements\n%v", documented, implemented)
	}
}
