package dashboard

import "testing"

// SetMaxSkipped lowers how many records a page may leave out, for the
// length of the test.
func SetMaxSkipped(t testing.TB, n int) {
	old := maxSkipped
	maxSkipped = n
	t.Cleanup(func() { maxSkipped = old })
}
