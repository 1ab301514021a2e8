package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsUpToDate fails when the model or the generator changed
// without `go generate ./internal/api` being run.
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", modelPath))
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseModel(raw)
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(m)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("internal/api/%s is out of date: run go generate ./internal/api", name)
		}
	}
}

func TestStripDocsKeepsEverythingElse(t *testing.T) {
	in := []byte(`{"b":{"documentation":"<p>x</p>","type":"string","min":1},"a":[1,"two",{"documentationUrl":"u","k":true}]}`)
	got, err := stripDocs(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"b\": {\n    \"type\": \"string\",\n    \"min\": 1\n  },\n  \"a\": [1, \"two\", {\n      \"k\": true\n    }]\n}\n"
	if string(got) != want {
		t.Errorf("stripDocs = %q, want %q", got, want)
	}
}

func TestGoPatternSplitsLongRepeats(t *testing.T) {
	tests := []struct{ in, want string }{
		{`^[a-z]{0,1023}$`, `^[a-z]{0,1000}[a-z]{0,23}$`},
		{`^[a-z]{1,1000}$`, `^[a-z]{1,1000}$`},
		{`^[\]a]{1001,2001}$`, `^[\]a]{1000,1000}[\]a]{1,1000}[\]a]{0,1}$`},
	}
	for _, tt := range tests {
		if got := goPattern(tt.in); got != tt.want {
			t.Errorf("goPattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEnumIdent(t *testing.T) {
	for in, want := range map[string]string{"GRAPHICS_G4DN": "GraphicsG4dn", "Windows_11": "Windows11", "BYOL_REGULAR_BYOP": "ByolRegularByop", "a.b-c": "ABC"} {
		if got := enumIdent(in); got != want {
			t.Errorf("enumIdent(%q) = %q, want %q", in, got, want)
		}
	}
}
