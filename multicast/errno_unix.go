//go:build unix

package multicast

import (
	"errors"
	"io/fs"
	"syscall"
)

func isAddrInUse(err error) bool  { return errors.Is(err, syscall.EADDRINUSE) }
func isPermission(err error) bool { return errors.Is(err, fs.ErrPermission) }
