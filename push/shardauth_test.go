package push

import (
	"bytes"
	"crypto/ed25519"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/protocol"
)

func testLister(t *testing.T, k, size int) (*shardLister, *fec.Code, [][]byte, [32]byte) {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x42}, 32))
	code := mustCode(t, k)
	if code.ShardSize() != size {
		code, _ = fec.New(k, size)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([][]byte, k)
	for i := range data {
		data[i] = make([]byte, size)
		for j := range data[i] {
			data[i][j] = byte(rng.Uint32())
		}
	}
	return newShardLister(protocol.NewSigner(key), protocol.SessionID{1}, size), code, data, [32]byte(key.Public().(ed25519.PublicKey))
}

func never(uint32) bool { return false }

// TestShardBookVerdicts: the sender's shards pass, an insider's shard for
// a signed index is forged, an index nobody signed is unverified; lists
// split at 78 hashes and at index 255, and a repeat needs no signature.
func TestShardBookVerdicts(t *testing.T) {
	l, code, data, pub := testLister(t, 64, 256)
	sid := protocol.SessionID{1}
	// 64 data + 40 parity: two lists (78 + 26). Repair 250..259 wraps: two more.
	pkts, err := l.lists(code, 3, 0, 104, shardsOf(data))
	if err != nil || len(pkts) != 2 {
		t.Fatalf("first pass: %d lists, %v", len(pkts), err)
	}
	wrap, err := l.lists(code, 3, 250, 10, shardsOf(data))
	if err != nil || len(wrap) != 2 {
		t.Fatalf("wrapping repair: %d lists, %v", len(wrap), err)
	}
	book := newShardBook()
	for _, p := range append(pkts, wrap...) {
		if v := book.onList(p, pub, sid, 10, never); v != listStored {
			t.Fatalf("sender's list: verdict %v", v)
		}
	}
	parity := make([]byte, 256)
	for idx := range 256 {
		shard := parity
		if idx < 64 {
			shard = data[idx]
		} else if err := code.Parity(data, idx, [][]byte{parity}); err != nil {
			t.Fatal(err)
		}
		want := shardSigned
		if idx >= 104 && idx < 250 {
			want = shardUnverified
		}
		if v := book.check(3, byte(idx), shard); v != want {
			t.Fatalf("index %d: verdict %v, want %v", idx, v, want)
		}
	}
	forged := bytes.Clone(data[5])
	forged[0] ^= 1
	if book.check(3, 5, forged) != shardForged {
		t.Fatal("a forged shard for a signed index was not caught")
	}
	if book.check(4, 0, data[0]) != shardUnverified {
		t.Fatal("a block without a list must be unverified")
	}

	// A repeat is stored without a signature; a changed list is not.
	again := bytes.Clone(pkts[0])
	again[len(again)-1] ^= 1 // breaks the signature only
	if book.onList(again, pub, sid, 10, never) != listStored {
		t.Fatal("a repeated list was refused")
	}
	evil := bytes.Clone(pkts[0])
	evil[protocol.HeaderLen+protocol.EnvelopeLen+14] ^= 1 // first hash
	if book.onList(evil, pub, sid, 10, never) != listRejected {
		t.Fatal("a list with a changed hash and a bad signature was stored")
	}
	if book.check(3, 0, data[0]) != shardSigned {
		t.Fatal("a rejected list changed a stored hash")
	}
	// Another signer, another session, a block out of range.
	other, _, _, _ := testLister(t, 64, 256)
	other.signer = protocol.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x43}, 32)))
	o, _ := other.lists(code, 5, 0, 64, shardsOf(data))
	if book.onList(o[0], pub, sid, 10, never) != listRejected {
		t.Fatal("a list signed by another key was accepted")
	}
	if book.onList(pkts[0], pub, protocol.SessionID{2}, 10, never) != listOther {
		t.Fatal("another session's list was not ignored")
	}
	if book.onList(pkts[0], pub, sid, 3, never) != listRejected {
		t.Fatal("a list for block 3 of 3 was accepted")
	}
}

