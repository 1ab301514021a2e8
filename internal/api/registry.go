package api

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
)

// Op is one operation of the model with its Go input and output types; the
// generated Op<Name> values are the typed registration table. In and Out are
// pointer types (*<Name>Input, *<Name>Output).
type Op[In Input, Out any] struct{ *Operation }

// HandlerFunc implements one operation: typed in, typed out, errors as typed
// AWS errors.
type HandlerFunc[In Input, Out any] func(ctx context.Context, in In) (Out, error)

// Registry is the dispatch table: an operation is implemented exactly when
// a resource package has registered a handler for it. Dispatch validates
// every input before a handler sees it, whoever the caller is.
type Registry struct {
	mu       sync.RWMutex
	handlers map[string]func(context.Context, Input) (any, error)
}

// NewRegistry returns a registry in which nothing is implemented.
func NewRegistry() *Registry {
	return &Registry{handlers: make(map[string]func(context.Context, Input) (any, error))}
}

// Handle registers fn as the implementation of op. Registering an operation
// twice is a programming error and panics, so that two packages can never
// silently compete for one operation.
func Handle[In Input, Out any](r *Registry, op Op[In, Out], fn HandlerFunc[In, Out]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[op.Name]; dup {
		panic("api: " + op.Name + " registered twice")
	}
	r.handlers[op.Name] = func(ctx context.Context, in Input) (any, error) {
		out, err := fn(ctx, in.(In))
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// Implemented lists the registered operations by name, sorted.
func (r *Registry) Implemented() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.handlers))
	for name := range r.handlers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Implements reports whether the operation name is registered.
func (r *Registry) Implements(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.handlers[name]
	return ok
}

// Dispatch validates in against the model and calls the operation's handler.
// An operation nobody registered answers NotImplementedError, after
// validation, as it would once implemented. A panicking handler becomes an
// internal error carrying the stack, so one bad request never takes the
// process down.
func (r *Registry) Dispatch(ctx context.Context, op *Operation, in Input) (out any, err error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	r.mu.RLock()
	h := r.handlers[op.Name]
	r.mu.RUnlock()
	if h == nil {
		return nil, &NotImplementedError{Operation: op.Name}
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic in %s: %v\n%s", op.Name, p, debug.Stack())
		}
	}()
	return h(ctx, in)
}
