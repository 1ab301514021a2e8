package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runConformance is the behaviour every backend shares. open must return a
// fresh, empty store; it is called once per subtest.
func runConformance(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"CRUD", testCRUD},
		{"RecordsAreCopies", testCopies},
		{"LentRecordsNeverChange", testLent},
		{"CreatedPrecision", testCreated},
		{"Versions", testVersions},
		{"NameUniqueness", testNames},
		{"Limits", testLimits},
		{"ListOrderAndPagination", testList},
		{"ScopeIsolation", testScopes},
		{"ListKindAcrossScopes", testListKind},
		{"ListNewest", testListNewest},
		{"RollbackOnError", testRollback},
		{"TxSeesOwnWrites", testOwnWrites},
		{"SentinelsThroughUpdate", testSentinels},
		{"EmptyAccountAndRegion", testSettings},
		{"CancelledContext", testCancelled},
		{"CancelledMidTransaction", testCancelledMidTx},
		{"ReadersNeverSeePartialTx", testAtomicVisibility},
		{"ConcurrentSameName", testConcurrentName},
		{"ConcurrentLimit", testConcurrentLimit},
		{"ConcurrentReadModifyWrite", testConcurrentRMW},
		{"UseAfterClose", testClosed},
		{"Purge", testPurge},
		{"PurgeInsideTx", testPurgeInTx},
		{"PurgeOfEverything", testPurgeAll},
		{"Select", testSelect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			tc.fn(t, s)
		})
	}
}

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))

func rec(acct, id, name string) *Record {
	return &Record{
		Key:     Key{Account: acct, Region: "us-east-1", Kind: "workspace", ID: id},
		Name:    name,
		Created: t0,
		Body:    []byte(`{"id":"` + id + `"}`),
	}
}

func insert(t *testing.T, s Store, r *Record, max int) error {
	t.Helper()
	return s.Update(context.Background(), func(tx Tx) error { return tx.Insert(context.Background(), r, max) })
}

func put(s Store, r *Record) error {
	return s.Update(context.Background(), func(tx Tx) error { return tx.Put(context.Background(), r) })
}

func del(s Store, k Key) error {
	return s.Update(context.Background(), func(tx Tx) error { return tx.Delete(context.Background(), k) })
}

func mustGet(t *testing.T, s Store, k Key) *Record {
	t.Helper()
	r, err := s.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("Get(%v): %v", k, err)
	}
	return r
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

func ids(rs []*Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func sameRecord(t *testing.T, got, want *Record) {
	t.Helper()
	if got.Key != want.Key || got.Name != want.Name || got.Version != want.Version ||
		!got.Created.Equal(want.Created.Truncate(time.Microsecond)) || !bytes.Equal(got.Body, want.Body) {
		t.Fatalf("record = %+v (body %s), want %+v (body %s)", got, got.Body, want, want.Body)
	}
}

func testCRUD(t *testing.T, s Store) {
	ctx := context.Background()
	r := rec("111111111111", "ws-1", "first")
	wantErr(t, "insert", insert(t, s, r, 0), nil)
	if r.Version != 1 {
		t.Fatalf("Insert set Version %d, want 1", r.Version)
	}
	got := mustGet(t, s, r.Key)
	sameRecord(t, got, r)

	wantErr(t, "insert again", insert(t, s, rec("111111111111", "ws-1", ""), 0), ErrAlreadyExists)

	_, err := s.Get(ctx, Key{"111111111111", "us-east-1", "workspace", "ws-2"})
	wantErr(t, "get missing", err, ErrNotFound)

	wantErr(t, "delete", del(s, r.Key), nil)
	_, err = s.Get(ctx, r.Key)
	wantErr(t, "get deleted", err, ErrNotFound)
	wantErr(t, "delete again", del(s, r.Key), ErrNotFound)

	// A deleted key and its name are free again.
	r2 := rec("111111111111", "ws-1", "first")
	wantErr(t, "re-insert", insert(t, s, r2, 0), nil)
	if r2.Version != 1 {
		t.Fatalf("re-insert Version %d, want 1", r2.Version)
	}

	// Empty and nil bodies round-trip as empty.
	r3 := rec("111111111111", "ws-3", "")
	r3.Body = nil
	wantErr(t, "insert nil body", insert(t, s, r3, 0), nil)
	if got := mustGet(t, s, r3.Key); len(got.Body) != 0 {
		t.Fatalf("nil body came back as %q", got.Body)
	}
}

func testCopies(t *testing.T, s Store) {
	ctx := context.Background()
	r := rec("1", "ws-1", "n")
	wantErr(t, "insert", insert(t, s, r, 0), nil)
	r.Body[2] = 'X' // the caller's record is not the store's
	got := mustGet(t, s, r.Key)
	if string(got.Body) != `{"id":"ws-1"}` {
		t.Fatalf("store kept a reference to the inserted body: %s", got.Body)
	}
	got.Body[2] = 'Y'
	got.Name = "changed"
	if again := mustGet(t, s, r.Key); string(again.Body) != `{"id":"ws-1"}` || again.Name != "n" {
		t.Fatalf("store handed out its own record: %+v %s", again, again.Body)
	}
	list, err := s.List(ctx, r.Scope(), "", 0)
	wantErr(t, "list", err, nil)
	list[0].Body[2] = 'Z'
	if again := mustGet(t, s, r.Key); string(again.Body) != `{"id":"ws-1"}` {
		t.Fatalf("List handed out the store's record: %s", again.Body)
	}
}

// testLent checks LendGet and LendList: the records they lend are those Get
// and List return, and a later write or delete replaces them in the store
// without changing what was lent.
func testLent(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := rec("1", "ws-1", "a"), rec("1", "ws-2", "b")
	wantErr(t, "insert", insert(t, s, a, 0), nil)
	wantErr(t, "insert", insert(t, s, b, 0), nil)
	for range 2 { // the second time from a store's read cache, if it has one
		lent, err := LendGet(ctx, s, a.Key)
		wantErr(t, "lend get", err, nil)
		if got := mustGet(t, s, a.Key); !reflect.DeepEqual(lent, got) {
			t.Fatalf("LendGet = %+v, Get = %+v", lent, got)
		}
		page, err := LendList(ctx, s, a.Scope(), "", 0)
		wantErr(t, "lend list", err, nil)
		list, err := s.List(ctx, a.Scope(), "", 0)
		wantErr(t, "list", err, nil)
		if !reflect.DeepEqual(page, list) {
			t.Fatalf("LendList = %v, List = %v", ids(page), ids(list))
		}
	}
	lent, _ := LendGet(ctx, s, a.Key)
	page, _ := LendList(ctx, s, a.Scope(), "", 0)
	a.Body, a.Name = []byte(`{"id":"ws-1","v":2}`), "a2"
	wantErr(t, "put", put(s, a), nil)
	wantErr(t, "delete", s.Update(ctx, func(tx Tx) error { return tx.Delete(ctx, b.Key) }), nil)
	if string(lent.Body) != `{"id":"ws-1"}` || lent.Version != 1 || lent.Name != "a" {
		t.Fatalf("a lent record changed with a later write: %+v %s", lent, lent.Body)
	}
	if len(page) != 2 || string(page[0].Body) != `{"id":"ws-1"}` || page[0].Version != 1 || string(page[1].Body) != `{"id":"ws-2"}` {
		t.Fatalf("a lent page changed with later writes: %v", ids(page))
	}
	if now, _ := LendGet(ctx, s, a.Key); now.Version != 2 || string(now.Body) != `{"id":"ws-1","v":2}` {
		t.Fatalf("LendGet after the write = %+v %s", now, now.Body)
	}
	if now, _ := LendList(ctx, s, a.Scope(), "", 0); len(now) != 1 || now[0].Version != 2 {
		t.Fatalf("LendList after the writes = %v", ids(now))
	}
}

func testCreated(t *testing.T, s Store) {
	for i, c := range []time.Time{t0, time.Unix(0, 0), time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), {}} {
		r := rec("1", fmt.Sprintf("ws-%d", i), "")
		r.Created = c
		wantErr(t, "insert", insert(t, s, r, 0), nil)
		got := mustGet(t, s, r.Key)
		want := c.Truncate(time.Microsecond)
		if !got.Created.Equal(want) || got.Created.Location() != time.UTC {
			t.Errorf("Created %v came back as %v, want %v in UTC", c, got.Created, want)
		}
	}
}

