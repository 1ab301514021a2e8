package records

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/store"
)

// Record is implemented by every record type, through its embedded Meta.
type Record[T any] interface {
	*T
	meta() *Meta
}

// Kind declares one stored kind. T is the record's Go type, which embeds
// Meta; P is *T.
type Kind[T any, P Record[T]] struct {
	// Name is the store kind; it is stored, so it must stay stable.
	Name string
	// Prefix and IDLen make fresh ids: Prefix then IDLen characters of
	// [0-9a-z], the form of WorkSpaces ids (wsi-ten5h0y19).
	Prefix string
	IDLen  int
	// NewID, when set, makes ids instead of Prefix and IDLen.
	NewID func(now time.Time) string
	// WithID, when set, fills in what is derived from a fresh id, once, at
	// creation, so that no read recomputes it.
	WithID func(v P)
	// NotFound answers a missing id; AlreadyExists a name taken in the
	// account and Region; LimitExceeded a full quota.
	NotFound      func(id string) error
	AlreadyExists func(name string) error
	LimitExceeded func(limit int, region string) error
}

func (k *Kind[T, P]) key(account, region, id string) Key {
	return Key{Account: account, Region: region, Kind: k.Name, ID: id}
}

func (k *Kind[T, P]) scope(account, region string) store.Scope {
	return store.Scope{Account: account, Region: region, Kind: k.Name}
}

// decode turns a stored record into a value: from the reader's cache when it
// has one (the value is then shared), else freshly.
func (k *Kind[T, P]) decode(r Reader, rec *store.Record) (P, error) {
	c := r.cache()
	if c != nil {
		if v, ok := c.lookup(rec); ok {
			if p, ok := v.(P); ok {
				return p, nil
			}
		}
	}
	p := P(new(T))
	if err := json.Unmarshal(rec.Body, p); err != nil {
		return nil, fmt.Errorf("decode %s %s/%s/%s: %w", k.Name, rec.Account, rec.Region, rec.ID, err)
	}
	m := p.meta()
	*m = Meta{Account: rec.Account, Region: rec.Region, ID: rec.ID, Name: rec.Name, Created: rec.Created, version: rec.Version}
	if c != nil {
		// Only a shared value, which no reader changes, may keep its answer.
		m.answers = &answerSlot{owner: m, limit: maxAnswer(len(rec.Body))}
		c.remember(rec, p)
	}
	return p, nil
}

