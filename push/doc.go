// Package push moves files from one sender to many receivers over IP
// multicast (SPEC.md §6): a signed announce, sealed session keys, a
// signed manifest of per-block SHA-256 hashes, Reed-Solomon coded data
// shards under an AEAD, and NORM-style repair driven by receiver NACKs.
//
// A receiver writes only blocks whose hash matches the signed manifest,
// into a temp directory inside the target, and renames files into place
// only when every block verified.
package push