func testVersions(t *testing.T, s Store) {
	r := rec("1", "ws-1", "a")
	wantErr(t, "insert", insert(t, s, r, 0), nil)

	stale := *r
	r.Body = []byte(`{"v":2}`)
	wantErr(t, "put", put(s, r), nil)
	if r.Version != 2 {
		t.Fatalf("Put set Version %d, want 2", r.Version)
	}
	sameRecord(t, mustGet(t, s, r.Key), r)

	stale.Body = []byte(`{"stale":true}`)
	wantErr(t, "stale put", put(s, &stale), ErrConflict)
	if stale.Version != 1 {
		t.Fatalf("failed Put changed Version to %d", stale.Version)
	}
	sameRecord(t, mustGet(t, s, r.Key), r)

	blind := *r
	blind.Version = 0
	wantErr(t, "put over existing with version 0", put(s, &blind), ErrConflict)

	// Put of an absent key inserts, but only if the caller knew it absent:
	// a version means "I read it", and it has since gone.
	fresh := rec("1", "ws-2", "b")
	wantErr(t, "put new", put(s, fresh), nil)
	if fresh.Version != 1 {
		t.Fatalf("Put of new record set Version %d, want 1", fresh.Version)
	}
	wantErr(t, "delete", del(s, fresh.Key), nil)
	wantErr(t, "put after concurrent delete", put(s, fresh), ErrConflict)
	if _, err := s.Get(context.Background(), fresh.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("conflicting Put resurrected the record: %v", err)
	}

	for want := int64(3); want <= 5; want++ {
		wantErr(t, "put", put(s, r), nil)
		if r.Version != want || mustGet(t, s, r.Key).Version != want {
			t.Fatalf("Version %d after Put, want %d", r.Version, want)
		}
	}
}

func testNames(t *testing.T, s Store) {
	ctx := context.Background()
	a := rec("1", "ws-a", "shared")
	wantErr(t, "insert a", insert(t, s, a, 0), nil)
	wantErr(t, "same name same scope", insert(t, s, rec("1", "ws-b", "shared"), 0), ErrNameTaken)

	other := []*Record{rec("2", "ws-b", "shared"), rec("1", "ws-b", "shared"), rec("1", "ws-b", "shared")}
	other[1].Region = "eu-west-1"
	other[2].Kind = "bundle"
	for _, r := range other {
		wantErr(t, fmt.Sprintf("same name in scope %v", r.Scope()), insert(t, s, r, 0), nil)
	}

	// Unnamed records never clash.
	for i := range 3 {
		wantErr(t, "unnamed", insert(t, s, rec("1", fmt.Sprintf("ws-u%d", i), ""), 0), nil)
	}

	b := rec("1", "ws-b", "other")
	wantErr(t, "insert b", insert(t, s, b, 0), nil)
	b.Name = "shared"
	wantErr(t, "rename onto taken name", put(s, b), ErrNameTaken)
	b.Name = "other"
	a.Body = []byte(`{"renamed":false}`)
	wantErr(t, "put keeping own name", put(s, a), nil)

	// A name can move between records within one transaction.
	err := s.Update(ctx, func(tx Tx) error {
		a.Name = "moved"
		if err := tx.Put(ctx, a); err != nil {
			return err
		}
		b.Name = "shared"
		return tx.Put(ctx, b)
	})
	wantErr(t, "swap names", err, nil)
	if got := mustGet(t, s, b.Key); got.Name != "shared" {
		t.Fatalf("b.Name = %q", got.Name)
	}
	wantErr(t, "old name now taken by b", insert(t, s, rec("1", "ws-c", "shared"), 0), ErrNameTaken)
	wantErr(t, "a's new name", insert(t, s, rec("1", "ws-c", "moved"), 0), ErrNameTaken)

	// Deleting frees the name.
	wantErr(t, "delete a", del(s, a.Key), nil)
	wantErr(t, "reuse freed name", insert(t, s, rec("1", "ws-c", "moved"), 0), nil)
}

