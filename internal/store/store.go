// Package store owns wsim's durable state. Everything the service layer keeps
// is a Record: a JSON document, opaque to this package, addressed by a Key and
// optionally carrying a Name that is unique within its (Account, Region, Kind).
//
// Three interchangeable backends implement Store: an in-process map
// ("memory"), an embedded SQLite file (the default) and PostgreSQL (for
// several wsim replicas sharing one state). Callers never learn which one they
// have; the conformance suite in this package's tests pins down the behaviour
// they all share, and the error sentinels below are the whole error
// vocabulary callers need to map to the wire.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Errors returned by stores. They may be wrapped; test with errors.Is.
var (
	ErrNotFound      = errors.New("store: not found")
	ErrAlreadyExists = errors.New("store: already exists")
	ErrNameTaken     = errors.New("store: name already in use")
	ErrLimitExceeded = errors.New("store: limit exceeded")
	// ErrConflict means the caller's copy of a record is stale: it changed
	// (or vanished) since it was read. Re-read and try again.
	ErrConflict = errors.New("store: record changed concurrently")
	// ErrNewerSchema means the state was written by a newer wsim; refusing to
	// open it is safer than misreading or "migrating" it backwards.
	ErrNewerSchema = errors.New("store: state was written by a newer wsim (schema version too new)")
	// ErrUnavailable wraps failures to reach the backing database, so the
	// service can answer "try again" rather than "internal error".
	ErrUnavailable = errors.New("store: unavailable")
)

// errClosed is returned by a store after Close; to a request still in flight
// during shutdown that is the same as the database being unreachable.
var errClosed = fmt.Errorf("%w: store is closed", ErrUnavailable)

// Key addresses one record.
type Key struct{ Account, Region, Kind, ID string }

// Scope is the set of records of one Kind in one account and region; names
// are unique and limits are counted within a scope.
type Scope struct{ Account, Region, Kind string }

// Scope returns the scope k belongs to.
func (k Key) Scope() Scope { return Scope{k.Account, k.Region, k.Kind} }

// Record is one stored document.
type Record struct {
	Key
	// Name, when non-empty, is unique within the record's Scope.
	Name string
	// Created is set by the caller; stores keep microsecond precision and
	// return it in UTC.
	Created time.Time
	// Version is maintained by the store: 1 on insert, +1 on each Put. A Put
	// must carry the version it read, which is how lost updates are detected.
	Version int64
	// Body is the JSON document, opaque to the store.
	Body []byte
}

// Tx is the view of the store inside Update. Its reads see the transaction's
// own writes.
type Tx interface {
	Get(ctx context.Context, k Key) (*Record, error)
	// List returns records of s with ID > afterID in ascending byte order of
	// ID, at most limit of them (limit <= 0: all).
	List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error)
	Count(ctx context.Context, s Scope) (int, error)
	// Insert adds a new record and sets r.Version to 1. It fails with
	// ErrAlreadyExists if the key is taken, ErrNameTaken if the name is, and
	// ErrLimitExceeded if max > 0 and the scope already holds max records.
	Insert(ctx context.Context, r *Record, max int) error
	// Put writes r and bumps r.Version. r.Version must be the version the
	// caller read (0 for a record it believes absent); otherwise Put fails
	// with ErrConflict and writes nothing. ErrNameTaken if another key in the
	// scope has the name.
	Put(ctx context.Context, r *Record) error
	// Delete removes a record; ErrNotFound if there is none.
	Delete(ctx context.Context, k Key) error
	// Select returns the records of kind that sel contains, ordered by
	// (Account, Region, ID) in byte order. It serves what must be read
	// across the Regions of an account inside a transaction, such as what
	// a reset must fix up before Purge.
	Select(ctx context.Context, sel Selection, kind string) ([]*Record, error)
	// Purge deletes every record sel contains, of every kind, and returns
	// how many it deleted by kind (no entry for a kind it deleted none of).
	// Names and quota counts of the deleted records are freed at once,
	// within the transaction.
	Purge(ctx context.Context, sel Selection) (map[string]int, error)
}

