package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/hkdf"
)

// Derivation labels (SPEC.md): every key taken from a channel secret uses
// HKDF-SHA256 with an empty salt and one of these infos, so keys for
// different purposes are independent.
const (
	channelIDInfo     = "herald channel id v1"
	channelSeedInfo   = "herald channel seed v2"
	channelKeyInfoFmt = "herald channel %s v1"
	// PurposeMessage keys announcements and chat on the channel.
	PurposeMessage = "message"
	// PurposePush keys file pushes on the channel.
	PurposePush = "push"
	// PurposePresence keys the Membership tags that prove to other
	// members that a peer holds the channel (SPEC.md §5.4).
	PurposePresence = "presence"
)

// Passphrase stretching parameters (argon2id, RFC 9106). 64 MiB and 3
// passes cost about a quarter second on a laptop, once per join, and
// make each guess at a weak passphrase as expensive. Changing any of
// them changes every passphrase channel, so they are part of the format.
const (
	passphraseSaltPrefix = "herald-channel-v1|"
	PassphraseTime       = 3
	PassphraseMemoryKiB  = 64 * 1024
	PassphraseThreads    = 4
)

// SeedLen is the length of a version-2 channel's seed: 128 bits, what
// resists offline guessing (the channel ID is public and checks a guess).
const SeedLen = 16

// Channel is a named group secret: whoever holds Secret can read and
// write the channel. The zero secret is the open channel, readable by
// anyone. Owners are the keys whose pushes and announcements members
// trust on this channel (SPEC.md §8). A Channel is a plain value; copy
// Owners before changing it.
type Channel struct {
	Name   string
	Secret [32]byte
	// Seed is what Secret derives from in a version-2 channel (made by
	// NewChannel, written in its join code); zero for channels from a
	// version-1 join code or a passphrase.
	Seed [SeedLen]byte
	// Owners are canonical fingerprints; the first is written into the
	// join code.
	Owners []string
}

// NewChannel makes a channel from a fresh random seed, owned by owner
// (a fingerprint; "" for none). The name is lower-cased and must satisfy
// NormalizeChannelName; "open" is reserved.
func NewChannel(name, owner string) (Channel, error) {
	name, err := normalizeSecretChannelName(name)
	if err != nil {
		return Channel{}, err
	}
	var seed [SeedLen]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return Channel{}, fmt.Errorf("identity: channel secret: %w", err)
	}
	c := channelFromSeed(name, seed)
	if owner != "" {
		fp, err := ParseFingerprint(owner)
		if err != nil {
			return Channel{}, err
		}
		c.Owners = []string{fp}
	}
	return c, nil
}

// channelFromSeed derives a version-2 channel: Secret =
// HKDF-SHA256(seed, salt empty, info "herald channel seed v2", 32).
func channelFromSeed(name string, seed [SeedLen]byte) Channel {
	c := Channel{Name: name, Seed: seed}
	r := hkdf.New(sha256.New, seed[:], nil, []byte(channelSeedInfo))
	if _, err := io.ReadFull(r, c.Secret[:]); err != nil {
		panic("identity: hkdf: " + err.Error())
	}
	return c
}

// HasSeed reports a version-2 channel, whose join code names an owner.
func (c Channel) HasSeed() bool { return c.Seed != [SeedLen]byte{} }

// IsOwner reports whether the key with fingerprint fp owns the channel.
func (c Channel) IsOwner(fp string) bool { return slices.Contains(c.Owners, fp) }

// ChannelFromPassphrase derives a channel everyone typing the same name
// and passphrase agrees on: Secret = argon2id(pass, salt =
// "herald-channel-v1|"+name, t=3, m=64 MiB, p=4, 32 bytes). The name is
// lower-cased first (join codes are case-insensitive); callers should
// have checked it with NormalizeChannelName, since a name that breaks
// the rules gives a channel whose JoinCode does not parse. It takes
// 64 MiB and a noticeable fraction of a second by design.
func ChannelFromPassphrase(name, pass string) Channel {
	name = strings.ToLower(name)
	c := Channel{Name: name}
	key := argon2.IDKey([]byte(pass), []byte(passphraseSaltPrefix+name),
		PassphraseTime, PassphraseMemoryKiB, PassphraseThreads, uint32(len(c.Secret)))
	copy(c.Secret[:], key)
	return c
}

// OpenChannel is the well-known unencrypted channel: name "open", zero
// secret. Its keys are public; it gives authenticity (signatures) but
// no secrecy.
func OpenChannel() Channel { return Channel{Name: openChannelName} }

// IsOpen reports whether the channel has the zero secret, i.e. offers
// no secrecy whatever its name.
func (c Channel) IsOpen() bool { return c.Secret == [32]byte{} }

// ID is the public 8-byte tag packets carry to say which channel they
// belong to: HKDF-SHA256(secret, salt empty, info "herald channel id v1").
// It reveals nothing about the secret.
func (c Channel) ID() [8]byte {
	var id [8]byte
	c.derive(channelIDInfo, id[:])
	return id
}

// Key derives the 32-byte key for purpose (PurposeMessage, PurposePush,
// PurposePresence):
// HKDF-SHA256(secret, salt empty, info "herald channel <purpose> v1").
func (c Channel) Key(purpose string) [32]byte {
	var k [32]byte
	c.derive(fmt.Sprintf(channelKeyInfoFmt, purpose), k[:])
	return k
}

func (c Channel) derive(info string, out []byte) {
	r := hkdf.New(sha256.New, c.Secret[:], nil, []byte(info))
	if _, err := io.ReadFull(r, out); err != nil {
		panic("identity: hkdf: " + err.Error()) // only past 255*32 bytes
	}
}