// TestShardBookBounded: the book never holds more than maxHashedBlocks
// blocks; verified blocks go first, then the highest.
func TestShardBookBounded(t *testing.T) {
	l, code, data, pub := testLister(t, 4, 64)
	book := newShardBook()
	sid := protocol.SessionID{1}
	for b := range uint32(maxHashedBlocks + 100) {
		pkts, _ := l.lists(code, b, 0, 4, shardsOf(data))
		book.onList(pkts[0], pub, sid, 1<<20, never)
		if len(book.blocks) > maxHashedBlocks {
			t.Fatalf("book holds %d blocks", len(book.blocks))
		}
	}
	if book.check(0, 0, data[0]) != shardSigned || book.check(maxHashedBlocks+50, 0, data[0]) != shardUnverified {
		t.Fatal("a full book must keep low blocks and drop lists above them")
	}
	pkts, _ := l.lists(code, 1<<19, 0, 4, shardsOf(data))
	done := func(b uint32) bool { return b < 10 }
	if book.onList(pkts[0], pub, sid, 1<<20, done) != listStored || book.check(1<<19, 0, data[0]) != shardSigned || len(book.blocks) > maxHashedBlocks {
		t.Fatal("forgetting verified blocks must make room")
	}
	for b := uint32(maxHashedBlocks + 88); len(book.blocks) < maxHashedBlocks; b++ {
		more, _ := l.lists(code, b, 0, 4, shardsOf(data))
		book.onList(more[0], pub, sid, 1<<20, never)
	}
	book.forget(20)
	fill, _ := l.lists(code, maxHashedBlocks+87, 0, 4, shardsOf(data))
	book.onList(fill[0], pub, sid, 1<<20, never) // full again
	mid, _ := l.lists(code, 20, 0, 4, shardsOf(data))
	if book.onList(mid[0], pub, sid, 1<<20, never) != listStored || book.check(20, 0, data[0]) != shardSigned ||
		book.check(1<<19, 0, data[0]) != shardUnverified || len(book.blocks) != maxHashedBlocks {
		t.Fatal("a list below the highest held block must evict the highest")
	}
}

// TestShardListOverhead pins SPEC.md §6.5.1's cost figure: two copies
// of a K=64 block's list against its 64 data datagrams.
func TestShardListOverhead(t *testing.T) {
	l, code, data, _ := testLister(t, 64, fec.DefaultShardSize)
	for _, parity := range []int{0, 6} {
		pkts, err := l.lists(code, 0, 0, 64+parity, shardsOf(data))
		if err != nil || len(pkts) != 1 {
			t.Fatal(err)
		}
		shards := (64 + parity) * (protocol.DataHeaderLen + fec.DefaultShardSize + protocol.DataTagLen)
		pct := 100 * float64(2*len(pkts[0])) / float64(shards)
		t.Logf("K=64 P=%d: list %d bytes, two copies %.2f %% of %d data bytes", parity, len(pkts[0]), pct, shards)
		if pct > 3 {
			t.Fatalf("overhead %.2f %% > 3 %%", pct)
		}
	}
}

// FuzzShardList: any datagram handed to a session's book neither panics
// nor stores a hash the sender did not sign.
func FuzzShardList(f *testing.F) {
	l, code, data, _ := testLister(&testing.T{}, 4, 64)
	pkts, _ := l.lists(code, 1, 0, 6, shardsOf(data))
	f.Add(pkts[0])
	f.Fuzz(func(t *testing.T, b []byte) {
		key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x42}, 32))
		pub := [32]byte(key.Public().(ed25519.PublicKey))
		book := newShardBook()
		v := book.onList(b, pub, protocol.SessionID{1}, 8, never)
		if v != listStored {
			if len(book.blocks) != 0 {
				t.Fatal("a refused list stored hashes")
			}
			return
		}
		p, err := protocol.ParseSigned(b)
		if err != nil || !p.Verify() || p.Sender != pub {
			t.Fatal("stored a list that does not verify")
		}
	})
}