func testLimits(t *testing.T, s Store) {
	for i := range 3 {
		wantErr(t, "insert under limit", insert(t, s, rec("1", fmt.Sprintf("ws-%d", i), fmt.Sprintf("n%d", i)), 3), nil)
	}
	wantErr(t, "insert over limit", insert(t, s, rec("1", "ws-9", ""), 3), ErrLimitExceeded)
	wantErr(t, "no limit", insert(t, s, rec("1", "ws-10", ""), 0), nil)
	wantErr(t, "higher limit", insert(t, s, rec("1", "ws-11", ""), 6), nil)
	wantErr(t, "other scope has its own count", insert(t, s, rec("2", "ws-0", ""), 1), nil)
	// Duplicates are reported as such even when the scope is full.
	wantErr(t, "duplicate key at limit", insert(t, s, rec("1", "ws-0", ""), 3), ErrAlreadyExists)
	wantErr(t, "duplicate name at limit", insert(t, s, rec("1", "ws-x", "n1"), 3), ErrNameTaken)

	wantErr(t, "delete", del(s, rec("1", "ws-0", "").Key), nil)
	wantErr(t, "delete", del(s, rec("1", "ws-1", "").Key), nil)
	wantErr(t, "delete", del(s, rec("1", "ws-2", "").Key), nil)
	wantErr(t, "room again", insert(t, s, rec("1", "ws-12", ""), 3), nil)

	ctx := context.Background()
	err := s.Update(ctx, func(tx Tx) error {
		n, err := tx.Count(ctx, Scope{"1", "us-east-1", "workspace"})
		if err != nil {
			return err
		}
		if n != 3 {
			return fmt.Errorf("Count = %d, want 3", n)
		}
		return nil
	})
	wantErr(t, "count", err, nil)
}

func testList(t *testing.T, s Store) {
	ctx := context.Background()
	// Byte order, not locale order: upper case sorts before lower case.
	want := []string{"-", "0", "10", "9", "A", "B", "Z", "_", "a", "a1", "b", "é"}
	shuffled := slices.Clone(want)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, id := range shuffled {
		wantErr(t, "insert", insert(t, s, rec("1", id, ""), 0), nil)
	}
	sc := Scope{"1", "us-east-1", "workspace"}

	all, err := s.List(ctx, sc, "", 0)
	wantErr(t, "list", err, nil)
	if !slices.Equal(ids(all), want) {
		t.Fatalf("List = %q, want %q", ids(all), want)
	}
	sameRecord(t, all[0], mustGet(t, s, all[0].Key))

	all, err = s.List(ctx, sc, "", -1)
	wantErr(t, "list", err, nil)
	if len(all) != len(want) {
		t.Fatalf("List with limit -1 returned %d records", len(all))
	}

	var paged []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := s.List(ctx, sc, after, 5)
		wantErr(t, "list page", err, nil)
		if len(page) == 0 {
			break
		}
		if len(page) > 5 || pages > len(want) {
			t.Fatalf("page of %d records", len(page))
		}
		paged = append(paged, ids(page)...)
		after = page[len(page)-1].ID
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged List = %q, want %q", paged, want)
	}

	tail, err := s.List(ctx, sc, "a", 0)
	wantErr(t, "list after", err, nil)
	if !slices.Equal(ids(tail), []string{"a1", "b", "é"}) {
		t.Fatalf("List after \"a\" = %q", ids(tail))
	}

	none, err := s.List(ctx, Scope{"nobody", "us-east-1", "workspace"}, "", 0)
	wantErr(t, "list empty scope", err, nil)
	if len(none) != 0 {
		t.Fatalf("empty scope listed %q", ids(none))
	}

	// Inside a transaction the same rules hold, over its own writes too.
	err = s.Update(ctx, func(tx Tx) error {
		if err := tx.Delete(ctx, Key{"1", "us-east-1", "workspace", "B"}); err != nil {
			return err
		}
		if err := tx.Insert(ctx, rec("1", "Aa", ""), 0); err != nil {
			return err
		}
		page, err := tx.List(ctx, sc, "9", 3)
		if err != nil {
			return err
		}
		if got := ids(page); !slices.Equal(got, []string{"A", "Aa", "Z"}) {
			return fmt.Errorf("tx.List = %q", got)
		}
		return nil
	})
	wantErr(t, "list in tx", err, nil)

	// Outside a transaction a page shows the latest committed state: a
	// record rewritten since it was last read (the SQLite store lists
	// versions and reads its cache) and one deleted.
	for _, id := range []string{"0", "a1"} {
		mustGet(t, s, Key{"1", "us-east-1", "workspace", id}) // cached, where a store caches
	}
	err = s.Update(ctx, func(tx Tx) error {
		r, err := tx.Get(ctx, Key{"1", "us-east-1", "workspace", "0"})
		if err != nil {
			return err
		}
		r.Body = []byte(`{"rewritten":true}`)
		if err := tx.Put(ctx, r); err != nil {
			return err
		}
		return tx.Delete(ctx, Key{"1", "us-east-1", "workspace", "a1"})
	})
	wantErr(t, "rewrite and delete", err, nil)
	page, err := s.List(ctx, sc, "", 4)
	wantErr(t, "list after rewrite", err, nil)
	if got := ids(page); !slices.Equal(got, []string{"-", "0", "10", "9"}) || string(page[1].Body) != `{"rewritten":true}` || page[1].Version != 2 {
		t.Fatalf("List after a rewrite = %q, record 0 %s version %d", got, page[1].Body, page[1].Version)
	}
	tail, err = s.List(ctx, sc, "a", 0)
	wantErr(t, "list after delete", err, nil)
	if !slices.Equal(ids(tail), []string{"b", "é"}) {
		t.Fatalf("List after a delete = %q", ids(tail))
	}
}

