package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
)

// TestUnknownValues checks SPEC.md §3.6 row by row: what a version-1
// parser rejects, ignores or accepts.
func TestUnknownValues(t *testing.T) {
	type row struct {
		name   string
		parse  func() error
		reject bool
	}
	announce := func(mut func(*Announce)) func() error {
		a := goldenBodies()["announce"].(Announce)
		mut(&a)
		return func() error { _, err := ParseAnnounce(a.AppendBinary(nil)); return err }
	}
	status := func(mut func(*Status)) func() error {
		s := goldenBodies()["status"].(Status)
		mut(&s)
		return func() error { _, err := ParseStatus(s.AppendBinary(nil)); return err }
	}
	grantBytes := func(count byte, index uint16) func() error {
		g := goldenBodies()["grant"].(Grant)
		g.Index = index
		b := g.AppendBinary(nil)
		b[42] = count
		return func() error { _, err := ParseGrant(b); return err }
	}
	hashes := func(first byte, count int) func() error {
		m := ShardHashes{Session: testSession, Block: 1, First: first, Hashes: make([]byte, count*ShardHashLen)}
		b := m.AppendBinary(nil)
		b[13] = byte(count)
		return func() error { _, err := ParseShardHashes(b); return err }
	}
	seal := func(count int) func() error {
		b := ListSeal{Session: testSession, Digests: make([]byte, count*ListDigestLen)}.AppendBinary(nil)
		b[8] = byte(count)
		return func() error { _, err := ParseListSeal(b); return err }
	}
	beaconFlags := func(flags, offers byte) func() error {
		b := Beacon{Flags: flags, Offers: offers, Name: "x"}
		return func() error {
			got, err := ParseBeacon(b.AppendBinary(nil))
			if err == nil && (got.Flags != flags || got.Offers != offers) {
				return errors.New("flags not kept")
			}
			return err
		}
	}
	rows := []row{
		{"beacon reserved flag bits ignored", beaconFlags(0b1100, 0), false},
		{"beacon unicast wanted accepted", beaconFlags(BeaconUnicastWanted, 0), false},
		{"beacon version nibble accepted", beaconFlags(0x30|BeaconLeaving, 0), false},
		{"beacon unknown offers ignored", beaconFlags(0, 0xf8), false},
		{"announce unknown flags ignored", announce(func(a *Announce) { a.Flags = 0xe0 }), false},
		{"announce group size class accepted", announce(func(a *Announce) { a.Flags = 0x1e }), false},
		{"announce key mode 3", announce(func(a *Announce) { a.KeyMode = 3 }), true},
		{"announce channel id in key mode 0", announce(func(a *Announce) { a.KeyMode = KeyModePublic }), true},
		{"announce channel id in key mode 2", announce(func(a *Announce) { a.KeyMode = KeyModeRecipients }), true},
		{"announce zero channel id in key mode 1", announce(func(a *Announce) { a.Channel = [8]byte{} }), true},
		{"announce key mode 0 without channel", announce(func(a *Announce) { a.KeyMode, a.Channel = KeyModePublic, [8]byte{} }), false},
		{"announce shard size 63", announce(func(a *Announce) { a.ShardSize = MinShardSize - 1 }), true},
		{"announce shard size 1345", announce(func(a *Announce) { a.ShardSize = MaxShardSize + 1 }), true},
		{"grant with 0 entries", grantBytes(0, 0), true},
		{"grant index 64", grantBytes(1, MaxGrants), true},
		{"grant with 22 entries", grantBytes(MaxGrantEntries+1, 0), true},
		{"grant index 63", grantBytes(1, MaxGrants-1), false},
		{"status state 0", status(func(s *Status) { s.State = 0 }), true},
		{"status state 6", status(func(s *Status) { s.State = StateRefused + 1 }), true},
		{"status loss 1001", status(func(s *Status) { s.Loss = 1001 }), true},
		{"status loss 1000", status(func(s *Status) { s.Loss = 1000 }), false},
		{"status unknown reason accepted", status(func(s *Status) { s.State, s.Reason = StateRefused, 200 }), false},
		{"end reason 0", func() error { _, err := ParseEnd(End{Reason: 0}.AppendBinary(nil)); return err }, true},
		{"end reason 3", func() error { _, err := ParseEnd(End{Reason: 3}.AppendBinary(nil)); return err }, true},
		{"end reason 2", func() error { _, err := ParseEnd(End{Reason: EndAborted}.AppendBinary(nil)); return err }, false},
		{"hashes count 0", hashes(0, 0), true},
		{"hashes count 79", hashes(0, MaxShardHashes+1), true},
		{"hashes past index 255", hashes(200, 57), true},
		{"hashes up to index 255", hashes(200, 56), false},
		{"list seal count 0", seal(0), true},
		{"list seal count 80", seal(MaxListDigests + 1), true},
		{"list seal count 79", seal(MaxListDigests), false},
		{"membership count 0", membershipCount(0, 0), true},
		{"membership count 65", membershipCount(MaxMembershipTags+1, MaxMembershipTags+1), true},
		{"membership count 3 with 4 tags", membershipCount(3, 4), true},
		{"membership count 3 unpadded accepted", membershipCount(3, 3), false},
		{"manifest kind 2", manifestWith(func(m *Manifest) { m.Files[1].Kind = 2 }), true},
		{"manifest dir with size", manifestWith(func(m *Manifest) { m.Files[0].Size, m.Files[1].Size = 1, 99 }), true},
		{"manifest mode high bits accepted", manifestWith(func(m *Manifest) { m.Files[1].Mode = 0o104755 }), false},
		{"manifest child before parent accepted", manifestWith(func(m *Manifest) { m.Files[0], m.Files[1] = m.Files[1], m.Files[0] }), false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			err := r.parse()
			if r.reject && err == nil {
				t.Fatal("accepted, SPEC.md §3.6 says reject")
			}
			if !r.reject && err != nil {
				t.Fatalf("rejected (%v), SPEC.md §3.6 says accept or ignore", err)
			}
		})
	}
}

