package protocol

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// Envelope sizes (SPEC.md §4).
const (
	SenderLen    = ed25519.PublicKeySize // 32
	EnvelopeLen  = SenderLen + 8 + 8 + 8 // sender, epoch, counter, time
	SignatureLen = ed25519.SignatureSize // 64
	// SignedOverhead is what a signed packet spends beyond its body.
	SignedOverhead = HeaderLen + EnvelopeLen + SignatureLen
	// MaxSignedBody is the largest body a signed packet can carry.
	MaxSignedBody = MaxDatagram - SignedOverhead
)

// Envelope identifies the sender of a signed packet and orders its
// packets for replay protection: (Sender, Epoch, Counter) is unique, and
// Time is the sender's clock in Unix milliseconds.
type Envelope struct {
	Sender  [SenderLen]byte
	Epoch   uint64
	Counter uint64
	Time    uint64
}

// AppendBinary appends the 56-byte envelope.
func (e Envelope) AppendBinary(b []byte) []byte {
	b = append(b, e.Sender[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Epoch)
	b = binary.BigEndian.AppendUint64(b, e.Counter)
	return binary.BigEndian.AppendUint64(b, e.Time)
}

// Nonce24 is a 24-byte nonce unique to this packet of this sender, for
// secretbox and box constructions keyed per sender (SPEC.md §4.3).
// The last byte is left to the caller to separate several seals made
// under one envelope (sub is that byte).
func (e Envelope) Nonce24(sub byte) [24]byte {
	var n [24]byte
	copy(n[0:7], e.Sender[:7])
	binary.BigEndian.PutUint64(n[7:15], e.Epoch)
	binary.BigEndian.PutUint64(n[15:23], e.Counter)
	n[23] = sub
	return n
}

func parseEnvelope(b []byte) Envelope {
	var e Envelope
	copy(e.Sender[:], b[:SenderLen])
	e.Epoch = binary.BigEndian.Uint64(b[32:40])
	e.Counter = binary.BigEndian.Uint64(b[40:48])
	e.Time = binary.BigEndian.Uint64(b[48:56])
	return e
}

// Body is a signed packet's type-specific part.
type Body interface {
	Type() Type
	Len() int
	AppendBinary(b []byte) []byte
}

// Signed is a parsed signed packet. Body and Signed are sub-slices of the
// input; nothing in it is trustworthy until Verify returns true.
type Signed struct {
	Header
	Envelope
	Body      []byte
	signed    []byte
	signature []byte
}

// ParseSigned splits a signed packet without verifying it.
func ParseSigned(b []byte) (Signed, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Signed{}, err
	}
	if !h.Type.Signed() {
		return Signed{}, ErrType
	}
	if len(b) < SignedOverhead {
		return Signed{}, ErrShort
	}
	end := len(b) - SignatureLen
	return Signed{
		Header:    h,
		Envelope:  parseEnvelope(b[HeaderLen : HeaderLen+EnvelopeLen]),
		Body:      b[HeaderLen+EnvelopeLen : end],
		signed:    b[:end],
		signature: b[end:],
	}, nil
}

// Verify checks the signature against the sender key the packet names.
// Callers MUST verify before acting on any field, and MUST run replay
// checks only after Verify, so forged packets cannot move a window.
func (s Signed) Verify() bool {
	return ed25519.Verify(ed25519.PublicKey(s.Sender[:]), s.signed, s.signature)
}

// SenderKey returns the sender's public key as an ed25519.PublicKey
// (a sub-slice of the envelope copy; no allocation).
func (s *Signed) SenderKey() ed25519.PublicKey { return s.Sender[:] }

// Signer stamps envelopes for one sender process: a random epoch chosen
// at creation and a counter that never repeats within it. Safe for
// concurrent use.
type Signer struct {
	key     ed25519.PrivateKey
	sender  [SenderLen]byte
	epoch   uint64
	counter atomic.Uint64
	now     func() time.Time
}

// NewSigner returns a Signer for key with a fresh random epoch.
func NewSigner(key ed25519.PrivateKey) *Signer {
	var e [8]byte
	if _, err := rand.Read(e[:]); err != nil {
		panic("protocol: no randomness: " + err.Error())
	}
	return newSigner(key, binary.BigEndian.Uint64(e[:]), time.Now)
}

func newSigner(key ed25519.PrivateKey, epoch uint64, now func() time.Time) *Signer {
	s := &Signer{key: key, epoch: epoch, now: now}
	copy(s.sender[:], key.Public().(ed25519.PublicKey))
	return s
}

// Sender is the signer's public key.
func (s *Signer) Sender() [SenderLen]byte { return s.sender }

// Next returns a fresh envelope (counter starts at 1).
func (s *Signer) Next() Envelope {
	return Envelope{
		Sender:  s.sender,
		Epoch:   s.epoch,
		Counter: s.counter.Add(1),
		Time:    uint64(s.now().UnixMilli()),
	}
}

// Append appends a complete signed packet carrying body under a fresh
// envelope, and returns it with the envelope used.
func (s *Signer) Append(b []byte, body Body) ([]byte, Envelope) {
	env := s.Next()
	return s.AppendWith(b, env, body), env
}

// AppendWith appends a signed packet under a given envelope; use it when
// the body must be built knowing the envelope (nonces derive from it).
func (s *Signer) AppendWith(b []byte, env Envelope, body Body) []byte {
	start := len(b)
	b = AppendHeader(b, body.Type())
	b = env.AppendBinary(b)
	b = body.AppendBinary(b)
	return append(b, ed25519.Sign(s.key, b[start:])...)
}

// SignedLen is the datagram size of a signed packet with this body.
func SignedLen(body Body) int { return SignedOverhead + body.Len() }