// Selection picks records by where they live: every record (the zero
// Selection, which includes the records outside every account, such as
// wsim's own settings), every record of one account, or every record of one
// account in one Region.
type Selection struct{ Account, Region string }

// ErrInvalidSelection is a Selection naming a Region without an account.
var ErrInvalidSelection = errors.New("store: a selection by Region needs an account")

// Validate refuses a Region without an account.
func (s Selection) Validate() error {
	if s.Account == "" && s.Region != "" {
		return ErrInvalidSelection
	}
	return nil
}

// All reports whether s selects every record.
func (s Selection) All() bool { return s.Account == "" && s.Region == "" }

// Contains reports whether s selects k.
func (s Selection) Contains(k Key) bool {
	return s.All() || (k.Account == s.Account && (s.Region == "" || k.Region == s.Region))
}

// Purge deletes every record sel contains in one transaction of its own,
// and returns how many it deleted by kind.
func Purge(ctx context.Context, st Store, sel Selection) (map[string]int, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	var counts map[string]int
	err := st.Update(ctx, func(tx Tx) error {
		var err error
		counts, err = tx.Purge(ctx, sel)
		return err
	})
	return counts, err
}

// Store is wsim's state. All implementations are safe for concurrent use.
type Store interface {
	// Get and List outside a transaction read the latest committed state.
	Get(ctx context.Context, k Key) (*Record, error)
	List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error)
	// ListKind returns records of kind in every account and Region, ordered
	// by (Account, Region, ID) in byte order, strictly after after (whose
	// Kind is ignored), at most limit of them (limit <= 0: all). Like List's
	// afterID, the zero Key starts at the beginning. It serves views across
	// scopes, such as the dashboard of every pipeline; it reads the latest
	// committed state and is not offered inside transactions.
	ListKind(ctx context.Context, kind string, after Key, limit int) ([]*Record, error)
	// ListNewest returns records of kind in sel (every account, an account,
	// or an account in a Region; a Region alone is ErrInvalidSelection),
	// newest first: by Created descending, then by Account, Region, Kind
	// and ID ascending in byte order (ComparePositions), strictly after the
	// position after (nil: from the newest), at most limit of them (limit
	// <= 0: all). The kind takes part in the order, so that several kinds'
	// lists merge into one order that one position resumes. A page costs
	// about its length, however many records the store holds (indexes in
	// SQL, sorted keys in memory; an account's Regions are merged). Like
	// ListKind it reads the latest committed state.
	ListNewest(ctx context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error)
	// Update runs fn in one serializable read-write transaction and commits
	// it durably before returning nil. If fn returns an error nothing of it is
	// applied and that error is returned unchanged. fn may be run more than
	// once (PostgreSQL retries serialization failures), so it must have no
	// side effects beyond tx. fn must read through tx, not through the Store
	// (the memory store holds its lock while fn runs), and must not call
	// Update: both would deadlock.
	Update(ctx context.Context, fn func(Tx) error) error
	Ping(ctx context.Context) error
	Close() error
}

// lender is implemented by stores that can lend a reader the records they
// keep instead of copies: a record a store has committed is never changed,
// only replaced, so a lent record stays as it was read. The reader must not
// change it either; it may keep it.
type lender interface {
	lendGet(ctx context.Context, k Key) (*Record, error)
	lendList(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error)
}

// LendGet is Get for a reader that never changes the record it gets (and
// may keep it): stores that can skip the copy Get makes do (see lender).
func LendGet(ctx context.Context, st Store, k Key) (*Record, error) {
	if l, ok := st.(lender); ok {
		return l.lendGet(ctx, k)
	}
	return st.Get(ctx, k)
}

// LendList is List for a reader that never changes the records it gets
// (and may keep them), as LendGet is Get: a page of records is then not a
// copy of every body.
func LendList(ctx context.Context, st Store, s Scope, afterID string, limit int) ([]*Record, error) {
	if l, ok := st.(lender); ok {
		return l.lendList(ctx, s, afterID, limit)
	}
	return st.List(ctx, s, afterID, limit)
}

