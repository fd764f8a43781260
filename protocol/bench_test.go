package protocol

import (
	"fmt"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// The data path as package push runs it: header, then the shard sealed
// after it with the header as associated data (SPEC §6.5), one datagram
// per call, into a buffer the caller reuses.

func dataAEAD(tb testing.TB) interface {
	Seal(dst, nonce, plaintext, ad []byte) []byte
	Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
} {
	tb.Helper()
	a, err := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// A nonce handed to the AEAD interface escapes, so the data path keeps it
// in a field of a long-lived struct (as push's sender and receiver do)
// instead of a local, which would cost an allocation per datagram.
var nonceBuf [12]byte

func sealShard(a interface {
	Seal(dst, nonce, plaintext, ad []byte) []byte
}, pkt []byte, sid SessionID, block uint32, index byte, shard []byte) []byte {
	pkt = AppendDataHeader(pkt[:0], sid, block, index)
	nonceBuf = DataNonce(block, index)
	return a.Seal(pkt, nonceBuf[:], shard, pkt[:DataHeaderLen])
}

// openShard parses a data datagram and opens its shard into scratch.
func openShard(a interface {
	Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
}, pkt, scratch []byte) error {
	d, err := ParseData(pkt)
	if err != nil {
		return err
	}
	nonceBuf = DataNonce(d.Block, d.Shard)
	_, err = a.Open(scratch[:0], nonceBuf[:], d.Sealed, pkt[:DataHeaderLen])
	return err
}

func BenchmarkDataSeal(b *testing.B) {
	a := dataAEAD(b)
	shard := make([]byte, MaxShardSize)
	pkt := make([]byte, 0, MaxDatagram)
	b.SetBytes(int64(len(shard)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		pkt = sealShard(a, pkt, SessionID{1}, uint32(i), byte(i), shard)
	}
}

func BenchmarkDataOpen(b *testing.B) {
	a := dataAEAD(b)
	pkt := sealShard(a, nil, SessionID{1}, 7, 3, make([]byte, MaxShardSize))
	scratch := make([]byte, 0, MaxShardSize)
	b.SetBytes(MaxShardSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := openShard(a, pkt, scratch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignedVerify is the control group's per-packet cost: parse the
// envelope and check its Ed25519 signature.
func BenchmarkSignedVerify(b *testing.B) {
	pkt, _ := testSigner().Append(nil, Beacon{BoxKey: [32]byte{1}, Name: "teacher"})
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := ParseSigned(pkt)
		if err != nil || !s.Verify() {
			b.Fatal("verify failed")
		}
	}
}

func BenchmarkSignedAppend(b *testing.B) {
	signer := testSigner()
	body := Beacon{BoxKey: [32]byte{1}, Name: "teacher"}
	pkt := make([]byte, 0, MaxDatagram)
	b.ReportAllocs()
	for b.Loop() {
		pkt, _ = signer.Append(pkt[:0], body)
	}
}

// The data path allocates nothing per datagram once its buffers exist:
// sealing into a reused packet, parsing, and opening into a reused shard.
func TestDataPathAllocatesNothing(t *testing.T) {
	a := dataAEAD(t)
	shard := make([]byte, MaxShardSize)
	pkt := make([]byte, 0, MaxDatagram)
	scratch := make([]byte, 0, MaxShardSize)
	allocs := testing.AllocsPerRun(200, func() {
		pkt = sealShard(a, pkt, SessionID{1}, 9, 4, shard)
		if err := openShard(a, pkt, scratch); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per datagram, want 0", allocs)
	}
}

// BenchmarkMembershipCheck is what a receiver does per Membership it
// gets (SPEC §5.4): one tag per channel it holds, each compared with a
// full packet's 64 tags, next to the Ed25519 verification every signed
// packet costs first (the ratio is what matters on a noisy machine).
func BenchmarkMembershipCheck(b *testing.B) {
	pkt, _ := testSigner().Append(nil, Membership{Tags: make([][MembershipTagLen]byte, MaxMembershipTags)})
	s, err := ParseSigned(pkt)
	if err != nil {
		b.Fatal(err)
	}
	for _, held := range []int{1, 8} {
		keys := make([][32]byte, held)
		for i := range keys {
			keys[i][0] = byte(i + 1)
		}
		b.Run(fmt.Sprintf("channels=%d", held), func(b *testing.B) {
			for b.Loop() {
				v, _ := ParseMembership(s.Body)
				for i := range keys {
					v.Holds(MembershipTag(&keys[i], s.Envelope))
				}
			}
		})
	}
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			s.Verify()
		}
	})
}