func testScopes(t *testing.T, s Store) {
	ctx := context.Background()
	keys := []Key{
		{"1", "us-east-1", "workspace", "x"},
		{"2", "us-east-1", "workspace", "x"},
		{"1", "eu-west-1", "workspace", "x"},
		{"1", "us-east-1", "bundle", "x"},
	}
	for i, k := range keys {
		r := &Record{Key: k, Name: "same", Created: t0, Body: []byte(strconv.Itoa(i))}
		wantErr(t, "insert", insert(t, s, r, 1), nil)
	}
	for i, k := range keys {
		got := mustGet(t, s, k)
		if string(got.Body) != strconv.Itoa(i) {
			t.Fatalf("Get(%v) body %s, want %d", k, got.Body, i)
		}
		list, err := s.List(ctx, k.Scope(), "", 0)
		wantErr(t, "list", err, nil)
		if len(list) != 1 || list[0].Key != k {
			t.Fatalf("List(%v) = %v", k.Scope(), ids(list))
		}
	}
	wantErr(t, "delete one", del(s, keys[0]), nil)
	for _, k := range keys[1:] {
		mustGet(t, s, k)
	}
	_, err := s.Get(ctx, Key{"3", "us-east-1", "workspace", "x"})
	wantErr(t, "get in other account", err, ErrNotFound)
}

func testListKind(t *testing.T, s Store) {
	ctx := context.Background()
	// Byte order at every level: "9" < "A" < "a" for accounts and IDs,
	// and Regions sort before the IDs within them.
	want := []Key{
		{"1", "eu-west-1", "workspace", "z"},
		{"1", "us-east-1", "workspace", "A"},
		{"1", "us-east-1", "workspace", "a"},
		{"1", "us-east-1", "workspace", "b"},
		{"10", "ap-south-1", "workspace", "m"},
		{"2", "eu-west-1", "workspace", "9"},
		{"2", "eu-west-1", "workspace", "a"},
		{"2", "us-east-1", "workspace", "a"},
		{"A", "us-east-1", "workspace", "a"},
	}
	others := []Key{
		{"1", "us-east-1", "bundle", "a0"},
		{"1", "us-east-1", "bundle", "b"},
		{"2", "eu-west-1", "image", "a1"},
		{"", "", "setting", "clock"},
	}
	all := append(slices.Clone(want), others...)
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, k := range all {
		r := &Record{Key: k, Name: "name-" + k.ID, Created: t0, Body: []byte(`{"k":"` + k.Kind + k.ID + `"}`)}
		wantErr(t, "insert", insert(t, s, r, 0), nil)
	}
	keys := func(rs []*Record) []Key {
		out := []Key{}
		for _, r := range rs {
			out = append(out, r.Key)
		}
		return out
	}

	got, err := s.ListKind(ctx, "workspace", Key{}, 0)
	wantErr(t, "list kind", err, nil)
	if !slices.Equal(keys(got), want) {
		t.Fatalf("ListKind = %v\nwant %v", keys(got), want)
	}
	sameRecord(t, got[3], mustGet(t, s, want[3]))

	// Pages of every size cross scope boundaries without losing or
	// repeating a record.
	for size := 1; size <= len(want)+1; size++ {
		var paged []Key
		var after Key
		for pages := 0; ; pages++ {
			page, err := s.ListKind(ctx, "workspace", after, size)
			wantErr(t, "list kind page", err, nil)
			if len(page) == 0 {
				break
			}
			if len(page) > size || pages > len(want) {
				t.Fatalf("page of %d records with limit %d", len(page), size)
			}
			paged = append(paged, keys(page)...)
			after = page[len(page)-1].Key
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("ListKind in pages of %d = %v\nwant %v", size, paged, want)
		}
	}

	// The cursor need not exist, and its Kind is ignored.
	for _, tc := range []struct {
		after Key
		want  []Key
	}{
		{Key{"1", "us-east-1", "", "A"}, want[2:]},
		{Key{"1", "us-east-1", "bundle", "a0"}, want[3:]},
		{Key{"1", "us-east-1", "workspace", "zzz"}, want[4:]},
		{Key{Account: "2"}, want[5:]},
		{Key{"2", "eu-west-1", "workspace", "a"}, want[7:]},
		{Key{Account: "B"}, nil},
	} {
		got, err := s.ListKind(ctx, "workspace", tc.after, 0)
		wantErr(t, "list kind after", err, nil)
		if !slices.Equal(keys(got), append([]Key{}, tc.want...)) {
			t.Errorf("ListKind after %v = %v\nwant %v", tc.after, keys(got), tc.want)
		}
	}

	// Kinds never mix.
	for kind, wantKeys := range map[string][]Key{
		"bundle":  others[:2],
		"image":   others[2:3],
		"setting": others[3:],
		"nothing": {},
	} {
		got, err := s.ListKind(ctx, kind, Key{}, 0)
		wantErr(t, "list kind "+kind, err, nil)
		if !slices.Equal(keys(got), wantKeys) {
			t.Errorf("ListKind(%s) = %v, want %v", kind, keys(got), wantKeys)
		}
	}

	// Deletes and updates show at once.
	wantErr(t, "delete", del(s, want[0]), nil)
	r := mustGet(t, s, want[1])
	r.Body = []byte(`{"v":2}`)
	wantErr(t, "put", put(s, r), nil)
	got, err = s.ListKind(ctx, "workspace", Key{}, 2)
	wantErr(t, "list kind after changes", err, nil)
	if !slices.Equal(keys(got), want[1:3]) || string(got[0].Body) != `{"v":2}` || got[0].Version != 2 {
		t.Fatalf("after a delete and a put, ListKind = %v (first body %s)", keys(got), got[0].Body)
	}
}

var errAbort = errors.New("abort requested by test")