// newestLender is implemented by stores that can lend ListNewest's records
// instead of copies, as lender's do Get's and List's.
type newestLender interface {
	lendNewest(ctx context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error)
}

// LendNewest is ListNewest for a reader that never changes the records it
// gets (and may keep them), as LendList is List.
func LendNewest(ctx context.Context, st Store, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	if l, ok := st.(newestLender); ok {
		return l.lendNewest(ctx, kind, sel, after, limit)
	}
	return st.ListNewest(ctx, kind, sel, after, limit)
}

// specForms is shown when a spec is not understood.
const specForms = `"memory", "sqlite" (file wsim.db in the data directory), "sqlite:/path/to/file.db" or "postgres://user:password@host:port/dbname"`

// DefaultTimeout is how long a call to a SQLite or PostgreSQL store may take
// unless Options.Timeout says otherwise.
const DefaultTimeout = 5 * time.Second

// Options tune how a store is used.
type Options struct {
	// Timeout bounds every call to a SQLite or PostgreSQL store (each Get,
	// List, ListKind, Ping and Update, an Update's retries included): one
	// that has not answered by then fails with ErrUnavailable, so that a
	// hung database gives the client a retryable error in seconds rather
	// than a hang. DefaultTimeout when <= 0.
	Timeout time.Duration
}

// Open opens the store described by spec with the default Options:
//
//	memory                 state lives in this process only
//	sqlite (or "")         <dataDir>/wsim.db, the directory created 0o700
//	sqlite:/path/file.db   that file
//	postgres://... or postgresql://...   a PostgreSQL database
func Open(ctx context.Context, spec string, dataDir string) (Store, error) {
	return OpenWith(ctx, spec, dataDir, Options{})
}

// OpenWith opens the store described by spec (see Open) with o.
func OpenWith(ctx context.Context, spec string, dataDir string, o Options) (Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	kind, target, err := parseSpec(spec, dataDir)
	if err != nil {
		return nil, err
	}
	var st Store
	switch kind {
	case "memory":
		return newMemory(), nil
	case "sqlite":
		st, err = openSQLite(ctx, target)
	default:
		st, err = openPostgres(ctx, target, o.Timeout)
	}
	if err != nil {
		return nil, err
	}
	return &timed{Store: st, d: o.Timeout}, nil
}

// timed gives every call to the store it wraps a deadline. The memory store
// needs none: it never waits for anything but its own lock.
//
// A SQLite Update the writer has taken is still waited for past the
// deadline (see sqliteStore.Update): the caller must not be told "failed"
// about a write that then commits. One the writer has not taken yet when the
// deadline passes is answered at once and never run.
type timed struct {
	Store
	d time.Duration
}

// answers are the errors that are the store's answer, not a failure to get
// one, even if they arrive just as the deadline passes.
var answers = []error{ErrNotFound, ErrAlreadyExists, ErrNameTaken, ErrLimitExceeded, ErrConflict, ErrInvalidSelection}

// fail marks err with ErrUnavailable when it came from the deadline of ctx
// running out, not from the caller (parent) giving up.
func (s *timed) fail(parent, ctx context.Context, err error) error {
	if err == nil || parent.Err() != nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		return err
	}
	for _, a := range answers {
		if errors.Is(err, a) {
			return err
		}
	}
	return fmt.Errorf("%w: no answer within %s: %w", ErrUnavailable, s.d, err)
}

func (s *timed) Get(parent context.Context, k Key) (*Record, error) {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	r, err := s.Store.Get(ctx, k)
	return r, s.fail(parent, ctx, err)
}

func (s *timed) List(parent context.Context, sc Scope, afterID string, limit int) ([]*Record, error) {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	out, err := s.Store.List(ctx, sc, afterID, limit)
	return out, s.fail(parent, ctx, err)
}

func (s *timed) lendGet(parent context.Context, k Key) (*Record, error) {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	r, err := LendGet(ctx, s.Store, k)
	return r, s.fail(parent, ctx, err)
}