// senderSignedForgery returns n shards of block b from index first with
// valid tags and junk contents, and a hash list for them signed by p's
// sender: what a sender whose shards disagree with its own manifest
// sends. It is the one way left for a block to fail its manifest hash,
// and then only if the decoder rebuilt a shard the list does not cover
// (a block of signed shards alone is written on their hashes, §6.5).
func senderSignedForgery(t testing.TB, p *testPush, b uint32, first, n int) (lists, shards [][]byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(b), 99))
	var hashes []byte
	for i := first; i < first+n; i++ {
		junk := make([]byte, testPushShard)
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		h := hashShard(junk)
		hashes = append(hashes, h[:]...)
		pkt := protocol.AppendDataHeader(nil, p.sid, b, byte(i))
		nonce := protocol.DataNonce(b, byte(i))
		shards = append(shards, p.keys.data.Seal(pkt, nonce[:], junk, pkt[:protocol.DataHeaderLen]))
	}
	list, _ := p.signer.Append(nil, protocol.ShardHashes{Session: p.sid, Block: b, First: byte(first), Hashes: hashes})
	return [][]byte{list}, shards
}

// TestRebuiltBlockChecks: a block the decoder rebuilt from parity is
// written on the signed hashes of its shards alone when it holds one for
// every rebuilt shard (a wrong manifest hash is not even looked at); when
// a rebuilt shard's hash is not held, or the held one differs (a sender
// whose lists disagree with its data), the manifest's SHA-256 decides.
func TestRebuiltBlockChecks(t *testing.T) {
	p := newTestPush(t)
	const block = 0
	shards := p.byBlock[block] // K=4 data, then 2 parity
	code := mustCode(t, testPushK)
	if code.ShardSize() != testPushShard {
		code, _ = fec.New(testPushK, testPushShard)
	}
	data, err := code.Split(nil, bytes.Clone(p.content[:testPushK*testPushShard]), testPushK*testPushShard)
	if err != nil {
		t.Fatal(err)
	}
	onlyParity, err := newShardLister(p.signer, p.sid, testPushShard).lists(code, block, testPushK, 1, shardsOf(data))
	if err != nil {
		t.Fatal(err)
	}
	wrongZero := newShardLister(p.signer, p.sid, testPushShard)
	wrongData := append([][]byte{make([]byte, testPushShard)}, data[1:]...) // signs a wrong hash for shard 0
	wrongList, err := wrongZero.lists(code, block, 0, 1, shardsOf(wrongData))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		lists         func(s *rsession, lab *rsessionLab) // before the parity shard that completes the block
		badManifest   bool
		wantWritten   bool
		wantBadBlocks int
	}{
		{"every rebuilt shard signed", nil, true, true, 0},
		{"no hash held for the rebuilt shard, manifest matches", func(s *rsession, lab *rsessionLab) {
			s.auth.forget(block) // evicted; the repair's list covers only the fresh index
			s.onData(onlyParity[0], lab.src)
		}, false, true, 0},
		{"no hash held for the rebuilt shard, manifest differs", func(s *rsession, lab *rsessionLab) {
			s.auth.forget(block)
			s.onData(onlyParity[0], lab.src)
		}, true, false, 1},
		{"rebuilt shard differs from its signed hash, manifest matches", nil, false, true, 0},
		{"rebuilt shard differs from its signed hash, manifest differs", nil, true, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			lab := newRSessionLab(t, t.TempDir())
			s := lab.bareSession(t, p, t.TempDir())
			s.mu.Lock()
			defer s.mu.Unlock()
			if strings.HasPrefix(c.name, "rebuilt shard differs") {
				s.onData(wrongList[0], lab.src) // the first verified hash wins
			}
			for _, l := range p.lists {
				s.onData(l, lab.src)
			}
			for _, ch := range p.chunks {
				s.onData(ch, lab.src)
			}
			if s.phase != phaseData {
				t.Fatalf("phase %d after the manifest (%v)", s.phase, s.err)
			}
			if c.badManifest {
				s.hashes[block][0] ^= 1
			}
			for _, d := range shards[1:testPushK] { // data shard 0 lost
				s.onData(d, lab.src)
			}
			if c.lists != nil {
				c.lists(s, lab)
			}
			s.onData(shards[testPushK], lab.src) // parity: the decoder rebuilds shard 0
			if got := s.sink.Has(block); got != c.wantWritten || s.badBlocks != c.wantBadBlocks || s.rejected != 0 {
				t.Fatalf("written %v, %d bad blocks, %d rejected; want %v, %d, 0", got, s.badBlocks, s.rejected, c.wantWritten, c.wantBadBlocks)
			}
			if !c.wantWritten {
				return
			}
			got := make([]byte, testPushK*testPushShard)
			if err := s.sink.ReadBlock(block, got); err != nil || !bytes.Equal(got, p.content[:len(got)]) {
				t.Fatalf("block written differs from the sender's (%v)", err)
			}
		})
	}
}

