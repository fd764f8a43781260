package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden vectors in testdata/")

// testSigner signs deterministically: a fixed seed key, epoch and clock.
func testSigner() *Signer {
	seed := bytes.Repeat([]byte{0x42}, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	return newSigner(key, 0x0102030405060708, func() time.Time { return time.UnixMilli(1_790_000_000_000) })
}

var testSession = SessionID{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3}

// goldenBodies are one packet of each signed push type, for round-trip,
// truncation and fuzz tests. The byte-exact vectors SPEC.md cites come
// from the chained push (vectors_test.go, SPEC.md §11.1).
func goldenBodies() map[string]Body {
	var sealed [SealedKeyLen]byte
	for i := range sealed {
		sealed[i] = byte(i)
	}
	return map[string]Body{
		"beacon":     Beacon{BoxKey: [32]byte{1, 2, 3}, Offers: OfferReceive | OfferListen, Name: "teacher"},
		"announce":   Announce{Session: testSession, KeyMode: KeyModeChannel, Channel: [8]byte{9, 9}, K: 64, ShardSize: 1344, Blocks: 3, TotalSize: 200_000, ManifestLen: 150, ManifestParts: 1, Grants: 1, Sent: 2},
		"grant":      Grant{Session: testSession, BoxKey: [32]byte{7}, Entries: []GrantEntry{{Recipient: [8]byte{1, 1, 1, 1, 1, 1, 1, 1}, Sealed: sealed}}},
		"manifest":   ManifestChunk{Session: testSession, Index: 0, Sealed: bytes.Repeat([]byte{0xab}, 40)},
		"status":     Status{Session: testSession, State: StateReceiving, HavePrefix: 1, Complete: 2, Loss: 50, Received: 1900, Lost: 100, Overflow: 20, Nacks: []Nack{{Block: 2, Have: 60, MaxIndex: 66}}},
		"end":        End{Session: testSession, Reason: EndComplete},
		"membership": Membership{Tags: [][MembershipTagLen]byte{{1}, {2, 2}, {3, 3, 3}, {4, 4, 4, 4}}},
		"probe":      Probe{Kind: ProbeReport, Path: ProbePathUnicast, Session: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, Target: [32]byte{0x42}, Count: 499, SpanMicros: 40_000, Bytes: 598_800},
	}
}

func goldenData() []byte {
	b := AppendDataHeader(nil, testSession, 7, 65)
	return append(b, bytes.Repeat([]byte{0xcd}, 1344+DataTagLen)...)
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".hex")
	if *update {
		if err := os.WriteFile(path, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create)", err)
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encoding changed:\n got %x\nwant %x", name, got, want)
	}
}

