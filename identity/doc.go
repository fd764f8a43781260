// Package identity holds who a herald node is and whom it believes:
// its long-term keys, the keys it trusts (by fingerprint; names are
// labels), and the channels it has joined with their owners.
//
// Everything lives in one directory, the home (DefaultHome):
//
//	identity.json  this node's private keys and name     (0600)
//	trust.json     keys the user trusts, pins included    (0600)
//	channels.json  joined channels, secrets and owners    (0600)
//
// The home is created 0700. Files are written atomically (temporary file,
// fsync, rename, fsync of the directory) and a file that group or others
// can access is refused with an error saying which chmod fixes it, since
// all three either hold secrets or decide whom to believe. Writers of
// trust.json and channels.json take a lock file and re-read before they
// write; readers reload a changed file within reloadEvery, so every
// process of one home sees the same trust.
//
// Encodings a person reads or types (fingerprints, join codes) use the
// Crockford base32 alphabet, which has no I, L, O or U; on input those
// letters are read as 1, 1 and 0 so misreadings still parse.
// SPEC.md (section "Identity") fixes every byte of these formats;
// testdata/vectors.json holds golden values an independent
// implementation can check itself against.
package identity
