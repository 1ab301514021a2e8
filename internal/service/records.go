package service

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wsim/wsim/internal/store"
)

// Store kinds of the records this package keeps.
const (
	kindImage   = "image"
	kindSetting = "setting"
)

// loadJSON reads the record at k into v; found is false for a missing record.
func loadJSON(ctx context.Context, st interface {
	Get(context.Context, store.Key) (*store.Record, error)
}, k store.Key, v any) (rec *store.Record, found bool, err error) {
	rec, err = st.Get(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeError(err)
	}
	if err := json.Unmarshal(rec.Body, v); err != nil {
		return nil, false, fmt.Errorf("decode %s/%s: %w", k.Kind, k.ID, err)
	}
	return rec, true, nil
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by n random characters of [0-9a-z], the form
// of WorkSpaces resource ids (wsi-ten5h0y19).
func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		// 252 = 7*36 keeps the distribution uniform enough for ids; the
		// rejected bytes would only matter for cryptographic use.
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}
