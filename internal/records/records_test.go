package records

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// forEachStore runs test on a typed view of the memory and SQLite stores,
// with an image quota of 3.
func forEachStore(t *testing.T, test func(t *testing.T, db *DB)) {
	for name, spec := range map[string]string{"memory": "memory", "sqlite": "sqlite:" + filepath.Join(t.TempDir(), "wsim.db")} {
		t.Run(name, func(t *testing.T) {
			st, err := store.Open(context.Background(), spec, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			test(t, Open(st, Config{Quotas: map[string]int{Images.Name: 3}}))
		})
	}
}

func newImage(account, name string) *Image {
	return &Image{Meta: Meta{Account: account, Region: "us-east-1", Name: name, Created: t0}, Description: "d"}
}

func code(err error) string {
	var apiErr api.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func TestInsertGetMutateDelete(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		img := newImage("111122223333", "golden")
		if err := Images.Create(ctx, db, img, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(img.ID, "wsi-") || len(img.ID) != 13 {
			t.Errorf("fresh id %q, want wsi- and 9 characters", img.ID)
		}
		got, err := Images.Get(ctx, db, "111122223333", "us-east-1", img.ID)
		if err != nil || got.Name != "golden" || got.Account != "111122223333" || got.Region != "us-east-1" || !got.Created.Equal(t0) || got.Description != "d" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		// Reads outside a transaction share decoded values; reads inside
		// one get values of their own.
		again, _ := Images.Get(ctx, db, "111122223333", "us-east-1", img.ID)
		if again != got {
			t.Error("a second read did not reuse the decoded value")
		}
		db.Update(ctx, func(tx *Tx) error {
			mine, err := Images.Get(ctx, tx, "111122223333", "us-east-1", img.ID)
			if err != nil || mine == got {
				t.Errorf("a read in a transaction shares its value: %v", err)
			}
			return nil
		})

		tests := []struct {
			name    string
			err     error
			want    string
			message string
		}{
			{"same name", Images.Create(ctx, db, newImage("111122223333", "golden"), nil), "ResourceAlreadyExistsException", "golden"},
			{"same name in another account", Images.Create(ctx, db, newImage("444455556666", "golden"), nil), "", ""},
			{"second", Images.Create(ctx, db, newImage("111122223333", "b"), nil), "", ""},
			{"third", Images.Create(ctx, db, newImage("111122223333", "c"), nil), "", ""},
			{"over quota", Images.Create(ctx, db, newImage("111122223333", "d"), nil), "ResourceLimitExceededException", "limit of 3 images in us-east-1"},
			{"check refuses", Images.Create(ctx, db, newImage("777788889999", "e"), func(*Tx) error { return &api.AccessDeniedException{Message: "no"} }), "AccessDeniedException", "no"},
			{"missing", func() error { _, err := Images.Get(ctx, db, "111122223333", "us-east-1", "wsi-000000000"); return err }(), "ResourceNotFoundException", "wsi-000000000"},
		}
		for _, tt := range tests {
			if got := code(tt.err); got != tt.want || !strings.Contains(fmt.Sprint(tt.err), tt.message) {
				t.Errorf("%s: %v, want %s %q", tt.name, tt.err, tt.want, tt.message)
			}
		}
		if v, err := Images.Find(ctx, db, "777788889999", "us-east-1", "wsi-000000000"); v != nil || err != nil {
			t.Errorf("Find of nothing = %v, %v", v, err)
		}

		out, err := Images.Mutate(ctx, db, "111122223333", "us-east-1", img.ID, func(_ *Tx, v *Image) error {
			v.Description = "changed"
			return nil
		})
		if err != nil || out.Description != "changed" {
			t.Fatalf("Mutate = %+v, %v", out, err)
		}
		if got, _ := Images.Get(ctx, db, "111122223333", "us-east-1", img.ID); got.Description != "changed" {
			t.Errorf("after Mutate: %q", got.Description)
		}
		if _, err := Images.Mutate(ctx, db, "111122223333", "us-east-1", "wsi-000000000", func(*Tx, *Image) error { return nil }); code(err) != "ResourceNotFoundException" {
			t.Errorf("Mutate of nothing: %v", err)
		}
		refused := errors.New("refused")
		if _, err := Images.Mutate(ctx, db, "111122223333", "us-east-1", img.ID, func(_ *Tx, v *Image) error { v.Description = "lost"; return refused }); err != refused {
			t.Errorf("Mutate refusing: %v", err)
		}
		if got, _ := Images.Get(ctx, db, "111122223333", "us-east-1", img.ID); got.Description != "changed" {
			t.Errorf("a refused Mutate wrote %q", got.Description)
		}

		if err := db.Update(ctx, func(tx *Tx) error { return Images.Delete(ctx, tx, img) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Update(ctx, func(tx *Tx) error { return Images.DeleteID(ctx, tx, "111122223333", "us-east-1", img.ID) }); err != nil {
			t.Errorf("deleting again: %v", err)
		}
		// The name and the quota slot are free again.
		if err := Images.Create(ctx, db, newImage("111122223333", "golden"), nil); err != nil {
			t.Errorf("re-create after delete: %v", err)
		}
	})
}

func TestPages(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var want []string
		for i := range 7 {
			b := &Bundle{Meta: Meta{Account: "111122223333", Region: "eu-west-1", Name: fmt.Sprint("b", i), Created: t0}}
			if err := Bundles.Create(ctx, db, b, nil); err != nil {
				t.Fatal(err)
			}
			want = append(want, b.ID)
		}
		slices.Sort(want)
		for size := 1; size <= 8; size++ {
			var got []string
			var tok *string
			for pages := 0; ; pages++ {
				items, next, err := Bundles.Page(ctx, db, "111122223333", "eu-west-1", tok, size)
				if err != nil || len(items) > size || pages > 10 {
					t.Fatalf("size %d: page of %d, %v", size, len(items), err)
				}
				for _, b := range items {
					got = append(got, b.ID)
				}
				if next == nil {
					break
				}
				tok = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("size %d: walked %v, want %v", size, got, want)
			}
		}
		// A token of another listing, or none at all, is refused.
		for _, bad := range []*string{EncodeToken(Images.Name, "wsi-x"), api.String("!!"), api.String("")} {
			if _, _, err := Bundles.Page(ctx, db, "111122223333", "eu-west-1", bad, 2); code(err) != "ValidationException" {
				t.Errorf("token %q: %v", *bad, err)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	for _, tt := range []struct{ list, after string }{{"image", "wsi-abc"}, {"image-share", ""}, {"cidr-ranges", "10.1.0.0/16"}} {
		list, after, err := DecodeToken(EncodeToken(tt.list, tt.after), "other", tt.list)
		if err != nil || list != tt.list || after != tt.after {
			t.Errorf("round trip %+v = %s %s %v", tt, list, after, err)
		}
	}
	if list, after, err := DecodeToken(nil, "first", "second"); err != nil || list != "first" || after != "" {
		t.Errorf("no token = %s %q %v", list, after, err)
	}
	// "v1:<id>" tokens of earlier versions continue the first list.
	if list, after, err := DecodeToken(api.String("djE6d3NpLWFiYw"), "first", "second"); err != nil || list != "first" || after != "wsi-abc" {
		t.Errorf("v1 token = %s %q %v", list, after, err)
	}
}

func TestTagsOfAnyKind(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		img := newImage("111122223333", "tagged")
		b := &Bundle{Meta: Meta{Account: "111122223333", Region: "us-east-1", Name: "b", Created: t0}}
		if err := Images.Create(ctx, db, img, nil); err != nil {
			t.Fatal(err)
		}
		if err := Bundles.Create(ctx, db, b, nil); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{img.ID, b.ID} {
			found, err := ChangeTags(ctx, db, "111122223333", "us-east-1", id, t0, func(tags []api.Tag) ([]api.Tag, error) {
				return append(tags, api.Tag{Key: api.String("team"), Value: api.String("a")}), nil
			})
			if !found || err != nil {
				t.Fatalf("ChangeTags(%s) = %v, %v", id, found, err)
			}
			tags, found, err := Tags(ctx, db, "111122223333", "us-east-1", id, t0)
			if !found || err != nil || len(tags) != 1 || *tags[0].Key != "team" {
				t.Errorf("Tags(%s) = %v, %v, %v", id, tags, found, err)
			}
			// Another account does not see them.
			if _, found, _ := Tags(ctx, db, "444455556666", "us-east-1", id, t0); found {
				t.Errorf("%s is taggable from another account", id)
			}
		}
		if got, _ := Images.Get(ctx, db, "111122223333", "us-east-1", img.ID); len(got.Tags) != 1 || got.Description != "d" {
			t.Errorf("the image after tagging: %+v", got)
		}
		for _, id := range []string{"d-1234567890", "ws-abc", "wsi-000000000"} {
			if found, err := ChangeTags(ctx, db, "111122223333", "us-east-1", id, t0, nil); found || err != nil {
				t.Errorf("ChangeTags(%s) = %v, %v", id, found, err)
			}
		}
	})
}

func TestBYOLState(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		strict := Open(db.st, Config{BYOL: BYOLStrict})
		if st, err := db.BYOL(ctx, db, "111122223333", "us-east-1", t0); err != nil || !st.Enabled || st.CIDR != DefaultManagementCIDR {
			t.Errorf("friendly start = %+v, %v", st, err)
		}
		if st, _ := strict.BYOL(ctx, strict, "111122223333", "us-east-1", t0); st.Enabled {
			t.Errorf("strict start = %+v", st)
		}
		prof, _ := pipeline.LookupProfile(pipeline.ProfileQuick)
		m := &AccountModification{Meta: Meta{Account: "111122223333", Region: "us-east-1", Created: t0}, CIDR: "10.9.0.0/16",
			Plan: prof.Plan(pipeline.KindAccountModification, t0, nil)}
		if err := AccountModifications.Create(ctx, strict, m, nil); err != nil {
			t.Fatal(err)
		}
		if st, _ := strict.BYOL(ctx, strict, "111122223333", "us-east-1", t0); st.Enabled || st.Pending == nil || st.Pending.CIDR != "10.9.0.0/16" {
			t.Errorf("while pending = %+v", st)
		}
		if st, _ := strict.BYOL(ctx, strict, "111122223333", "us-east-1", t0.Add(time.Minute)); !st.Enabled || st.CIDR != "10.9.0.0/16" {
			t.Errorf("after completion = %+v", st)
		}
		// Newer modifications still pending, more than BYOL reads at a
		// time: the range is still the completed one's, found past them,
		// and the newest pending one is the one reported.
		later := t0.Add(time.Hour)
		var newest *AccountModification
		for i := range 2*byolBatch + 3 {
			created := later.Add(time.Duration(i) * time.Millisecond)
			m := &AccountModification{Meta: Meta{Account: "111122223333", Region: "us-east-1", Created: created},
				CIDR: fmt.Sprintf("10.%d.0.0/16", 20+i), Plan: prof.Plan(pipeline.KindAccountModification, created, nil)}
			if err := AccountModifications.Create(ctx, strict, m, nil); err != nil {
				t.Fatal(err)
			}
			newest = m
		}
		st, err := strict.BYOL(ctx, strict, "111122223333", "us-east-1", later.Add(time.Second))
		if err != nil || !st.Enabled || st.CIDR != "10.9.0.0/16" || st.Pending == nil || st.Pending.ID != newest.ID {
			t.Errorf("with %d newer pending = %+v, %v; want 10.9.0.0/16, pending %s", 2*byolBatch+3, st, err, newest.ID)
		}
	})
}

func TestSettings(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		rules, err := FaultRules.Get(ctx, db)
		if err != nil || rules != nil {
			t.Fatalf("unset = %v, %v", rules, err)
		}
		for i := range 3 {
			if _, err := FaultRules.Change(ctx, db, func(r *[]pipeline.FaultRule) error {
				*r = append(*r, pipeline.FaultRule{ID: fmt.Sprint(i), FailAt: "PENDING"})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if rules, _ := FaultRules.Get(ctx, db); len(rules) != 3 || rules[2].ID != "2" {
			t.Errorf("rules = %+v", rules)
		}
	})
}