func TestGoldenVectors(t *testing.T) {
	for name, body := range goldenBodies() {
		t.Run(name, func(t *testing.T) {
			pkt, _ := testSigner().Append(nil, body)
			if len(pkt) != SignedLen(body) || len(body.AppendBinary(nil)) != body.Len() {
				t.Fatalf("Len disagrees with encoding")
			}
			s, err := ParseSigned(pkt)
			if err != nil || !s.Verify() || s.Type != body.Type() {
				t.Fatalf("parse/verify: %v", err)
			}
			if err := reparse(s.Type, s.Body, body); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("data", func(t *testing.T) {
		pkt := goldenData()
		d, err := ParseData(pkt)
		if err != nil || d.Block != 7 || d.Shard != 65 || d.Session != testSession || len(d.Sealed) != 1344+DataTagLen {
			t.Fatalf("ParseData = %+v, %v", d, err)
		}
		if len(pkt) > MaxDatagram {
			t.Fatalf("data datagram %d > MaxDatagram", len(pkt))
		}
	})
}

// reparse parses body as type t and checks it re-encodes to want.
func reparse(t Type, body []byte, want Body) error {
	var got Body
	var err error
	switch t {
	case TypeBeacon:
		got, err = ParseBeacon(body)
	case TypeAnnounce:
		got, err = ParseAnnounce(body)
	case TypeGrant:
		var g GrantView
		g, err = ParseGrant(body)
		m := Grant{Session: g.Session, BoxKey: g.BoxKey, Index: g.Index}
		for i := range g.Count() {
			m.Entries = append(m.Entries, g.Entry(i))
		}
		got = m
	case TypeManifest:
		got, err = ParseManifestChunk(body)
	case TypeStatus:
		var s StatusView
		s, err = ParseStatus(body)
		m := Status{Session: s.Session, State: s.State, Reason: s.Reason, HavePrefix: s.HavePrefix, Complete: s.Complete, Loss: s.Loss, Received: s.Received, Lost: s.Lost, Overflow: s.Overflow}
		for i := range s.NackCount() {
			m.Nacks = append(m.Nacks, s.Nack(i))
		}
		got = m
	case TypeEnd:
		got, err = ParseEnd(body)
	case TypeProbe:
		got, err = ParseProbe(body)
	case TypeMembership:
		got, err = membershipOf(ParseMembership(body))
	default:
		return errors.New("no parser for " + t.String())
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(got.AppendBinary(nil), want.AppendBinary(nil)) {
		return errors.New(t.String() + ": round trip changed the body")
	}
	return nil
}

// membershipOf copies a parsed Membership into a Membership.
func membershipOf(v MembershipView, err error) (Membership, error) {
	m := Membership{}
	for i := range v.Count() {
		m.Tags = append(m.Tags, v.Tag(i))
	}
	return m, err
}

// TestTruncated tries every prefix of every golden packet: each is an error.
func TestTruncated(t *testing.T) {
	for name, body := range goldenBodies() {
		pkt, _ := testSigner().Append(nil, body)
		for n := 0; n < len(pkt); n++ {
			s, err := ParseSigned(pkt[:n])
			if err == nil && s.Verify() {
				t.Fatalf("%s: prefix %d verified", name, n)
			}
		}
		enc := body.AppendBinary(nil)
		for n := 0; n < len(enc); n++ {
			if reparse(body.Type(), enc[:n], body) == nil {
				t.Fatalf("%s: body prefix %d parsed", name, n)
			}
		}
	}
	pkt := goldenData()
	for n := 0; n < DataHeaderLen+DataTagLen+1; n++ {
		if _, err := ParseData(pkt[:n]); err == nil {
			t.Fatalf("data prefix %d parsed", n)
		}
	}
}

func TestHeaderRejects(t *testing.T) {
	good, _ := testSigner().Append(nil, End{Session: testSession, Reason: EndComplete})
	mutate := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	cases := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"magic", mutate(0, 'X'), ErrMagic},
		{"version", mutate(4, 2), ErrVersion},
		{"type", mutate(5, 0x7f), ErrType},
		{"too large", make([]byte, MaxDatagram+1), ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSigned(c.pkt); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if _, err := ParseHeader(mutate(4, 9)); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Fatalf("unknown version not named: %v", err)
	}
}

func TestSignatureCoversEveryByte(t *testing.T) {
	pkt, _ := testSigner().Append(nil, Beacon{Name: "x"})
	for i := HeaderLen; i < len(pkt); i++ {
		b := bytes.Clone(pkt)
		b[i] ^= 1
		if s, err := ParseSigned(b); err == nil && s.Verify() {
			t.Fatalf("flipping byte %d kept the signature valid", i)
		}
	}
}

func TestSizesAddUp(t *testing.T) {
	if EnvelopeLen != 56 || SignedOverhead != 126 || DataHeaderLen != 19 {
		t.Fatalf("constants moved: env %d overhead %d data %d", EnvelopeLen, SignedOverhead, DataHeaderLen)
	}
	if DataHeaderLen+MaxShardSize+DataTagLen > MaxDatagram {
		t.Fatal("largest data packet exceeds MaxDatagram")
	}
	g := Grant{Entries: make([]GrantEntry, MaxGrantEntries)}
	if SignedLen(g) > MaxDatagram {
		t.Fatal("full grant exceeds MaxDatagram")
	}
	if SignedLen(ManifestChunk{Sealed: make([]byte, MaxManifestSealed)}) > MaxDatagram {
		t.Fatal("manifest chunk exceeds MaxDatagram")
	}
	if SignedLen(Status{Nacks: make([]Nack, MaxNacks)}) > MaxDatagram {
		t.Fatal("full status exceeds MaxDatagram")
	}
	if SignedLen(Membership{Tags: make([][MembershipTagLen]byte, MaxMembershipTags)}) > MaxDatagram ||
		MaxMembershipTags%MembershipPad != 0 {
		t.Fatal("full membership exceeds MaxDatagram, or its padding overshoots the bound")
	}
	if SignedLen(Beacon{Name: strings.Repeat("n", MaxNameLen)}) > MaxDatagram {
		t.Fatal("beacon exceeds MaxDatagram")
	}
}

func TestSessionGroups(t *testing.T) {
	d, f := SessionGroups(ControlGroupV4, SessionID{7: 255})
	if d.String() != "239.255.73.2" || f.String() != "239.255.74.2" {
		t.Fatalf("v4 groups %v %v", d, f)
	}
	d, f = SessionGroups(ControlGroupV6, SessionID{7: 0})
	if d.String() != "ff12::4852:4c45:1" || f.String() != "ff12::4852:4c46:1" {
		t.Fatalf("v6 groups %v %v", d, f)
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	pkt, _ := testSigner().Append(nil, goldenBodies()["status"])
	member, _ := testSigner().Append(nil, goldenBodies()["membership"])
	data := goldenData()
	n := testing.AllocsPerRun(100, func() {
		s, _ := ParseSigned(pkt)
		_, _ = ParseStatus(s.Body)
		s, _ = ParseSigned(member)
		v, _ := ParseMembership(s.Body)
		_ = v.Holds([MembershipTagLen]byte{})
		_, _ = ParseData(data)
	})
	if n != 0 {
		t.Fatalf("parsing allocated %v times", n)
	}
}
