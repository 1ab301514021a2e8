package records

import (
	"context"
	"strings"
	"testing"
)

// TestAnswersKeptWithSharedValues checks which values keep an answer: only
// those the decode cache shares, under the key they were kept with, until
// their record changes; never a value read in a transaction or a copy.
func TestAnswersKeptWithSharedValues(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		img := newImage("111122223333", "answers")
		if err := Images.Create(ctx, db, img, nil); err != nil {
			t.Fatal(err)
		}
		get := func() *Image {
			t.Helper()
			v, err := Images.Get(ctx, db, img.Account, img.Region, img.ID)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		enc := []byte(`{"ImageId":"` + img.ID + `"}`)
		shared := get()
		if got := shared.Answer("AVAILABLE"); got != nil {
			t.Fatalf("a fresh value answers %s", got)
		}
		shared.KeepAnswer("AVAILABLE", enc)

		var inTx *Image
		db.Update(ctx, func(tx *Tx) error {
			inTx, _ = Images.Get(ctx, tx, img.Account, img.Region, img.ID)
			inTx.KeepAnswer("AVAILABLE", enc)
			return nil
		})
		cp := *shared
		cp.Description = "changed in a copy"
		cp.KeepAnswer("PENDING", []byte(`{"copy":true}`))
		big := get()
		big.KeepAnswer("BIG", []byte(strings.Repeat("x", 1<<20)))

		for _, c := range []struct {
			name string
			v    *Image
			key  string
			want string
		}{
			{"the shared value, same key", get(), "AVAILABLE", string(enc)},
			{"the shared value, another key", get(), "PENDING", ""},
			{"an answer too large to keep", get(), "BIG", ""},
			{"a value read in a transaction", inTx, "AVAILABLE", ""},
			{"a copy of the shared value", &cp, "AVAILABLE", ""},
			{"a copy, the key it kept under", &cp, "PENDING", ""},
		} {
			if got := string(c.v.Answer(c.key)); got != c.want {
				t.Errorf("%s: Answer(%q) = %q, want %q", c.name, c.key, got, c.want)
			}
		}
		if got := string(get().Answer("AVAILABLE")); got != string(enc) {
			t.Fatalf("the shared value lost its answer to a copy's: %q", got)
		}

		if _, err := Images.Mutate(ctx, db, img.Account, img.Region, img.ID, func(_ *Tx, v *Image) error {
			v.Description = "new"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		after := get()
		if after.Description != "new" {
			t.Fatalf("after a write, read %q", after.Description)
		}
		if got := after.Answer("AVAILABLE"); got != nil {
			t.Errorf("after a write the record still answers %s", got)
		}
	})
}
