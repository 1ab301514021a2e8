package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// testListNewest checks ListNewest against the order it promises, computed
// here from every record: for each selection, the whole list, pages of
// every size, positions of records of other kinds and of no record, and
// the list after inserts, moves in time, deletes and a purge.
func testListNewest(t *testing.T, s Store) {
	ctx := context.Background()
	// Few distinct times, so that most records tie on their creation and
	// the order below it (account, Region, kind, id) decides; one time
	// before 1970 and one in microseconds apart.
	times := []time.Time{t0, t0.Add(time.Microsecond), t0.Add(-time.Hour), time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), t0.Add(time.Hour)}
	var all []*Record
	for _, acct := range []string{"1", "10", "2", "A"} {
		for _, region := range []string{"eu-west-1", "us-east-1", "us-east-10"} {
			for _, kind := range []string{"bundle", "image", "image-share"} {
				for i := range 3 {
					id := fmt.Sprintf("%s-%d", kind[:1], i)
					if i == 2 {
						id = "A" + id // byte order: "A" < "b"
					}
					created := times[rand.IntN(len(times))]
					all = append(all, &Record{Key: Key{acct, region, kind, id}, Created: created, Body: []byte(`{"id":"` + id + `"}`)})
				}
			}
		}
	}
	all = append(all, &Record{Key: Key{"", "", "setting", "clock"}, Created: t0, Body: []byte(`{}`)})
	err := s.Update(ctx, func(tx Tx) error {
		for _, r := range all {
			if err := tx.Insert(ctx, r, 0); err != nil {
				return err
			}
		}
		return nil
	})
	wantErr(t, "insert", err, nil)

	sels := []Selection{{}, {Account: "1"}, {Account: "10"}, {Account: "2", Region: "us-east-1"}, {Account: "A", Region: "us-east-10"}, {Account: "B"}, {Account: "1", Region: "ap-south-1"}}
	kinds := []string{"bundle", "image", "image-share", "nothing"}
	check := func(when string) {
		t.Helper()
		for _, sel := range sels {
			for _, kind := range kinds {
				want := expectNewest(all, kind, sel, nil)
				got, err := s.ListNewest(ctx, kind, sel, nil, 0)
				wantErr(t, "list newest", err, nil)
				if !slices.Equal(positions(got), want) {
					t.Fatalf("%s: ListNewest(%s, %+v) =\n%v\nwant\n%v", when, kind, sel, positions(got), want)
				}
				for _, r := range got {
					sameRecord(t, r, mustGet(t, s, r.Key))
				}
				// What a store lends is what it lists.
				lent, err := LendNewest(ctx, s, kind, sel, nil, 0)
				wantErr(t, "lend newest", err, nil)
				if len(lent) != len(got) {
					t.Fatalf("%s: LendNewest(%s, %+v): %d records, ListNewest %d", when, kind, sel, len(lent), len(got))
				}
				for i := range lent {
					sameRecord(t, lent[i], got[i])
				}
				// Pages of every size, each resumed from the position of
				// the last record of the one before.
				for size := 1; size <= len(want)+1; size++ {
					var paged []Position
					var after *Position
					for pages := 0; ; pages++ {
						page, err := s.ListNewest(ctx, kind, sel, after, size)
						wantErr(t, "list newest page", err, nil)
						if len(page) == 0 {
							break
						}
						if len(page) > size || pages > len(want) {
							t.Fatalf("page of %d records with limit %d", len(page), size)
						}
						paged = append(paged, positions(page)...)
						p := PositionOf(page[len(page)-1])
						after = &p
					}
					if !slices.Equal(paged, want) {
						t.Fatalf("%s: ListNewest(%s, %+v) in pages of %d =\n%v\nwant\n%v", when, kind, sel, size, paged, want)
					}
				}
			}
			// Any position resumes any kind: those of the records of the
			// other kinds (as a merge of the kinds resumes them) and
			// positions between records.
			var ps []Position
			for _, r := range all {
				p := PositionOf(r)
				ps = append(ps, p, Position{Created: p.Created, Account: p.Account, Region: p.Region, Kind: p.Kind, ID: p.ID + "0"},
					Position{Created: p.Created, Account: p.Account, Region: p.Region + "0", Kind: "a"},
					Position{Created: p.Created.Add(time.Microsecond), Account: "0"})
			}
			for _, p := range ps {
				kind := kinds[rand.IntN(len(kinds))]
				want := expectNewest(all, kind, sel, &p)
				limit := rand.IntN(4)
				if limit > 0 && len(want) > limit {
					want = want[:limit]
				}
				got, err := s.ListNewest(ctx, kind, sel, &p, limit)
				wantErr(t, "list newest after", err, nil)
				if !slices.Equal(positions(got), want) {
					t.Fatalf("%s: ListNewest(%s, %+v) after %+v, limit %d =\n%v\nwant\n%v", when, kind, sel, p, limit, positions(got), want)
				}
			}
		}
	}
	check("inserted")

	// A record moved in time moves in the order; deletes and inserts show
	// at once.
	err = s.Update(ctx, func(tx Tx) error {
		for i, r := range all {
			switch i % 7 {
			case 0:
				cur, err := tx.Get(ctx, r.Key)
				if err != nil {
					return err
				}
				cur.Created = cur.Created.Add(-2 * time.Hour)
				if err := tx.Put(ctx, cur); err != nil {
					return err
				}
				r.Created = cur.Created
			case 1:
				if err := tx.Delete(ctx, r.Key); err != nil {
					return err
				}
			}
		}
		return nil
	})
	wantErr(t, "move and delete", err, nil)
	var kept []*Record
	for i, r := range all {
		if i%7 != 1 {
			kept = append(kept, r)
		}
	}
	all = kept
	check("moved")

	_, err = Purge(ctx, s, Selection{Account: "1"})
	wantErr(t, "purge", err, nil)
	kept = nil
	for _, r := range all {
		if r.Account != "1" {
			kept = append(kept, r)
		}
	}
	all = kept
	check("purged")

	_, err = s.ListNewest(ctx, "image", Selection{Region: "us-east-1"}, nil, 0)
	wantErr(t, "list newest of a Region alone", err, ErrInvalidSelection)
}

// expectNewest is what ListNewest must return for the whole of records.
func expectNewest(records []*Record, kind string, sel Selection, after *Position) []Position {
	var out []Position
	for _, r := range records {
		p := PositionOf(r)
		if r.Kind == kind && sel.Contains(r.Key) && (after == nil || ComparePositions(p, *after) > 0) {
			out = append(out, Position{Created: micros(p.Created), Account: p.Account, Region: p.Region, Kind: p.Kind, ID: p.ID})
		}
	}
	slices.SortFunc(out, ComparePositions)
	return out
}

func positions(rs []*Record) []Position {
	out := []Position{}
	for _, r := range rs {
		out = append(out, PositionOf(r))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