// TestListSeals (SPEC.md §6.5.2): a list a verified seal of the sender
// covers is stored without its own signature (broken here to show it is
// not checked); an unsealed list still needs it; a seal signed by another
// key, with a bad signature, or of another session seals nothing; a seal
// whose digests are all held is a repeat; the digests kept are bounded.
func TestListSeals(t *testing.T) {
	l, code, data, pub := testLister(t, 64, 256)
	sid := protocol.SessionID{1}
	brokenSig := func(pkt []byte) []byte { b := bytes.Clone(pkt); b[len(b)-1] ^= 1; return b }
	lists := func(block uint32) [][]byte {
		p, err := l.lists(code, block, 0, 70, shardsOf(data))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	sealOf := func(signer *shardLister, lists [][]byte) []byte {
		s, err := signer.seals(lists)
		if err != nil || len(s) != 1 {
			t.Fatalf("%d seals, %v", len(s), err)
		}
		return s[0]
	}
	other, _, _, _ := testLister(t, 64, 256)
	other.signer = protocol.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x43}, 32)))

	book := newShardBook()
	a, b, c := lists(1), lists(2), lists(3)
	for name, bad := range map[string][]byte{
		"another signer's seal":       sealOf(other, a),
		"a seal with a bad signature": brokenSig(sealOf(l, a)),
	} {
		if book.onSeal(bad, pub, sid) != listRejected || book.nSealed != 0 {
			t.Fatalf("%s: not rejected, or it sealed something", name)
		}
	}
	if book.onSeal(sealOf(l, a), pub, protocol.SessionID{2}) != listOther || book.nSealed != 0 {
		t.Fatal("another session's seal was not ignored")
	}
	if book.onList(brokenSig(a[0]), pub, sid, 10, never) != listRejected {
		t.Fatal("an unsealed list with a bad signature was stored")
	}
	seal := sealOf(l, append(a, b...))
	if book.onSeal(seal, pub, sid) != listStored || book.nSealed != 2 {
		t.Fatalf("the sender's seal: %d digests held, want 2", book.nSealed)
	}
	if book.onSeal(brokenSig(seal), pub, sid) != listStored || book.nSealed != 2 {
		t.Fatal("a repeated seal was verified again or stored twice")
	}
	for _, p := range [][]byte{brokenSig(a[0]), brokenSig(b[0])} {
		if book.onList(p, pub, sid, 10, never) != listStored {
			t.Fatal("a sealed list was refused")
		}
	}
	if book.check(1, 0, data[0]) != shardSigned || book.check(2, 69, mustParity(t, code, data, 69)) != shardSigned {
		t.Fatal("a sealed list's hashes were not stored")
	}
	if book.onList(brokenSig(c[0]), pub, sid, 10, never) != listRejected {
		t.Fatal("a list the seal does not cover was taken without its signature")
	}
	evil := brokenSig(a[0])
	evil[protocol.HeaderLen+protocol.EnvelopeLen+14] ^= 1 // its first hash: the body no longer matches the seal
	fresh := newShardBook()
	fresh.onSeal(seal, pub, sid)
	if fresh.onList(evil, pub, sid, 10, never) != listRejected {
		t.Fatal("a changed list matched the seal")
	}

	for blk := uint32(0); fresh.nSealed < 2*sealedDigests; blk++ {
		p, _ := l.lists(code, 100+blk, 0, 4, shardsOf(data))
		fresh.onSeal(sealOf(l, p), pub, sid)
	}
	if fresh.isSealed(protocol.ListDigest(mustBody(t, a[0]))) {
		t.Fatalf("a digest outlived %d newer ones (ring of %d)", fresh.nSealed, sealedDigests)
	}
}

