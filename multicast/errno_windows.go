//go:build windows

package multicast

import (
	"errors"
	"io/fs"
	"syscall"
)

// Winsock error numbers that package syscall does not name.
const (
	wsaeAccess    = syscall.Errno(10013) // WSAEACCES
	wsaeAddrInUse = syscall.Errno(10048) // WSAEADDRINUSE
)

func isAddrInUse(err error) bool {
	return errors.Is(err, wsaeAddrInUse) || errors.Is(err, syscall.EADDRINUSE)
}

func isPermission(err error) bool {
	return errors.Is(err, wsaeAccess) || errors.Is(err, fs.ErrPermission)
}