func (s *timed) lendList(parent context.Context, sc Scope, afterID string, limit int) ([]*Record, error) {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	out, err := LendList(ctx, s.Store, sc, afterID, limit)
	return out, s.fail(parent, ctx, err)
}

func (s *timed) ListKind(parent context.Context, kind string, after Key, limit int) ([]*Record, error) {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	out, err := s.Store.ListKind(ctx, kind, after, limit)
	return out, s.fail(parent, ctx, err)
}

func (s *timed) Ping(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	return s.fail(parent, ctx, s.Store.Ping(ctx))
}

// Update passes fn's error through unchanged unless the deadline ran out.
func (s *timed) Update(parent context.Context, fn func(Tx) error) error {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	return s.fail(parent, ctx, s.Store.Update(ctx, fn))
}

// Describe says in words which store spec selects, for the start-up log. It
// never includes passwords.
func Describe(spec, dataDir string) string {
	kind, target, err := parseSpec(spec, dataDir)
	if err != nil {
		return fmt.Sprintf("invalid store %q", redact(spec))
	}
	switch kind {
	case "memory":
		return "in-memory store (state is lost on exit)"
	case "sqlite":
		return "SQLite store at " + target
	default:
		return "PostgreSQL store at " + redact(target)
	}
}

func parseSpec(spec, dataDir string) (kind, target string, err error) {
	switch {
	case spec == "memory":
		return "memory", "", nil
	case spec == "sqlite" || spec == "":
		if dataDir == "" {
			return "", "", errors.New(`store: "sqlite" needs a data directory; pass one or use "sqlite:/path/to/file.db"`)
		}
		return "sqlite", filepath.Join(dataDir, "wsim.db"), nil
	case strings.HasPrefix(spec, "sqlite:"):
		p := strings.TrimPrefix(spec, "sqlite:")
		if p == "" {
			return "", "", fmt.Errorf("store: %q names no file; use one of %s", spec, specForms)
		}
		// The SQLite driver reads anything after '?' as connection options.
		if strings.ContainsRune(p, '?') {
			return "", "", fmt.Errorf("store: SQLite path %q must not contain '?'", p)
		}
		return "sqlite", p, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return "postgres", spec, nil
	}
	return "", "", fmt.Errorf("store: unknown store %q; use one of %s", redact(spec), specForms)
}

// redact hides passwords in a URL, both in the userinfo and in a
// password= query parameter.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		if i := strings.Index(s, "@"); i >= 0 {
			return "xxxxx" + s[i:]
		}
		return s
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// mkdirFor creates the directory holding file, private to this user because
// the state may contain credentials-like data.
func mkdirFor(file string) error {
	return os.MkdirAll(filepath.Dir(file), 0o700)
}

// micros normalises a time the way every backend stores it, so all three
// return identical values.
func micros(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// compareKeys orders keys as ListKind returns them.
func compareKeys(a, b Key) int {
	if c := strings.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	if c := strings.Compare(a.Region, b.Region); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// cloneRecord copies a record, body and all: what a store keeps must not
// change when a caller reuses its record, and what it hands out is the
// caller's to change.
func cloneRecord(r *Record) *Record {
	c := *r
	c.Created = micros(r.Created)
	c.Body = append([]byte(nil), r.Body...)
	return &c
}

// cloneRecords copies the records of a page in two allocations, one for the
// records and one for all their bodies, instead of two for each record.
func cloneRecords(rs []*Record) []*Record {
	size := 0
	for _, r := range rs {
		size += len(r.Body)
	}
	vals := make([]Record, len(rs))
	bodies := make([]byte, 0, size)
	out := make([]*Record, len(rs))
	for i, r := range rs {
		vals[i] = *r
		vals[i].Created = micros(r.Created)
		start := len(bodies)
		bodies = append(bodies, r.Body...)
		vals[i].Body = bodies[start:len(bodies):len(bodies)]
		out[i] = &vals[i]
	}
	return out
}
