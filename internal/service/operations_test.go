package service

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

// TestImplementedOperationsAreDocumented keeps the list of implemented
// operations in docs/protocol.md equal to what the service implements: an
// operation is implemented when it does not answer NotImplementedError.
func TestImplementedOperationsAreDocumented(t *testing.T) {
	s, ctx := newTestService(t, Config{})
	var implemented []string
	for name, op := range api.Operations {
		if !notImplemented(func() error { _, err := op.Call(ctx, s, op.NewInput()); return err }) {
			implemented = append(implemented, name)
		}
	}
	slices.Sort(implemented)

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

// notImplemented calls an operation with an empty input. Handlers may rely on
// the validation the server does first, so a panic on missing members means
// the handler got to work: it is implemented.
func notImplemented(call func() error) (yes bool) {
	defer func() {
		if recover() != nil {
			yes = false
		}
	}()
	var ni *api.NotImplementedError
	return errors.As(call(), &ni)
}