// membershipCount is a Membership body whose Count byte says count and
// which carries tags tags.
func membershipCount(count byte, tags int) func() error {
	b := append([]byte{count}, make([]byte, tags*MembershipTagLen)...)
	return func() error { _, err := ParseMembership(b); return err }
}

func manifestWith(mut func(*Manifest)) func() error {
	m := sampleManifest()
	mut(m)
	return func() error {
		got, err := ParseManifest(m.AppendBinary(nil), 150, 2)
		if err == nil && got.Files[1].Mode != m.Files[1].Mode {
			return errors.New("mode not kept as sent")
		}
		return err
	}
}

func TestGrantFits(t *testing.T) {
	a := goldenBodies()["announce"].(Announce)
	a.Grants = 2
	for _, c := range []struct {
		index   uint16
		session SessionID
		fits    bool
	}{{0, a.Session, true}, {1, a.Session, true}, {2, a.Session, false}, {0, SessionID{1}, false}} {
		g := goldenBodies()["grant"].(Grant)
		g.Index, g.Session = c.index, c.session
		v, err := ParseGrant(g.AppendBinary(nil))
		if err != nil || v.Fits(a) != c.fits {
			t.Errorf("grant index %d session %x: fits %v, want %v (%v)", c.index, c.session, v.Fits(a), c.fits, err)
		}
	}
}

// TestFutureVersion: a v1 parser hands a version-2 datagram back
// unparsed, names its version, and allocates nothing doing so (§3.5).
func TestFutureVersion(t *testing.T) {
	pkt, _ := testSigner().Append(nil, End{Session: testSession, Reason: EndComplete})
	pkt[4] = 2
	pkt[5] = 0xee // a type v1 does not know: must not be looked at
	_, err := ParseHeader(pkt)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Version != 2 || !errors.Is(err, ErrVersion) || errors.Is(err, ErrType) {
		t.Fatalf("ParseHeader(v2) = %v", err)
	}
	for _, parse := range []func([]byte) error{
		func(b []byte) error { _, err := ParseSigned(b); return err },
		func(b []byte) error { _, err := ParseData(b); return err },
	} {
		if err := parse(pkt); !errors.As(err, &ve) || ve.Version != 2 {
			t.Fatalf("v2 datagram: %v", err)
		}
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = ParseHeader(pkt) }); n != 0 {
		t.Fatalf("refusing a v2 datagram allocated %v times", n)
	}
	// A node speaking versions 1..3 says so in its v1 beacon.
	b := Beacon{Flags: BeaconVersionFlags(3) | BeaconLeaving, Name: "alice"}
	got, err := ParseBeacon(b.AppendBinary(nil))
	if err != nil || got.MaxVersion() != 3 || got.Flags&BeaconLeaving == 0 {
		t.Fatalf("beacon version: %+v %v", got, err)
	}
	if (Beacon{}).MaxVersion() != Version {
		t.Fatal("a v1 beacon must advertise version 1")
	}
}

