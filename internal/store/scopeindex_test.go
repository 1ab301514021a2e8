package store

import (
	"fmt"
	"slices"
	"testing"
)

func TestScopeIndexes(t *testing.T) {
	scA := Scope{Account: "111122223333", Region: "us-east-1", Kind: "image"}
	scB := Scope{Account: "444455556666", Region: "us-east-1", Kind: "image"}
	key := func(sc Scope, id string) Key {
		return Key{Account: sc.Account, Region: sc.Region, Kind: sc.Kind, ID: id}
	}
	ids := func(n int) []idVersion {
		var out []idVersion
		for i := range n {
			out = append(out, idVersion{fmt.Sprintf("wsi-%09d", i), 1})
		}
		return out
	}
	load := func(x *scopeIndexes, sc Scope, page []idVersion) {
		l := x.startLoad(sc)
		if l == nil {
			t.Fatalf("startLoad(%v) = nil", sc)
		}
		x.finishLoad(sc, l, page, false, true)
	}
	// 3 ids of 13 bytes cost 3*53 bytes.
	const three = 3 * (13 + idCost)
	tests := []struct {
		name string
		max  int64
		run  func(x *scopeIndexes)
		// want is each scope's ids:versions, or nil when it is not indexed.
		want map[Scope][]string
		// wantLoad says whether page asks for a load of the scope.
		wantLoad map[Scope]bool
	}{
		{
			name: "a load is installed and pages from it",
			max:  1 << 20,
			run:  func(x *scopeIndexes) { load(x, scA, ids(3)) },
			want: map[Scope][]string{scA: {"wsi-000000000:1", "wsi-000000001:1", "wsi-000000002:1"}},
		},
		{
			name: "an empty scope is indexed too",
			max:  1 << 20,
			run:  func(x *scopeIndexes) { load(x, scA, nil) },
			want: map[Scope][]string{scA: {}},
		},
		{
			name: "writes update an index",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(3))
				x.apply(map[Key]*Record{
					key(scA, "wsi-000000001"): nil,
					key(scA, "wsi-000000002"): {Version: 7},
					key(scA, "wsi-000000009"): {Version: 1},
					key(scB, "wsi-000000005"): {Version: 1}, // not indexed: ignored
				})
			},
			want:     map[Scope][]string{scA: {"wsi-000000000:1", "wsi-000000002:7", "wsi-000000009:1"}, scB: nil},
			wantLoad: map[Scope]bool{scB: true},
		},
		{
			name: "a write during a load, applied or marked and settled, keeps it from being installed",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				l := x.startLoad(scA)
				if x.startLoad(scA) != nil {
					t.Error("a second load of a scope being loaded started")
				}
				x.apply(map[Key]*Record{key(scA, "wsi-000000009"): {Version: 1}})
				x.finishLoad(scA, l, ids(3), false, true)
				k := key(scB, "wsi-000000001")
				l = x.startLoad(scB)
				x.mark([]Key{k})
				x.settle([]Key{k}, map[Key]*Record{k: {Version: 2}}, writeCommitted)
				x.finishLoad(scB, l, ids(3), false, true)
			},
			want:     map[Scope][]string{scA: nil, scB: nil},
			wantLoad: map[Scope]bool{scA: true, scB: true},
		},
		{
			name: "a failed load is not installed",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				x.finishLoad(scA, x.startLoad(scA), ids(3), false, false)
			},
			want:     map[Scope][]string{scA: nil},
			wantLoad: map[Scope]bool{scA: true},
		},
		{
			name: "a scope over a quarter of the budget is not indexed until a delete in it",
			max:  4 * three,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(4))
				x.finishLoad(scB, x.startLoad(scB), nil, true, true)
				if _, _, again := x.page(scA, "", 0); again {
					t.Error("a scope found too big asks to be loaded again")
				}
				x.apply(map[Key]*Record{key(scA, "wsi-000000000"): nil})
			},
			want:     map[Scope][]string{scA: nil, scB: nil},
			wantLoad: map[Scope]bool{scA: true, scB: false},
		},
		{
			name: "growing past a quarter of the budget drops the index",
			max:  4 * three,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(3))
				x.apply(map[Key]*Record{key(scA, "wsi-000000009"): {Version: 1}})
			},
			want:     map[Scope][]string{scA: nil},
			wantLoad: map[Scope]bool{scA: false},
		},
		{
			name: "an index over the budget drops another",
			max:  5 * (13 + idCost), // room for 5 ids in all, a scope at most 1.25
			run: func(x *scopeIndexes) {
				load(x, scA, ids(1))
				load(x, scB, ids(1))
				sc := Scope{Account: "777788889999", Region: "us-east-1", Kind: "image"}
				for i := range 4 {
					sc.Region = fmt.Sprintf("r-%d", i)
					load(x, sc, ids(1))
				}
				if x.bytes > x.maxBytes || len(x.scopes) != 5 {
					t.Errorf("%d bytes in %d indexes, budget %d", x.bytes, len(x.scopes), x.maxBytes)
				}
			},
		},
		{
			name: "a write settled alone updates the index",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(3))
				k1, k9 := key(scA, "wsi-000000001"), key(scA, "wsi-000000009")
				x.mark([]Key{k1, k9})
				if latest := x.settle([]Key{k1, k9}, map[Key]*Record{k1: nil, k9: {Version: 2}}, writeCommitted); !slices.Equal(latest, []bool{true, true}) {
					t.Errorf("latest %v, want both", latest)
				}
			},
			want: map[Scope][]string{scA: {"wsi-000000000:1", "wsi-000000002:1", "wsi-000000009:2"}},
		},
		{
			name: "a write that rolled back, or committed without changing a key, leaves the index as it was",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(3))
				k1, k2 := key(scA, "wsi-000000001"), key(scA, "wsi-000000002")
				x.mark([]Key{k1})
				x.settle([]Key{k1}, map[Key]*Record{k1: nil}, writeRolledBack)
				x.mark([]Key{k2})
				x.settle([]Key{k2}, nil, writeCommitted)
			},
			want: map[Scope][]string{scA: {"wsi-000000000:1", "wsi-000000001:1", "wsi-000000002:1"}},
		},
		{
			// Two writes of one key in flight may settle in either order:
			// neither may leave its version.
			name: "writes of one key in flight together drop the index",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(3))
				load(x, scB, ids(3))
				k := key(scA, "wsi-000000001")
				x.mark([]Key{k})
				x.mark([]Key{k})
				x.mark([]Key{k})
				if latest := x.settle([]Key{k}, map[Key]*Record{k: {Version: 3}}, writeCommitted); latest[0] {
					t.Error("the first of three writes in flight settled as the latest")
				}
				if _, indexed, load := x.page(scA, "", 0); indexed || load {
					t.Errorf("with a write in flight: indexed %v, load %v", indexed, load)
				}
				if l := x.startLoad(scA); l != nil {
					t.Error("a load starts while a write of the scope is in flight")
				}
				// The last two may have committed before the first.
				for _, v := range []int64{2, 1} {
					if latest := x.settle([]Key{k}, map[Key]*Record{k: {Version: v}}, writeCommitted); latest[0] {
						t.Errorf("version %d, settled after a write it was in flight with, settled as the latest", v)
					}
				}
				// Once none is in flight, a write settles as the latest.
				x.mark([]Key{k})
				if latest := x.settle([]Key{k}, map[Key]*Record{k: {Version: 4}}, writeCommitted); !latest[0] {
					t.Error("a write alone in flight did not settle as the latest")
				}
			},
			want:     map[Scope][]string{scA: nil, scB: {"wsi-000000000:1", "wsi-000000001:1", "wsi-000000002:1"}},
			wantLoad: map[Scope]bool{scA: true},
		},
		{
			name: "a write whose outcome is unknown drops its scope",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(3))
				load(x, scB, ids(3))
				k := key(scA, "wsi-000000001")
				x.mark([]Key{k})
				x.settle([]Key{k}, nil, writeUnknown)
				if len(x.inFlight) != 0 || len(x.inFlightScope) != 0 {
					t.Errorf("marks left after settle: %v %v", x.inFlight, x.inFlightScope)
				}
			},
			want: map[Scope][]string{scA: nil, scB: {"wsi-000000000:1", "wsi-000000001:1", "wsi-000000002:1"}},
		},
		{
			name: "forget drops the scopes written and clear every scope",
			max:  1 << 20,
			run: func(x *scopeIndexes) {
				load(x, scA, ids(3))
				load(x, scB, ids(3))
				x.forget(map[Key]*Record{key(scA, "wsi-000000001"): nil})
				sc := Scope{Account: "777788889999", Region: "us-east-1", Kind: "image"}
				load(x, sc, ids(1))
				l := x.startLoad(scA)
				x.clear()
				x.finishLoad(scA, l, ids(3), false, true)
				if len(x.scopes) != 0 || x.bytes != 0 {
					t.Errorf("after clear: %d indexes, %d bytes", len(x.scopes), x.bytes)
				}
			},
			want: map[Scope][]string{scA: nil, scB: nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newScopeIndexes(tt.max)
			tt.run(x)
			for sc, want := range tt.want {
				page, indexed, load := x.page(sc, "", 0)
				if want == nil {
					if indexed {
						t.Errorf("%v indexed: %v", sc, page)
					}
					if wl, ok := tt.wantLoad[sc]; ok && load != wl {
						t.Errorf("%v: load %v, want %v", sc, load, wl)
					}
					continue
				}
				got := []string{}
				for _, iv := range page {
					got = append(got, fmt.Sprintf("%s:%d", iv.id, iv.version))
				}
				if !indexed || !slices.Equal(got, want) {
					t.Errorf("%v: indexed %v, %v; want %v", sc, indexed, got, want)
				}
			}
			var sum int64
			for _, idx := range x.scopes {
				sum += idx.bytes
			}
			if sum != x.bytes || x.bytes > x.maxBytes {
				t.Errorf("bytes %d, indexes hold %d, budget %d", x.bytes, sum, x.maxBytes)
			}
		})
	}
	// Pages start after the id given and stop at the limit.
	x := newScopeIndexes(1 << 20)
	load(x, scA, ids(10))
	page, _, _ := x.page(scA, "wsi-000000003", 2)
	if len(page) != 2 || page[0].id != "wsi-000000004" || page[1].id != "wsi-000000005" {
		t.Errorf("page after wsi-000000003 of 2: %v", page)
	}
}
