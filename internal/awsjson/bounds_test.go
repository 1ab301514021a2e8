package awsjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

const (
	maxBodyBytes  = 4 << 20 // the server's request limit
	maxErrorBytes = 4 << 10 // what any error body must stay under
)

// TestHugeListOfBadIDs is the case: a 3.6 MB list of bad ids once
// made a 126 MB ValidationException.
func TestHugeListOfBadIDs(t *testing.T) {
	body := bigIDList(350000)
	var in api.DescribeWorkspaceImagesInput
	if err := Decode(body, &in); err != nil {
		t.Fatal(err)
	}
	err := in.Validate()
	e, ok := err.(api.APIError)
	if !ok || e.ErrorCode() != "ValidationException" {
		t.Fatalf("Validate() = %v", err)
	}
	if out := EncodeError(e); len(out) > maxErrorBytes {
		t.Errorf("error body of %d bytes for a %d-byte request", len(out), len(body))
	}
}

// filler builds an input that breaks as many constraints as it can: strings
// long and full of characters JSON escapes, lists and maps of n members,
// every member of every structure (so every union) set.
type filler struct {
	str string
	n   int
}

func (f filler) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), depth)
	case reflect.String:
		v.SetString(f.str)
	case reflect.Int32, reflect.Int64:
		v.SetInt(-1 << 31)
	case reflect.Float64:
		v.SetFloat(-1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[api.Timestamp]() {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		n := f.n
		if depth > 2 {
			n = 2
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			f.fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for i := range f.n {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString(f.str + strings.Repeat("k", i))
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			v.SetMapIndex(k, e)
		}
	}
}

// TestErrorBodiesStaySmall sends every operation inputs up to the body limit
// that violate everything they can, and checks each answer's size.
func TestErrorBodiesStaySmall(t *testing.T) {
	escapes := strings.Repeat("<\x01\"é", 300)
	fillers := []filler{
		{str: escapes, n: 30},       // lists over their bound of 25
		{str: escapes[:400], n: 25}, // lists at their bound: every member checked
		{str: strings.Repeat("x", 200), n: 3},
		{str: "", n: 0},
	}
	for name, op := range api.Operations {
		for _, f := range fillers {
			in := op.NewInput()
			f.fill(reflect.ValueOf(in).Elem(), 0)
			body, err := json.Marshal(in)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for len(body) > maxBodyBytes && f.n > 1 {
				f.n /= 2
				in = op.NewInput()
				f.fill(reflect.ValueOf(in).Elem(), 0)
				body, _ = json.Marshal(in)
			}
			decoded := op.NewInput()
			if err := Decode(body, decoded); err != nil {
				t.Fatalf("%s: Decode = %v", name, err)
			}
			err = decoded.Validate()
			if err == nil {
				continue
			}
			if out := EncodeError(err.(api.APIError)); len(out) > maxErrorBytes {
				t.Errorf("%s: error body of %d bytes for a %d-byte request: %.300s...", name, len(out), len(body), out)
			}
		}
	}
}

// TestSerializationErrorsStaySmall: messages that echo the request are cut.
func TestSerializationErrorsStaySmall(t *testing.T) {
	huge := strings.Repeat("7", maxBodyBytes-100)
	for _, body := range []string{
		`{"MaxResults":` + huge + `}`,
		`{"MaxResults":-` + huge + `}`,
		`{"MaxResults":` + huge + `.5}`,
		`{"ImageIds":[` + huge + `]}`,
		`{"ImageIds":"` + huge + `"}`,
		`{"` + huge + `":1 x}`,
		`{"MaxResults":"` + huge,
	} {
		var in api.DescribeWorkspaceImagesInput
		err := Decode([]byte(body), &in)
		e, ok := err.(*api.Error)
		if !ok || e.Code != "SerializationException" {
			t.Fatalf("Decode(%.40s...) = %v", body, err)
		}
		if out := EncodeError(e); len(out) > 1024 {
			t.Errorf("Decode(%.40s...): error body of %d bytes", body, len(out))
		}
	}
}
