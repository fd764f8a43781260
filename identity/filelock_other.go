//go:build !unix

package identity

// lockFile is a no-op where flock does not exist: writes stay atomic
// (rename), but two processes writing at the same moment may lose one
// change there.
func lockFile(string) (func(), error) { return func() {}, nil }
