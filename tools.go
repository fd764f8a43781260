//go:build tools

package herald

import (
	_ "github.com/klauspost/reedsolomon"
	_ "github.com/urfave/cli/v2"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/crypto/chacha20poly1305"
	_ "golang.org/x/crypto/nacl/box"
	_ "golang.org/x/crypto/nacl/secretbox"
	_ "golang.org/x/net/ipv4"
	_ "golang.org/x/net/ipv6"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
)
