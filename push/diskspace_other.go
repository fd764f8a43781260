//go:build !unix

package push

// freeSpace is unknown here; writes still fail cleanly on a full disk.
func freeSpace(dir string) (uint64, bool) { return 0, false }
