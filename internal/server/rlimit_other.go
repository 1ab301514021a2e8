//go:build !unix

package server

// openFileLimit is unknown here: connections are limited by
// --max-connections alone.
func openFileLimit() uint64 { return 0 }
