package identity

import "errors"

// Sentinel errors; the errors returned wrap them with details, test with
// errors.Is.
var (
	// ErrInsecurePermissions: a private file or the home is accessible to
	// group or others. The message names the chmod that fixes it.
	ErrInsecurePermissions = errors.New("identity: insecure file permissions")
	// ErrCorrupt: a stored file cannot be parsed or holds impossible values.
	ErrCorrupt = errors.New("identity: corrupt file")
	// ErrBadName: a peer or channel name breaks the naming rules.
	ErrBadName = errors.New("identity: invalid name")
	// ErrBadKey: a public key has the wrong length.
	ErrBadKey = errors.New("identity: invalid key")
	// ErrKeyChanged: a trusted peer's name was presented with another key.
	ErrKeyChanged = errors.New("identity: key changed for known name")
	// ErrBadFingerprint: a string is not a full fingerprint.
	ErrBadFingerprint = errors.New("identity: invalid fingerprint")
	// ErrBadIdentityLine: a public identity line (Identity.Export) is
	// malformed or its signature does not verify.
	ErrBadIdentityLine = errors.New("identity: invalid identity line")
	// ErrUnknownPeer: no peer matches a reference.
	ErrUnknownPeer = errors.New("identity: no such peer")
	// ErrAmbiguous: more than one peer matches a reference.
	ErrAmbiguous = errors.New("identity: ambiguous peer reference")
	// ErrStoreFull: the trust store already trusts MaxPeers keys.
	ErrStoreFull = errors.New("identity: trust store full")
	// ErrBadJoinCode: a join code is malformed or its checksum fails.
	ErrBadJoinCode = errors.New("identity: invalid join code")
	// ErrChannelExists: a channel of that name with another secret is joined.
	ErrChannelExists = errors.New("identity: channel name already joined with another secret")
	// ErrUnknownChannel: no joined channel has that name.
	ErrUnknownChannel = errors.New("identity: no such channel")
)
