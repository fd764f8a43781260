//go:build !unix && !windows

package multicast

import (
	"errors"
	"io/fs"
	"net"
)

// Platforms without BSD sockets (wasm, plan9) compile but cannot tell
// these errors or buffer sizes apart.
func isAddrInUse(error) bool                        { return false }
func isPermission(err error) bool                   { return errors.Is(err, fs.ErrPermission) }
func readBufferSizes(*net.UDPConn) (recv, send int) { return 0, 0 }
