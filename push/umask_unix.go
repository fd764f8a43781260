//go:build unix

package push

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// umask is the process's file mode creation mask, read once. Modes from
// the wire are applied with it (a sender's 0777 becomes 0755 under the
// usual 022, 0750 under a service's UMask=0027), like any file this
// process creates.
var umask = sync.OnceValue(func() fs.FileMode {
	// Linux shows it without changing it; elsewhere set and restore,
	// once, before any receiver creates files.
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return fs.FileMode(m) & 0o777
				}
			}
		}
	}
	m := syscall.Umask(0o22)
	syscall.Umask(m)
	return fs.FileMode(m) & 0o777
})
