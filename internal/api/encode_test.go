package api_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
)

// tricky are strings whose encoding differs from their bytes: everything
// encoding/json escapes, and invalid UTF-8, which it replaces.
var tricky = []string{"", "plain", "wsi-0123456789", "a<b", "x>y", "&amp;", `quote" back\slash`, "\x00\x1f\t\n\r", "ünïcødé ✓ 🚀", "\u2028\u2029", "\xff\xfe bad", "a\x7fb"}

// fill sets every field of v to a value drawn from rng: each pointer, list
// and map is nil, empty or set, so that every branch of an encoder runs.
func fill(v reflect.Value, rng *rand.Rand, depth int) {
	if v.Type() == reflect.TypeFor[api.Timestamp]() {
		ms := rng.Int64N(4e12) - 1e12
		if rng.IntN(2) == 0 {
			ms -= ms % 1000
		}
		v.Set(reflect.ValueOf(api.Timestamp{Time: time.UnixMilli(ms).UTC()}))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if rng.IntN(4) == 0 || depth > 6 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), rng, depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			// A member encoding/json leaves out (an item's Encoded) is no
			// part of the value an encoder is compared on.
			if v.Type().Field(i).Tag.Get("json") == "-" {
				continue
			}
			fill(v.Field(i), rng, depth)
		}
	case reflect.String:
		v.SetString(tricky[rng.IntN(len(tricky))])
	case reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64N(1<<40) - 1<<39)
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Float64:
		v.SetFloat(rng.NormFloat64() * 1e6)
	case reflect.Slice:
		n := rng.IntN(4) - 1
		if n < 0 || depth > 6 {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(v.Index(i), rng, depth+1)
		}
	case reflect.Map:
		n := rng.IntN(4) - 1
		if n < 0 || depth > 6 {
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, rng, depth+1)
			fill(e, rng, depth+1)
			v.SetMapIndex(k, e)
		}
	default:
		panic("fill: no case for " + v.Type().String())
	}
}

// TestAppendJSONIsEncodingJSON checks the generated encoders of every
// operation's output against encoding/json, which they replace on the
// response path, over many random values of every shape.
func TestAppendJSONIsEncodingJSON(t *testing.T) {
	for name, op := range api.Operations {
		rng := rand.New(rand.NewPCG(uint64(len(name)), 12))
		for round := range 60 {
			out := op.NewOutput()
			if round > 0 {
				fill(reflect.ValueOf(out).Elem(), rng, 0)
			}
			want, err := json.Marshal(out)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := out.AppendJSON([]byte("prefix")); !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Fatalf("%s round %d:\n got %s\nwant %s", name, round, got[len("prefix"):], want)
			}
		}
		nilOut := reflect.Zero(reflect.TypeOf(op.NewOutput())).Interface().(api.Output)
		if got, want := nilOut.AppendJSON(nil), must(json.Marshal(nilOut)); !bytes.Equal(got, want) {
			t.Errorf("%s: a nil output encodes as %s, encoding/json writes %s", name, got, want)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestAppendJSONWritesEncoded checks that an item carrying the encoding it
// was given earlier is written as those bytes, whatever its members say, and
// that encoding/json leaves Encoded out.
func TestAppendJSONWritesEncoded(t *testing.T) {
	kept := []byte(`{"DirectoryId":"d-kept"}`)
	items := map[string]interface {
		AppendJSON([]byte) []byte
	}{
		"WorkspaceDirectory": &api.WorkspaceDirectory{DirectoryId: api.String("d-other"), Encoded: kept},
		"WorkspaceImage":     &api.WorkspaceImage{ImageId: api.String("wsi-other"), Encoded: kept},
		"WorkspaceBundle":    &api.WorkspaceBundle{BundleId: api.String("wsb-other"), Encoded: kept},
		"Workspace":          &api.Workspace{WorkspaceId: api.String("ws-other"), Encoded: kept},
		"WorkspacesIpGroup":  &api.WorkspacesIpGroup{GroupId: api.String("wsipg-other"), Encoded: kept},
	}
	for name, item := range items {
		if got := item.AppendJSON([]byte("[")); string(got) != "["+string(kept) {
			t.Errorf("%s: AppendJSON wrote %s, want [%s", name, got, kept)
		}
		if b := must(json.Marshal(item)); bytes.Contains(b, []byte("kept")) || bytes.Contains(b, []byte("Encoded")) {
			t.Errorf("%s: encoding/json wrote %s, which shows Encoded", name, b)
		}
	}
	out := &api.DescribeWorkspaceDirectoriesOutput{Directories: []api.WorkspaceDirectory{{Encoded: kept}, {DirectoryId: api.String("d-fresh")}}}
	if got, want := string(out.AppendJSON(nil)), `{"Directories":[{"DirectoryId":"d-kept"},{"DirectoryId":"d-fresh"}]}`; got != want {
		t.Errorf("a page mixing kept and fresh items: got %s, want %s", got, want)
	}
}
