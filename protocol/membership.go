package protocol

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
)

// Membership sizes (SPEC.md §5.4).
const (
	// MembershipTagLen is one channel's proof of membership.
	MembershipTagLen = 16
	// MaxMembershipTags is the most tags one Membership carries; a node
	// holding more channels sends several.
	MaxMembershipTags = 64
	// MembershipPad: a sender pads the tag count to a multiple of this
	// with random tags, so the count says little about its channels.
	MembershipPad = 4
	// membershipTagDomain separates the tag's HMAC input from any other.
	membershipTagDomain = "herald presence v1"
)

// Membership (type 0x05, signed, control group) tells the members of the
// sender's channels that it holds them, and nobody else: each tag is an
// HMAC under one channel's presence key over the packet's own envelope,
// so only a holder of that channel's secret can make or recognise it,
// and a tag copied into another sender's packet does not verify there.
type Membership struct {
	Tags [][MembershipTagLen]byte // 1..MaxMembershipTags
}

func (Membership) Type() Type { return TypeMembership }
func (m Membership) Len() int { return 1 + MembershipTagLen*len(m.Tags) }

func (m Membership) AppendBinary(b []byte) []byte {
	b = append(b, byte(len(m.Tags)))
	for _, t := range m.Tags {
		b = append(b, t[:]...)
	}
	return b
}

// MembershipView is a parsed Membership body; it refers to the packet
// buffer and allocates nothing.
type MembershipView struct {
	tags []byte
}

// Count is the number of tags.
func (v MembershipView) Count() int { return len(v.tags) / MembershipTagLen }

// Tag returns tag i (0..Count-1).
func (v MembershipView) Tag(i int) [MembershipTagLen]byte {
	return [MembershipTagLen]byte(v.tags[i*MembershipTagLen:])
}

// Holds reports whether any tag equals want, in time independent of
// which one matches.
func (v MembershipView) Holds(want [MembershipTagLen]byte) bool {
	found := 0
	for i := range v.Count() {
		t := v.Tag(i)
		found |= subtle.ConstantTimeCompare(t[:], want[:])
	}
	return found == 1
}

// ParseMembership parses a Membership body: Count 1..MaxMembershipTags,
// then exactly Count tags.
func ParseMembership(body []byte) (MembershipView, error) {
	r := reader{b: body}
	n := int(r.u8())
	if r.err == nil && (n == 0 || n > MaxMembershipTags) {
		return MembershipView{}, ErrField
	}
	tags := r.take(n * MembershipTagLen)
	if err := r.done(); err != nil {
		return MembershipView{}, err
	}
	return MembershipView{tags: tags}, nil
}

// MembershipTag is the tag that proves, in the packet with envelope env,
// that its sender holds the channel whose presence key is key:
// HMAC-SHA256(key, "herald presence v1" || Sender || Epoch || Counter),
// first 16 bytes.
func MembershipTag(key *[32]byte, env Envelope) [MembershipTagLen]byte {
	var msg [len(membershipTagDomain) + SenderLen + 8 + 8]byte
	n := copy(msg[:], membershipTagDomain)
	n += copy(msg[n:], env.Sender[:])
	binary.BigEndian.PutUint64(msg[n:], env.Epoch)
	binary.BigEndian.PutUint64(msg[n+8:], env.Counter)
	mac := hmac.New(sha256.New, key[:])
	mac.Write(msg[:])
	var sum [sha256.Size]byte
	return [MembershipTagLen]byte(mac.Sum(sum[:0]))
}
