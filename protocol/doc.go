// Package protocol holds herald's wire format, version 1 (SPEC.md §3–§6).
//
// Every datagram starts with a 6-byte header:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      'H'      |      'R'      |      'L'      |      'D'      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    Version    |     Type      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Signed packets follow the header with a 56-byte envelope (sender
// Ed25519 key, epoch, counter, timestamp), a type-specific body and a
// 64-byte Ed25519 signature over everything before it. Data packets are
// not signed: they carry an AEAD tag under the session key; each shard is
// checked against a hash list the sender signed (ShardHashes, type 0x16)
// and the blocks they rebuild against hashes in the signed manifest.
//
// Encoding appends to a caller's buffer (AppendBinary, Len); parsing
// returns sub-slices of the input and does not allocate. Every parser
// rejects a truncated input with ErrShort. Types are not safe for
// concurrent mutation; Signer is safe for concurrent use.
package protocol

//go:generate go test -run TestChainedVectors|TestExcerptVectors -update
