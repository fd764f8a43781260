package protocol

import (
	"bytes"
	"testing"
)

// FuzzParse feeds any datagram to the parsers: none may panic, and every
// body that parses must re-encode to the same bytes.
func FuzzParse(f *testing.F) {
	for _, body := range goldenBodies() {
		pkt, _ := testSigner().Append(nil, body)
		f.Add(pkt)
	}
	f.Add(goldenData())
	hl, _ := testSigner().Append(nil, ShardHashes{Session: testSession, Block: 3, First: 0, Hashes: make([]byte, 4*ShardHashLen)})
	f.Add(hl)
	seal, _ := testSigner().Append(nil, ListSeal{Session: testSession, Digests: make([]byte, 3*ListDigestLen)})
	f.Add(seal)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if _, err := ParseData(pkt); err == nil {
			return
		}
		s, err := ParseSigned(pkt)
		if err != nil {
			return
		}
		s.Verify()
		var enc []byte
		switch s.Type {
		case TypeBeacon:
			if m, err := ParseBeacon(s.Body); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeAnnounce:
			if m, err := ParseAnnounce(s.Body); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeManifest:
			if m, err := ParseManifestChunk(s.Body); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeProbe:
			if m, err := ParseProbe(s.Body); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeEnd:
			if m, err := ParseEnd(s.Body); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeGrant:
			if g, err := ParseGrant(s.Body); err == nil {
				m := Grant{Session: g.Session, BoxKey: g.BoxKey, Index: g.Index}
				for i := range g.Count() {
					m.Entries = append(m.Entries, g.Entry(i))
				}
				enc = m.AppendBinary(nil)
			}
		case TypeMembership:
			if m, err := membershipOf(ParseMembership(s.Body)); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeHashes:
			if m, err := ParseShardHashes(s.Body); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeListSeal:
			if m, err := ParseListSeal(s.Body); err == nil {
				enc = m.AppendBinary(nil)
			}
		case TypeStatus:
			if v, err := ParseStatus(s.Body); err == nil {
				m := Status{Session: v.Session, State: v.State, Reason: v.Reason, HavePrefix: v.HavePrefix, Complete: v.Complete, Loss: v.Loss, Received: v.Received, Lost: v.Lost, Overflow: v.Overflow}
				for i := range v.NackCount() {
					m.Nacks = append(m.Nacks, v.Nack(i))
				}
				enc = m.AppendBinary(nil)
			}
		default:
			return
		}
		if enc != nil && !bytes.Equal(enc, s.Body) {
			t.Fatalf("%v: round trip changed the body\n in %x\nout %x", s.Type, s.Body, enc)
		}
	})
}

// FuzzManifest checks the manifest parser never panics and round-trips.
func FuzzManifest(f *testing.F) {
	f.Add(sampleManifest().AppendBinary(nil), uint64(150), uint32(2))
	f.Fuzz(func(t *testing.T, b []byte, total uint64, blocks uint32) {
		m, err := ParseManifest(b, total, blocks)
		if err != nil {
			return
		}
		if !bytes.Equal(m.AppendBinary(nil), b) {
			t.Fatal("round trip changed the manifest")
		}
	})
}

// FuzzMembership feeds any body to ParseMembership: it never panics, a
// body that parses re-encodes to itself, and Holds finds each of its tags.
func FuzzMembership(f *testing.F) {
	f.Add(goldenBodies()["membership"].AppendBinary(nil))
	f.Add([]byte{0})
	f.Add(append([]byte{MaxMembershipTags + 1}, make([]byte, (MaxMembershipTags+1)*MembershipTagLen)...))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := ParseMembership(body)
		if err != nil {
			return
		}
		m, _ := membershipOf(v, nil)
		if !bytes.Equal(m.AppendBinary(nil), body) {
			t.Fatalf("round trip changed the body\n in %x\nout %x", body, m.AppendBinary(nil))
		}
		for _, tag := range m.Tags {
			if !v.Holds(tag) {
				t.Fatalf("Holds misses tag %x", tag)
			}
		}
	})
}
