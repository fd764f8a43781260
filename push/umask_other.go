//go:build !unix

package push

import "io/fs"

// umask: platforms without one apply the sender's permission bits as
// far as they have any.
func umask() fs.FileMode { return 0 }