func testRollback(t *testing.T, s Store) {
	ctx := context.Background()
	keep := rec("1", "keep", "keep")
	gone := rec("1", "gone", "gone")
	wantErr(t, "insert", insert(t, s, keep, 0), nil)
	wantErr(t, "insert", insert(t, s, gone, 0), nil)

	err := s.Update(ctx, func(tx Tx) error {
		if err := tx.Insert(ctx, rec("1", "new", "new"), 0); err != nil {
			return err
		}
		keep.Body = []byte(`{"changed":true}`)
		if err := tx.Put(ctx, keep); err != nil {
			return err
		}
		if err := tx.Delete(ctx, gone.Key); err != nil {
			return err
		}
		return errAbort
	})
	if err != errAbort {
		t.Fatalf("Update returned %v, want the fn's error unchanged", err)
	}
	if _, err := s.Get(ctx, rec("1", "new", "").Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("insert of aborted tx visible: %v", err)
	}
	if got := mustGet(t, s, keep.Key); got.Version != 1 || string(got.Body) != `{"id":"keep"}` {
		t.Fatalf("put of aborted tx visible: %+v %s", got, got.Body)
	}
	mustGet(t, s, gone.Key)
	// Names held by the aborted tx are free, and names it released are not.
	wantErr(t, "name of aborted insert", insert(t, s, rec("1", "other", "new"), 0), nil)
	wantErr(t, "name of aborted delete", insert(t, s, rec("1", "other2", "gone"), 0), ErrNameTaken)

	// A failing fn in one Update does not affect another's.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx Tx) error {
				if err := tx.Insert(ctx, rec("1", fmt.Sprintf("par-%02d", i), ""), 0); err != nil {
					return err
				}
				if i%2 == 1 {
					return errAbort
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		_, gerr := s.Get(ctx, rec("1", fmt.Sprintf("par-%02d", i), "").Key)
		if i%2 == 1 && (err != errAbort || !errors.Is(gerr, ErrNotFound)) {
			t.Errorf("aborted Update %d: err %v, get %v", i, err, gerr)
		}
		if i%2 == 0 && (err != nil || gerr != nil) {
			t.Errorf("Update %d: err %v, get %v", i, err, gerr)
		}
	}
}

func testOwnWrites(t *testing.T, s Store) {
	ctx := context.Background()
	sc := Scope{"1", "us-east-1", "workspace"}
	wantErr(t, "insert", insert(t, s, rec("1", "old", "old"), 0), nil)
	err := s.Update(ctx, func(tx Tx) error {
		r := rec("1", "new", "new")
		if err := tx.Insert(ctx, r, 2); err != nil {
			return err
		}
		got, err := tx.Get(ctx, r.Key)
		if err != nil || got.Version != 1 {
			return fmt.Errorf("tx.Get own insert: %v %v", got, err)
		}
		if n, err := tx.Count(ctx, sc); err != nil || n != 2 {
			return fmt.Errorf("tx.Count = %d, %v; want 2", n, err)
		}
		if err := tx.Insert(ctx, rec("1", "third", ""), 2); !errors.Is(err, ErrLimitExceeded) {
			return fmt.Errorf("limit counts own inserts: got %v", err)
		}
		if err := tx.Insert(ctx, rec("1", "dup", "new"), 0); !errors.Is(err, ErrNameTaken) {
			return fmt.Errorf("name of own insert: got %v", err)
		}
		if err := tx.Put(ctx, r); err != nil || r.Version != 2 {
			return fmt.Errorf("tx.Put own insert: %v, version %d", err, r.Version)
		}
		if err := tx.Delete(ctx, Key{"1", "us-east-1", "workspace", "old"}); err != nil {
			return err
		}
		if _, err := tx.Get(ctx, Key{"1", "us-east-1", "workspace", "old"}); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("tx.Get own delete: %v", err)
		}
		if n, _ := tx.Count(ctx, sc); n != 1 {
			return fmt.Errorf("tx.Count after delete = %d", n)
		}
		// The transaction carries on after a sentinel error.
		return tx.Insert(ctx, rec("1", "old2", "old"), 0)
	})
	wantErr(t, "update", err, nil)
	if got := mustGet(t, s, rec("1", "new", "").Key); got.Version != 2 {
		t.Fatalf("Version after Insert+Put in one tx = %d, want 2", got.Version)
	}
	mustGet(t, s, rec("1", "old2", "").Key)
}

func testSentinels(t *testing.T, s Store) {
	ctx := context.Background()
	wantErr(t, "insert", insert(t, s, rec("1", "a", "a"), 0), nil)
	wrap := func(err error) error { return fmt.Errorf("service: %w", err) }
	for _, c := range []struct {
		name string
		fn   func(tx Tx) error
		want error
	}{
		{"not found", func(tx Tx) error { _, err := tx.Get(ctx, rec("1", "zz", "").Key); return err }, ErrNotFound},
		{"already exists", func(tx Tx) error { return tx.Insert(ctx, rec("1", "a", ""), 0) }, ErrAlreadyExists},
		{"name taken", func(tx Tx) error { return tx.Insert(ctx, rec("1", "b", "a"), 0) }, ErrNameTaken},
		{"limit", func(tx Tx) error { return tx.Insert(ctx, rec("1", "b", ""), 1) }, ErrLimitExceeded},
		{"conflict", func(tx Tx) error { return tx.Put(ctx, rec("1", "a", "")) }, ErrConflict},
		{"delete missing", func(tx Tx) error { return tx.Delete(ctx, rec("1", "zz", "").Key) }, ErrNotFound},
	} {
		err := s.Update(ctx, func(tx Tx) error { return wrap(c.fn(tx)) })
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Update returned %v, want errors.Is %v", c.name, err, c.want)
		}
	}
}

func testSettings(t *testing.T, s Store) {
	ctx := context.Background()
	k := Key{Account: "", Region: "", Kind: "setting", ID: "clock"}
	r := &Record{Key: k, Name: "clock", Created: t0, Body: []byte(`{"offset":"1h"}`)}
	wantErr(t, "insert setting", insert(t, s, r, 0), nil)
	sameRecord(t, mustGet(t, s, k), r)
	r.Body = []byte(`{"offset":"2h"}`)
	wantErr(t, "put setting", put(s, r), nil)
	list, err := s.List(ctx, k.Scope(), "", 0)
	wantErr(t, "list settings", err, nil)
	if len(list) != 1 || string(list[0].Body) != `{"offset":"2h"}` {
		t.Fatalf("settings = %v", ids(list))
	}
	// Not visible from a real account.
	_, err = s.Get(ctx, Key{"1", "", "setting", "clock"})
	wantErr(t, "setting from account", err, ErrNotFound)
	wantErr(t, "delete setting", del(s, k), nil)
}