// Find returns the record, or nil when there is none.
func (k *Kind[T, P]) Find(ctx context.Context, r Reader, account, region, id string) (P, error) {
	rec, err := r.get(ctx, k.key(account, region, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return k.decode(r, rec)
}

// Get returns the record, or the kind's NotFound error.
func (k *Kind[T, P]) Get(ctx context.Context, r Reader, account, region, id string) (P, error) {
	p, err := k.Find(ctx, r, account, region, id)
	if err == nil && p == nil {
		return nil, k.notFound(id)
	}
	return p, err
}

func (k *Kind[T, P]) notFound(id string) error {
	if k.NotFound != nil {
		return k.NotFound(id)
	}
	return fmt.Errorf("records: %s %s not found", k.Name, id)
}

// List returns every record of the kind in the account and Region, by id.
func (k *Kind[T, P]) List(ctx context.Context, r Reader, account, region string) ([]P, error) {
	out, _, err := k.After(ctx, r, account, region, "", 0)
	return out, err
}

// After returns up to limit records (all when limit <= 0) with ids after
// afterID, by id, and whether more follow.
func (k *Kind[T, P]) After(ctx context.Context, r Reader, account, region, afterID string, limit int) ([]P, bool, error) {
	n := limit
	if n > 0 {
		n++
	}
	recs, err := r.list(ctx, k.scope(account, region), afterID, n)
	if err != nil {
		return nil, false, err
	}
	more := limit > 0 && len(recs) > limit
	if more {
		recs = recs[:limit]
	}
	out := make([]P, 0, len(recs))
	for _, rec := range recs {
		p, err := k.decode(r, rec)
		if err != nil {
			return nil, false, err
		}
		out = append(out, p)
	}
	return out, more, nil
}

// Page returns one page of the kind's records in the account and Region,
// by id, continuing after the page that returned token; next is set when
// more follow.
func (k *Kind[T, P]) Page(ctx context.Context, r Reader, account, region string, token *string, limit int) (items []P, next *string, err error) {
	_, after, err := DecodeToken(token, k.Name)
	if err != nil {
		return nil, nil, err
	}
	items, more, err := k.After(ctx, r, account, region, after, limit)
	if err != nil || !more {
		return items, nil, err
	}
	return items, EncodeToken(k.Name, items[len(items)-1].meta().ID), nil
}

// Scan returns records of the kind across every account and Region in
// (account, Region, id) order, strictly after the key after (whose Kind is
// ignored), at most limit of them. It reads the latest committed state.
func (k *Kind[T, P]) Scan(ctx context.Context, db *DB, after Key, limit int) ([]P, error) {
	recs, err := db.st.ListKind(ctx, k.Name, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]P, 0, len(recs))
	for _, rec := range recs {
		p, err := k.decode(db, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Insert adds v in its account and Region (v.Account, v.Region) within tx:
// under a fresh id when v.ID is empty (set on success), with v.Name unique
// in the scope when non-empty, and within the kind's quota.
func (k *Kind[T, P]) Insert(ctx context.Context, tx *Tx, v P) error {
	m := v.meta()
	fresh := m.ID == ""
	for attempt := 0; ; attempt++ {
		if fresh {
			m.ID = k.freshID(m.Created)
			if k.WithID != nil {
				k.WithID(v)
			}
		}
		body, err := encode(k.Name, m.ID, v)
		if err != nil {
			return err
		}
		rec := &store.Record{Key: k.key(m.Account, m.Region, m.ID), Name: m.Name, Created: m.Created, Body: body}
		err = tx.tx.Insert(ctx, rec, tx.db.Quota(k.Name))
		switch {
		case err == nil:
			m.version = rec.Version
			return nil
		case errors.Is(err, store.ErrAlreadyExists) && fresh && attempt < 5:
			continue // an id collision: draw another
		case errors.Is(err, store.ErrNameTaken) && k.AlreadyExists != nil:
			return k.AlreadyExists(m.Name)
		case errors.Is(err, store.ErrLimitExceeded) && k.LimitExceeded != nil:
			return k.LimitExceeded(tx.db.Quota(k.Name), m.Region)
		}
		if fresh {
			m.ID = ""
		}
		return err
	}
}

// Create inserts v in a transaction of its own, after check (which may
// read, refuse, or complete v) has run in the same transaction.
func (k *Kind[T, P]) Create(ctx context.Context, db *DB, v P, check func(*Tx) error) error {
	return db.Update(ctx, func(tx *Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		return k.Insert(ctx, tx, v)
	})
}

// Put writes back v, read earlier in the same transaction.
func (k *Kind[T, P]) Put(ctx context.Context, tx *Tx, v P) error {
	m := v.meta()
	body, err := encode(k.Name, m.ID, v)
	if err != nil {
		return err
	}
	rec := &store.Record{Key: k.key(m.Account, m.Region, m.ID), Name: m.Name, Created: m.Created, Version: m.version, Body: body}
	if err := tx.tx.Put(ctx, rec); err != nil {
		if errors.Is(err, store.ErrNameTaken) && k.AlreadyExists != nil {
			return k.AlreadyExists(m.Name)
		}
		return err
	}
	m.version = rec.Version
	return nil
}

// Delete removes the record of v; deleting one that is already gone
// succeeds.
func (k *Kind[T, P]) Delete(ctx context.Context, tx *Tx, v P) error {
	m := v.meta()
	return k.DeleteID(ctx, tx, m.Account, m.Region, m.ID)
}

// DeleteID removes the record with the id, if there is one.
func (k *Kind[T, P]) DeleteID(ctx context.Context, tx *Tx, account, region, id string) error {
	err := tx.tx.Delete(ctx, k.key(account, region, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// Mutate reads the record in a transaction, lets fn change it (or refuse),
// and writes it back: a read-modify-write that concurrent writers can never
// lose. It returns the record as written, or the kind's NotFound error.
func (k *Kind[T, P]) Mutate(ctx context.Context, db *DB, account, region, id string, fn func(*Tx, P) error) (P, error) {
	var out P
	err := db.Update(ctx, func(tx *Tx) error {
		v, err := k.Get(ctx, tx, account, region, id)
		if err != nil {
			return err
		}
		if err := fn(tx, v); err != nil {
			return err
		}
		out = v
		return k.Put(ctx, tx, v)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (k *Kind[T, P]) freshID(now time.Time) string {
	if k.NewID != nil {
		return k.NewID(now)
	}
	return NewID(k.Prefix, k.IDLen)
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns prefix followed by n random characters of [0-9a-z].
func NewID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		// 252 = 7*36 keeps the distribution uniform enough for ids; the
		// rejected bytes would only matter for cryptographic use.
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// MetaOf returns where a record lives, its name and creation time.
func MetaOf[T any, P Record[T]](v P) Meta { return *v.meta() }
