package control

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
)

// MaxProfileSeconds bounds the seconds of a CPU profile, an execution trace
// or a delta profile (?seconds= on the named profiles).
const MaxProfileSeconds = 30

// pprofPrefix is where Go's profiler is served.
const pprofPrefix = "/_wsim/debug/pprof/"

// profiler serves Go's profiler under pprofPrefix: net/http/pprof's Index
// finds a named profile only under /debug/pprof/, so every name is routed
// here, and durations are bounded. One CPU profile and one trace run at a
// time: a second one would fail inside the runtime, so it is told to wait.
type profiler struct {
	cpu, trace sync.Mutex
}

func (p *profiler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, pprofPrefix)
	if err := checkSeconds(r, name); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	switch name {
	case "":
		pprof.Index(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "profile":
		p.exclusive(w, r, &p.cpu, "a CPU profile", pprof.Profile)
	case "trace":
		p.exclusive(w, r, &p.trace, "an execution trace", pprof.Trace)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}

func (p *profiler) exclusive(w http.ResponseWriter, r *http.Request, mu *sync.Mutex, what string, serve http.HandlerFunc) {
	if !mu.TryLock() {
		w.Header().Set("Retry-After", strconv.Itoa(MaxProfileSeconds))
		writeError(w, http.StatusConflict, fmt.Errorf("%s is already being taken; retry when it is done", what))
		return
	}
	defer mu.Unlock()
	serve(w, r)
}

// checkSeconds refuses a ?seconds= that is not a number of seconds above 0
// and at most MaxProfileSeconds (a whole number but for a trace, as
// net/http/pprof reads them). Without it a CPU profile takes 30 s and a trace 1 s.
func checkSeconds(r *http.Request, name string) error {
	q := r.URL.Query()
	if !q.Has("seconds") {
		return nil
	}
	v := q.Get("seconds")
	var secs float64
	var err error
	if name == "trace" {
		secs, err = strconv.ParseFloat(v, 64)
	} else {
		var n int64
		n, err = strconv.ParseInt(v, 10, 64)
		secs = float64(n)
	}
	if err != nil || !(secs > 0 && secs <= MaxProfileSeconds) {
		return fmt.Errorf("seconds=%q: a profile takes more than 0 and at most %d seconds", v, MaxProfileSeconds)
	}
	return nil
}