func testCancelled(t *testing.T, s Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx Tx) error {
		ran = true
		return tx.Insert(ctx, rec("1", "x", ""), 0)
	})
	if err == nil {
		t.Fatalf("Update with cancelled context succeeded (fn ran: %v)", ran)
	}
	if _, err := s.Get(context.Background(), rec("1", "x", "").Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled Update applied: %v", err)
	}
}

// testCancelledMidTx cancels one transaction's context while it runs,
// alongside other writers, which must be unaffected.
func testCancelledMidTx(t *testing.T, s Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 10)
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = insert(t, s, rec("1", fmt.Sprintf("ok-%d", i), ""), 0)
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	err := s.Update(cctx, func(tx Tx) error {
		close(start)
		if err := tx.Insert(cctx, rec("1", "cancelled", ""), 0); err != nil {
			return err
		}
		cancel()
		tx.Get(cctx, rec("1", "cancelled", "").Key)
		return cctx.Err()
	})
	wg.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Update returned %v", err)
	}
	if _, err := s.Get(ctx, rec("1", "cancelled", "").Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled Update applied: %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Update %d: %v", i, err)
		}
		mustGet(t, s, rec("1", fmt.Sprintf("ok-%d", i), "").Key)
	}
	wantErr(t, "insert afterwards", insert(t, s, rec("1", "after", ""), 0), nil)
}

// testAtomicVisibility has writers insert records in pairs and readers check
// that they never see an odd number.
func testAtomicVisibility(t *testing.T, s Store) {
	ctx := context.Background()
	sc := Scope{"1", "us-east-1", "workspace"}
	var done atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				list, err := s.List(ctx, sc, "", 0)
				if err != nil {
					bad.Store(err)
					return
				}
				if len(list)%2 != 0 {
					bad.Store(fmt.Errorf("reader saw %d records: half a transaction", len(list)))
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for i := range 25 {
				err := s.Update(ctx, func(tx Tx) error {
					for j := range 2 {
						if err := tx.Insert(ctx, rec("1", fmt.Sprintf("w%d-%02d-%d", w, i, j), ""), 0); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					bad.Store(err)
				}
			}
		})
	}
	writers.Wait()
	done.Store(true)
	wg.Wait()
	if err := bad.Load(); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, sc, "", 0)
	wantErr(t, "list", err, nil)
	if len(list) != 200 {
		t.Fatalf("%d records, want 200", len(list))
	}
}

func testConcurrentName(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = insert(t, s, rec("1", fmt.Sprintf("ws-%02d", i), "contested"), 0)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrNameTaken):
			t.Errorf("insert %d: %v, want nil or ErrNameTaken", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d inserts of one name succeeded, want exactly 1", ok)
	}
	list, err := s.List(ctx, Scope{"1", "us-east-1", "workspace"}, "", 0)
	wantErr(t, "list", err, nil)
	if len(list) != 1 {
		t.Fatalf("%d records stored, want 1", len(list))
	}
}

func testConcurrentLimit(t *testing.T, s Store) {
	ctx := context.Background()
	const n, limit = 20, 5
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = insert(t, s, rec("1", fmt.Sprintf("ws-%02d", i), ""), limit)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrLimitExceeded):
			t.Errorf("insert %d: %v, want nil or ErrLimitExceeded", i, err)
		}
	}
	if ok != limit {
		t.Fatalf("%d inserts succeeded under a limit of %d", ok, limit)
	}
	list, err := s.List(ctx, Scope{"1", "us-east-1", "workspace"}, "", 0)
	wantErr(t, "list", err, nil)
	if len(list) != limit {
		t.Fatalf("%d records stored under a limit of %d", len(list), limit)
	}
}

// testConcurrentRMW increments one counter from many goroutines. Half read
// outside the transaction (optimistic: Put detects the stale version), half
// inside it (serializable: the store detects the overlap); both retry on
// ErrConflict. Any lost update shows as a short count.
func testConcurrentRMW(t *testing.T, s Store) {
	ctx := context.Background()
	const workers, each = 10, 15
	counter := rec("1", "counter", "counter")
	counter.Body = []byte("0")
	wantErr(t, "insert", insert(t, s, counter, 0), nil)

	incr := func(r *Record) error {
		n, err := strconv.Atoi(string(r.Body))
		if err != nil {
			return err
		}
		r.Body = []byte(strconv.Itoa(n + 1))
		return nil
	}
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	var conflicts atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for range each {
				for {
					var err error
					if w%2 == 0 {
						var r *Record
						if r, err = s.Get(ctx, counter.Key); err == nil {
							if err = incr(r); err == nil {
								err = put(s, r)
							}
						}
					} else {
						err = s.Update(ctx, func(tx Tx) error {
							r, err := tx.Get(ctx, counter.Key)
							if err != nil {
								return err
							}
							if err := incr(r); err != nil {
								return err
							}
							return tx.Put(ctx, r)
						})
					}
					if errors.Is(err, ErrConflict) {
						conflicts.Add(1)
						continue
					}
					if err != nil {
						errc <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	got := mustGet(t, s, counter.Key)
	if string(got.Body) != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s after %d increments (%d conflicts retried): lost updates", got.Body, workers*each, conflicts.Load())
	}
	if got.Version != workers*each+1 {
		t.Fatalf("Version = %d, want %d", got.Version, workers*each+1)
	}
	t.Logf("%d conflicts retried", conflicts.Load())
}

func testClosed(t *testing.T, s Store) {
	ctx := context.Background()
	k := rec("1", "a", "").Key
	wantErr(t, "insert", insert(t, s, rec("1", "a", ""), 0), nil)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := s.Get(ctx, k)
	wantErr(t, "Get after Close", err, ErrUnavailable)
	_, err = s.List(ctx, k.Scope(), "", 0)
	wantErr(t, "List after Close", err, ErrUnavailable)
	_, err = s.ListKind(ctx, k.Kind, Key{}, 0)
	wantErr(t, "ListKind after Close", err, ErrUnavailable)
	wantErr(t, "Update after Close", insert(t, s, rec("1", "b", ""), 0), ErrUnavailable)
	wantErr(t, "Ping after Close", s.Ping(ctx), ErrUnavailable)
}

// at is a record of kind in account and region.
func at(account, region, kind, id, name string) *Record {
	return &Record{
		Key:     Key{Account: account, Region: region, Kind: kind, ID: id},
		Name:    name,
		Created: t0,
		Body:    []byte(`{"id":"` + id + `"}`),
	}
}

// purgeFixture fills s with records of two kinds in two accounts and two
// Regions, plus a setting outside every account, reads each once (so that a
// store with a read cache has them all cached) and returns their keys.
func purgeFixture(t *testing.T, s Store) []Key {
	t.Helper()
	var keys []Key
	for _, acct := range []string{"111111111111", "222222222222"} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for i := range 3 {
				r := at(acct, region, "image", "wsi-"+strconv.Itoa(i), "image-"+strconv.Itoa(i))
				wantErr(t, "insert", insert(t, s, r, 0), nil)
				keys = append(keys, r.Key)
			}
			r := at(acct, region, "bundle", "wsb-0", "bundle")
			wantErr(t, "insert", insert(t, s, r, 0), nil)
			keys = append(keys, r.Key)
		}
	}
	r := at("", "", "setting", "clock", "")
	wantErr(t, "insert", insert(t, s, r, 0), nil)
	keys = append(keys, r.Key)
	for _, k := range keys {
		mustGet(t, s, k)
	}
	return keys
}

