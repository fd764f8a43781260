//go:build !unix

package lockfile

import (
	"errors"
	"os"
)

// errWouldBlock is never returned here: without flock the lock is
// advisory only and always granted.
var errWouldBlock = errors.New("would block")

func tryLock(*os.File) error { return nil }
