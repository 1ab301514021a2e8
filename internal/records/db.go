// Package records is the typed layer over store.Store: every stored kind is
// declared once (kinds.go) with its Go type, store kind name, id prefix and
// length, quota and errors, and get, insert, read-modify-write, delete and
// paging are written once for all of them. It also answers the questions one
// resource asks about another (may this caller use that image, which bundles
// use it, is this account enabled for BYOL, what are the tags of any
// taggable resource) through types, so that no resource package ever reads
// another's JSON. Operation code never calls encoding/json or the store
// directly; it goes through here.
//
// Values read through a *DB reflect the latest committed state and may be
// shared with concurrent readers: never modify them. Values read through a
// *Tx belong to the caller, who may change them and write them back.
package records

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/store"
)

// Key addresses one stored record.
type Key = store.Key

// Meta is what every record carries besides its own fields: where it lives,
// its name and creation time. It is kept by the store beside the body, not
// in it, and filled in whenever a record is read.
type Meta struct {
	Account string    `json:"-"`
	Region  string    `json:"-"`
	ID      string    `json:"-"`
	Name    string    `json:"-"`
	Created time.Time `json:"-"`
	// version is the store version read, which a write back must carry; it
	// is meaningful only for values read through a Tx.
	version int64
	// answers is set for values the decode cache shares (see Answer).
	answers *answerSlot
}

func (m *Meta) meta() *Meta { return m }

// Config is what the typed layer is configured with.
type Config struct {
	// Quotas bound the records of a kind (by store kind name) per account
	// and Region; a kind without one is unbounded.
	Quotas map[string]int
	// BYOL says how accounts start out with respect to BYOL.
	BYOL BYOLMode
	// Directories says how wsim stands in for Directory Service
	// (DirectoriesFriendly when "").
	Directories DirectoryMode
	// DecodeCacheBytes bounds the cache of decoded records
	// (DefaultDecodeCacheBytes when 0).
	DecodeCacheBytes int64
}

// DefaultDecodeCacheBytes bounds the decoded records kept for readers.
const DefaultDecodeCacheBytes = 64 << 20

// DB is the typed view of one store.
type DB struct {
	st      store.Store
	cfg     Config
	decoded *decodeCache
	faults  *faultRuleCache
}

// Open returns the typed view of st.
func Open(st store.Store, cfg Config) *DB {
	if cfg.BYOL == "" {
		cfg.BYOL = BYOLFriendly
	}
	if cfg.Directories == "" {
		cfg.Directories = DirectoriesFriendly
	}
	if cfg.DecodeCacheBytes <= 0 {
		cfg.DecodeCacheBytes = DefaultDecodeCacheBytes
	}
	return &DB{st: st, cfg: cfg, decoded: newDecodeCache(cfg.DecodeCacheBytes), faults: &faultRuleCache{}}
}

// Quota is the limit of records of the kind per account and Region; 0 means
// none.
func (db *DB) Quota(kind string) int { return db.cfg.Quotas[kind] }

// BYOLMode is how accounts start out.
func (db *DB) BYOLMode() BYOLMode { return db.cfg.BYOL }

// DirectoryMode is how wsim stands in for Directory Service.
func (db *DB) DirectoryMode() DirectoryMode { return db.cfg.Directories }

// Ping reports whether the store can be reached.
func (db *DB) Ping(ctx context.Context) error { return db.st.Ping(ctx) }

// Update runs fn in one serializable transaction, committed durably before
// Update returns nil. fn may run more than once (PostgreSQL retries
// serialization failures), so it must not have effects outside tx.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	return db.st.Update(ctx, func(tx store.Tx) error { return fn(&Tx{db: db, tx: tx}) })
}

// Tx is a transaction of Update.
type Tx struct {
	db *DB
	tx store.Tx
}

// Reader is what both a *DB and a *Tx offer for reading.
type Reader interface {
	get(ctx context.Context, k Key) (*store.Record, error)
	list(ctx context.Context, s store.Scope, afterID string, limit int) ([]*store.Record, error)
	// cache is where decoded values are shared, nil inside a transaction.
	cache() *decodeCache
}

// The reads of a DB only decode what they read, so they borrow the store's
// records (store.LendGet) instead of copying them.
func (db *DB) get(ctx context.Context, k Key) (*store.Record, error) {
	return store.LendGet(ctx, db.st, k)
}
func (db *DB) list(ctx context.Context, s store.Scope, after string, limit int) ([]*store.Record, error) {
	return store.LendList(ctx, db.st, s, after, limit)
}
func (db *DB) cache() *decodeCache { return db.decoded }

func (t *Tx) get(ctx context.Context, k Key) (*store.Record, error) { return t.tx.Get(ctx, k) }
func (t *Tx) list(ctx context.Context, s store.Scope, after string, limit int) ([]*store.Record, error) {
	return t.tx.List(ctx, s, after, limit)
}
func (t *Tx) cache() *decodeCache { return nil }

var (
	_ Reader = (*DB)(nil)
	_ Reader = (*Tx)(nil)
)

func encode(kind, id string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", kind, id, err)
	}
	return b, nil
}