// present checks which of keys exist, as Get and List outside a
// transaction and Get inside one see it.
func present(t *testing.T, s Store, keys []Key, want func(Key) bool) {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		_, err := s.Get(ctx, k)
		if got := err == nil; got != want(k) {
			t.Errorf("Get(%v) = %v, want present %v", k, err, want(k))
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		list, err := s.List(ctx, k.Scope(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(ids(list), k.ID); got != want(k) {
			t.Errorf("List(%v) = %v, want %s present %v", k.Scope(), ids(list), k.ID, want(k))
		}
	}
	wantErr(t, "read in tx", s.Update(ctx, func(tx Tx) error {
		for _, k := range keys {
			_, err := tx.Get(ctx, k)
			if got := err == nil; got != want(k) {
				return fmt.Errorf("tx.Get(%v) = %v, want present %v", k, err, want(k))
			}
		}
		return nil
	}), nil)
}

func testPurge(t *testing.T, s Store) {
	ctx := context.Background()
	keys := purgeFixture(t, s)
	a, b := "111111111111", "222222222222"

	counts, err := Purge(ctx, s, Selection{Account: a, Region: "us-east-1"})
	wantErr(t, "purge account and Region", err, nil)
	if want := map[string]int{"image": 3, "bundle": 1}; !mapsEqual(counts, want) {
		t.Fatalf("purge of %s in us-east-1 removed %v, want %v", a, counts, want)
	}
	present(t, s, keys, func(k Key) bool { return !(k.Account == a && k.Region == "us-east-1") })

	// Names and quotas of the purged records are free again.
	wantErr(t, "reuse a purged name", insert(t, s, at(a, "us-east-1", "image", "wsi-new", "image-0"), 1), nil)
	// A second purge finds only what was added since.
	counts, err = Purge(ctx, s, Selection{Account: a, Region: "us-east-1"})
	wantErr(t, "purge again", err, nil)
	if want := map[string]int{"image": 1}; !mapsEqual(counts, want) {
		t.Fatalf("second purge removed %v, want %v", counts, want)
	}

	counts, err = Purge(ctx, s, Selection{Account: a})
	wantErr(t, "purge account", err, nil)
	if want := map[string]int{"image": 3, "bundle": 1}; !mapsEqual(counts, want) {
		t.Fatalf("purge of %s removed %v, want %v", a, counts, want)
	}
	present(t, s, keys, func(k Key) bool { return k.Account != a })

	// An account with nothing, or one unknown, purges to nothing.
	counts, err = Purge(ctx, s, Selection{Account: "333333333333", Region: "us-east-1"})
	wantErr(t, "purge unknown account", err, nil)
	if len(counts) != 0 {
		t.Fatalf("purge of an unknown account removed %v", counts)
	}
	// A Region without an account is refused, through the helper and the Tx.
	if _, err := Purge(ctx, s, Selection{Region: "us-east-1"}); !errors.Is(err, ErrInvalidSelection) {
		t.Fatalf("purge by Region alone: %v, want ErrInvalidSelection", err)
	}
	err = s.Update(ctx, func(tx Tx) error {
		_, err := tx.Purge(ctx, Selection{Region: "us-east-1"})
		return err
	})
	wantErr(t, "tx.Purge by Region alone", err, ErrInvalidSelection)
	present(t, s, keys, func(k Key) bool { return k.Account != a })

	// What was not selected is intact.
	sameRecord(t, mustGet(t, s, Key{b, "eu-west-1", "image", "wsi-2"}), &Record{
		Key: Key{b, "eu-west-1", "image", "wsi-2"}, Name: "image-2", Created: t0, Version: 1, Body: []byte(`{"id":"wsi-2"}`)})
}

func testPurgeAll(t *testing.T, s Store) {
	ctx := context.Background()
	keys := purgeFixture(t, s)
	counts, err := Purge(ctx, s, Selection{})
	wantErr(t, "purge everything", err, nil)
	if want := map[string]int{"image": 12, "bundle": 4, "setting": 1}; !mapsEqual(counts, want) {
		t.Fatalf("purge of everything removed %v, want %v", counts, want)
	}
	present(t, s, keys, func(Key) bool { return false })
	for _, kind := range []string{"image", "bundle", "setting"} {
		if all, err := s.ListKind(ctx, kind, Key{}, 0); err != nil || len(all) != 0 {
			t.Fatalf("ListKind(%s) after purging everything = %v, %v", kind, ids(all), err)
		}
	}
	counts, err = Purge(ctx, s, Selection{})
	wantErr(t, "purge an empty store", err, nil)
	if len(counts) != 0 {
		t.Fatalf("purge of an empty store removed %v", counts)
	}
	// The store works as new.
	for _, k := range keys {
		wantErr(t, "insert after purge", insert(t, s, at(k.Account, k.Region, k.Kind, k.ID, ""), 0), nil)
		if got := mustGet(t, s, k); got.Version != 1 {
			t.Fatalf("re-inserted %v has version %d, want 1", k, got.Version)
		}
	}
}

func testPurgeInTx(t *testing.T, s Store) {
	ctx := context.Background()
	a := "111111111111"
	keys := purgeFixture(t, s)
	kept := at(a, "us-east-1", "image", "wsi-after", "image-0")
	err := s.Update(ctx, func(tx Tx) error {
		// Writes before the purge are purged with the rest.
		if err := tx.Insert(ctx, at(a, "us-east-1", "image", "wsi-new", "new"), 0); err != nil {
			return err
		}
		old, err := tx.Get(ctx, Key{a, "eu-west-1", "image", "wsi-1"})
		if err != nil {
			return err
		}
		old.Body = []byte(`{"changed":true}`)
		if err := tx.Put(ctx, old); err != nil {
			return err
		}
		if err := tx.Delete(ctx, Key{a, "eu-west-1", "image", "wsi-2"}); err != nil {
			return err
		}
		counts, err := tx.Purge(ctx, Selection{Account: a})
		if err != nil {
			return err
		}
		// 8 committed, one deleted already, one inserted.
		if want := map[string]int{"image": 6, "bundle": 2}; !mapsEqual(counts, want) {
			return fmt.Errorf("tx.Purge removed %v, want %v", counts, want)
		}
		if _, err := tx.Get(ctx, Key{a, "us-east-1", "image", "wsi-new"}); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("tx.Get of a record inserted then purged: %v", err)
		}
		if n, err := tx.Count(ctx, Scope{a, "us-east-1", "image"}); err != nil || n != 0 {
			return fmt.Errorf("tx.Count after purge = %d, %v", n, err)
		}
		if got, err := tx.List(ctx, Scope{a, "eu-west-1", "image"}, "", 0); err != nil || len(got) != 0 {
			return fmt.Errorf("tx.List after purge = %v, %v", ids(got), err)
		}
		if got, err := tx.Select(ctx, Selection{Account: a}, "image"); err != nil || len(got) != 0 {
			return fmt.Errorf("tx.Select after purge = %v, %v", ids(got), err)
		}
		// Writes after the purge stay, names and quota free.
		return tx.Insert(ctx, kept, 1)
	})
	wantErr(t, "purge in a transaction", err, nil)
	present(t, s, append(keys, kept.Key), func(k Key) bool { return k.Account != a || k == kept.Key })
	if _, err := s.Get(ctx, Key{a, "us-east-1", "image", "wsi-new"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a record inserted then purged in one transaction exists: %v", err)
	}

	// A transaction that fails after purging purges nothing.
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx Tx) error {
		if _, err := tx.Purge(ctx, Selection{}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "failed purge", err, boom)
	present(t, s, append(keys, kept.Key), func(k Key) bool { return k.Account != a || k == kept.Key })
}

func testSelect(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := "111111111111", "222222222222"
	purgeFixture(t, s)
	keysOf := func(rs []*Record) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.Account+"/"+r.Region+"/"+r.Kind+"/"+r.ID)
		}
		return out
	}
	err := s.Update(ctx, func(tx Tx) error {
		for _, c := range []struct {
			sel  Selection
			kind string
			want []string
		}{
			{Selection{Account: a}, "bundle", []string{a + "/eu-west-1/bundle/wsb-0", a + "/us-east-1/bundle/wsb-0"}},
			{Selection{Account: b, Region: "us-east-1"}, "image", []string{
				b + "/us-east-1/image/wsi-0", b + "/us-east-1/image/wsi-1", b + "/us-east-1/image/wsi-2"}},
			{Selection{}, "bundle", []string{a + "/eu-west-1/bundle/wsb-0", a + "/us-east-1/bundle/wsb-0",
				b + "/eu-west-1/bundle/wsb-0", b + "/us-east-1/bundle/wsb-0"}},
			{Selection{}, "setting", []string{"//setting/clock"}},
			{Selection{Account: "333333333333"}, "image", []string{}},
			{Selection{Account: a}, "workspace", []string{}},
		} {
			got, err := tx.Select(ctx, c.sel, c.kind)
			if err != nil {
				return err
			}
			if !slices.Equal(keysOf(got), c.want) {
				return fmt.Errorf("Select(%+v, %s) = %v, want %v", c.sel, c.kind, keysOf(got), c.want)
			}
		}
		if _, err := tx.Select(ctx, Selection{Region: "us-east-1"}, "image"); !errors.Is(err, ErrInvalidSelection) {
			return fmt.Errorf("Select by Region alone: %v, want ErrInvalidSelection", err)
		}
		// It sees the transaction's own writes and deletions, with bodies.
		if err := tx.Insert(ctx, at(a, "ap-south-1", "bundle", "wsb-9", ""), 0); err != nil {
			return err
		}
		if err := tx.Delete(ctx, Key{a, "us-east-1", "bundle", "wsb-0"}); err != nil {
			return err
		}
		got, err := tx.Select(ctx, Selection{Account: a}, "bundle")
		if err != nil {
			return err
		}
		if want := []string{a + "/ap-south-1/bundle/wsb-9", a + "/eu-west-1/bundle/wsb-0"}; !slices.Equal(keysOf(got), want) {
			return fmt.Errorf("Select after own writes = %v, want %v", keysOf(got), want)
		}
		if string(got[0].Body) != `{"id":"wsb-9"}` || got[1].Version != 1 || got[1].Name != "bundle" {
			return fmt.Errorf("Select returned %+v", got)
		}
		return nil
	})
	wantErr(t, "select", err, nil)
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
