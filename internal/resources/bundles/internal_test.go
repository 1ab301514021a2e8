package bundles

import "testing"

func TestStorageRules(t *testing.T) {
	ok := [][2]string{{"80", "10"}, {"80", "50"}, {"80", "100"}, {"175", "100"}, {"2000", "2000"}, {"500", "250"}}
	bad := [][2]string{{"80", "20"}, {"100", "100"}, {"175", "50"}, {"2001", "100"}, {"080", "10"}, {"80 ", "10"}, {"x", "10"}, {"-80", "10"}}
	for _, c := range ok {
		if err := checkStorage(c[0], c[1]); err != nil {
			t.Errorf("root %s user %s refused: %v", c[0], c[1], err)
		}
	}
	for _, c := range bad {
		if err := checkStorage(c[0], c[1]); err == nil {
			t.Errorf("root %q user %q accepted", c[0], c[1])
		}
	}
}