func mustParity(t *testing.T, code *fec.Code, data [][]byte, idx int) []byte {
	t.Helper()
	out := make([]byte, code.ShardSize())
	if err := code.Parity(data, idx, [][]byte{out}); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustBody(t *testing.T, pkt []byte) []byte {
	t.Helper()
	p, err := protocol.ParseSigned(pkt)
	if err != nil {
		t.Fatal(err)
	}
	return p.Body
}

// Lists go twice, three times while any receiver's path loses 10 % or
// more (a lost list costs that receiver a whole block), and once while
// every receiver's path is known to lose almost nothing.
func TestListCopiesFollowTheWorstPath(t *testing.T) {
	for _, c := range []struct {
		losses  []float64
		unknown int
		want    int
	}{
		{nil, 0, 2},
		{nil, 3, 2},
		{[]float64{0, 0, 0}, 0, 1},
		{[]float64{0, 0.001}, 0, 1},
		{[]float64{0, 0}, 1, 2}, // one receiver's path not known yet
		{[]float64{0, 0.002}, 0, 2},
		{[]float64{0, 0.05, 0.099}, 0, 2},
		{[]float64{0, 0, 0.2}, 0, 3},
		{[]float64{0.1}, 2, 3},
	} {
		if got := worstPathCopies(c.losses, c.unknown); got != c.want {
			t.Errorf("worstPathCopies(%v, %d unknown) = %d, want %d", c.losses, c.unknown, got, c.want)
		}
	}
}

// A large room needs more copies than its worst path says: what counts
// is how many receivers lose every copy of a block's list.
func TestListCopiesForTheRoom(t *testing.T) {
	room := func(n int, loss float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = loss
		}
		return out
	}
	for _, c := range []struct {
		losses  []float64
		unknown int
		want    int
	}{
		{room(3, 0), 0, 1},
		{room(5, 0.001), 0, 1},
		{room(1000, 0.001), 0, 2}, // once: 64 shards a block re-sent
		{room(10, 0.05), 0, 2},    // the lab's 10 at 5 %: 1.6 shards a block
		{room(7, 0.03), 0, 2},
		{room(100, 0.05), 0, 3},
		{room(1000, 0.05), 0, 4},
		{room(1000, 0.3), 0, listCopiesRoomMax},
		// A large group's first pass: most paths not known yet.
		{room(25, 0.05), 975, 4},
		{room(1, 0.05), 99, 3},
		{room(2, 0.001), 998, 2},
	} {
		if got := roomListCopies(64, c.losses, c.unknown); got != c.want {
			t.Errorf("roomListCopies(%d receivers at %.3f, %d unknown) = %d, want %d", len(c.losses), c.losses[0], c.unknown, got, c.want)
		}
	}
	if got := roomListCopies(64, nil, 1000); got != listCopiesOnce {
		t.Errorf("roomListCopies with no path known = %d, want %d (the worst-path rule sends two then)", got, listCopiesOnce)
	}
}

// shardsOf is data with the sums the sender's block cache keeps.
func shardsOf(data [][]byte) blockShards {
	return blockShards{shards: data, sums: appendShardSums(nil, data)}
}