func TestShardHashesRoundTrip(t *testing.T) {
	m := ShardHashes{Session: testSession, Block: 0x01020304, First: 64, Hashes: bytes.Repeat([]byte{0xa5}, 3*ShardHashLen)}
	enc := m.AppendBinary(nil)
	if len(enc) != m.Len() || binary.BigEndian.Uint32(enc[8:]) != m.Block {
		t.Fatalf("encoding %x", enc)
	}
	got, err := ParseShardHashes(enc)
	if err != nil || got.Count() != 3 || got.First != 64 || !bytes.Equal(got.Hash(2), m.Hash(2)) {
		t.Fatalf("%+v %v", got, err)
	}
	for n := range len(enc) {
		if _, err := ParseShardHashes(enc[:n]); err == nil {
			t.Fatalf("prefix %d parsed", n)
		}
	}
	if _, err := ParseShardHashes(append(enc, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	full := ShardHashes{Hashes: make([]byte, MaxShardHashes*ShardHashLen)}
	if SignedLen(full) > MaxDatagram || MaxShardHashes != 78 {
		t.Fatalf("a full list is %d bytes, %d hashes", SignedLen(full), MaxShardHashes)
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = ParseShardHashes(enc) }); n != 0 {
		t.Fatalf("ParseShardHashes allocated %v times", n)
	}
}

// TestListSealRoundTrip: a seal encodes and parses back, every prefix
// and a trailing byte are refused, a full one fits a datagram, parsing
// does not allocate, and ListDigest is SHA-256 of the list body cut to
// 16 bytes (SPEC.md §6.5.2).
func TestListSealRoundTrip(t *testing.T) {
	list := ShardHashes{Session: testSession, Block: 7, First: 0, Hashes: bytes.Repeat([]byte{0x5a}, 2*ShardHashLen)}.AppendBinary(nil)
	d := ListDigest(list)
	sum := sha256.Sum256(list)
	if !bytes.Equal(d[:], sum[:ListDigestLen]) {
		t.Fatalf("ListDigest %x, want the first 16 bytes of %x", d, sum)
	}
	m := ListSeal{Session: testSession, Digests: append(bytes.Repeat([]byte{0xa5}, ListDigestLen), d[:]...)}
	enc := m.AppendBinary(nil)
	if len(enc) != m.Len() || enc[8] != 2 {
		t.Fatalf("encoding %x", enc)
	}
	got, err := ParseListSeal(enc)
	if err != nil || got.Session != testSession || got.Count() != 2 || got.Digest(1) != d {
		t.Fatalf("%+v %v", got, err)
	}
	for n := range len(enc) {
		if _, err := ParseListSeal(enc[:n]); err == nil {
			t.Fatalf("prefix %d parsed", n)
		}
	}
	if _, err := ParseListSeal(append(enc, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	full := ListSeal{Digests: make([]byte, MaxListDigests*ListDigestLen)}
	if SignedLen(full) > MaxDatagram || MaxListDigests != 79 {
		t.Fatalf("a full seal is %d bytes, %d digests", SignedLen(full), MaxListDigests)
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = ParseListSeal(enc) }); n != 0 {
		t.Fatalf("ParseListSeal allocated %v times", n)
	}
}

func TestSessionGroupsHexX(t *testing.T) {
	// X = 1 + 199 mod 254 = 200 = 0xc8: the IPv6 group carries the value, in hex.
	d, f := SessionGroups(ControlGroupV6, SessionID{7: 199})
	if d.String() != "ff12::4852:4c45:c8" || f.String() != "ff12::4852:4c46:c8" {
		t.Fatalf("v6 groups %v %v", d, f)
	}
	d, _ = SessionGroups(ControlGroupV4, SessionID{7: 199})
	if d.String() != "239.255.73.200" {
		t.Fatalf("v4 group %v", d)
	}
}

func TestSealedMinimumLengths(t *testing.T) {
	hdr := AppendDataHeader(nil, testSession, 0, 0)
	for _, c := range []struct {
		sealed int
		ok     bool
	}{{MinShardSize + DataTagLen - 1, false}, {MinShardSize + DataTagLen, true}, {MaxShardSize + DataTagLen, true}, {MaxShardSize + DataTagLen + 1, false}} {
		_, err := ParseData(append(bytes.Clone(hdr), make([]byte, c.sealed)...))
		if (err == nil) != c.ok {
			t.Errorf("data with %d sealed bytes: %v", c.sealed, err)
		}
	}
	for _, c := range []struct {
		sealed int
		ok     bool
	}{{16, false}, {17, true}, {MaxManifestSealed, true}, {MaxManifestSealed + 1, false}} {
		_, err := ParseManifestChunk(ManifestChunk{Session: testSession, Sealed: make([]byte, c.sealed)}.AppendBinary(nil))
		if (err == nil) != c.ok {
			t.Errorf("manifest chunk with %d sealed bytes: %v", c.sealed, err)
		}
	}
}

// The group size class rides in Announce flag bits 1–4 (SPEC.md §6.2):
// bit length of the count, read back as its power-of-two floor, with the
// other flag bits untouched.
func TestAnnounceGroupSize(t *testing.T) {
	for _, c := range []struct {
		n, flags, size int
	}{{0, 0x01, 0}, {1, 0x03, 1}, {10, 0x09, 8}, {100, 0x0f, 64}, {1000, 0x15, 512}, {1 << 20, 0x1f, 1 << 14}} {
		a := goldenBodies()["announce"].(Announce)
		a.Flags = AnnounceCarousel | 0xe0
		a = a.WithGroupSize(c.n)
		if int(a.Flags&^0xe0) != c.flags {
			t.Errorf("%d receivers: flags %#x, want %#x", c.n, a.Flags&^0xe0, c.flags)
		}
		got, err := ParseAnnounce(a.AppendBinary(nil))
		if err != nil || got.GroupSize() != c.size || got.Flags&0xe1 != 0xe1 {
			t.Errorf("%d receivers: parsed %v, group size %d, flags %#x; want %d", c.n, err, got.GroupSize(), got.Flags, c.size)
		}
	}
}
