package push

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// testPush is a push built in memory, with every datagram its sender
// would send. newTestPush's is tiny: a small code (K=4, 64-byte shards)
// so a block is four datagrams, and a short last block (BlockK 3) so both
// codes are used; the benchmarks build full-size ones.
type testPush struct {
	sender   ed25519.PrivateKey
	signer   *protocol.Signer
	keys     sessionKeys
	sid      protocol.SessionID
	announce protocol.Announce
	content  []byte
	chunks   [][]byte   // signed manifest chunks
	shards   [][]byte   // data shards of every block, then the parity of every block
	lists    [][]byte   // the sender's signed shard hash lists (SPEC.md §6.5.1)
	byBlock  [][][]byte // the same shards per block, by index
	listsOf  [][][]byte // the same lists per block
	name     string
}

const (
	testPushK     = 4
	testPushShard = 64
	testPushSize  = 900 // 3 full blocks of 256 bytes and one of 132
)

func newTestPush(t testing.TB) *testPush {
	return buildTestPush(t, testPushK, testPushShard, testPushSize, 2)
}

// buildTestPush makes a push of size random bytes cut into blocks of k
// shards of shard bytes, each block with parity parity shards.
func buildTestPush(t testing.TB, k, shard, size, parity int) *testPush {
	t.Helper()
	p := &testPush{sender: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)), sid: protocol.SessionID{0xf0, 0x22, 1, 2, 3, 4, 5, 6},
		keys: newSessionKeys([32]byte{9, 9, 9}), name: "fuzzed.bin"}
	p.signer = protocol.NewSigner(p.sender)
	rng := rand.New(rand.NewPCG(1, 2))
	p.content = make([]byte, size)
	for i := range p.content {
		p.content[i] = byte(rng.Uint32())
	}
	bsize := k * shard
	m := &protocol.Manifest{Files: []protocol.FileEntry{{Kind: protocol.KindFile, Mode: 0o644, Size: uint64(size), Path: p.name}}}
	l, err := newLayout(int64(size), k, shard)
	if err != nil {
		panic(err)
	}
	for b := range l.blocks {
		m.Hashes = append(m.Hashes, blockHash(l.code(b), p.content[b*bsize:min(size, (b+1)*bsize)]))
	}
	plain := m.AppendBinary(nil)
	p.chunks = sealManifest(p.signer, p.sid, p.keys, plain)
	p.announce = protocol.Announce{Session: p.sid, KeyMode: protocol.KeyModePublic, K: byte(k), ShardSize: uint16(shard),
		Blocks: uint32(l.blocks), TotalSize: uint64(size), ManifestLen: uint32(len(plain)), ManifestParts: uint32(len(p.chunks)), Grants: 1}
	var allParity [][]byte
	lister := newShardLister(p.signer, p.sid, shard)
	buf := make([]byte, bsize)
	for b := range l.blocks {
		n := min(bsize, size-b*bsize)
		code, err := fec.New(fec.BlockK(int64(size), k, shard, int64(b)), shard)
		if err != nil {
			t.Fatal(err)
		}
		clear(buf)
		copy(buf, p.content[b*bsize:])
		data, err := code.Split(nil, buf, n)
		if err != nil {
			t.Fatal(err)
		}
		extra := make([][]byte, parity)
		for i := range extra {
			extra[i] = make([]byte, shard)
		}
		if err := code.Parity(data, code.K(), extra); err != nil {
			t.Fatal(err)
		}
		lists, err := lister.lists(code, uint32(b), 0, code.K()+len(extra), shardsOf(data))
		if err != nil {
			t.Fatal(err)
		}
		p.lists = append(p.lists, lists...)
		p.listsOf = append(p.listsOf, lists)
		var sealed [][]byte
		for i, sh := range append(data, extra...) {
			pkt := protocol.AppendDataHeader(make([]byte, 0, protocol.DataHeaderLen+shard+protocol.DataTagLen), p.sid, uint32(b), byte(i))
			nonce := protocol.DataNonce(uint32(b), byte(i))
			pkt = p.keys.data.Seal(pkt, nonce[:], sh, pkt[:protocol.DataHeaderLen])
			sealed = append(sealed, pkt)
		}
		p.byBlock = append(p.byBlock, sealed)
		p.shards = append(p.shards, sealed[:code.K()]...)
		allParity = append(allParity, sealed[code.K():]...)
	}
	p.shards = append(p.shards, allParity...)
	return p
}

// rsessionLab holds what a bare rsession needs: a node on a MemNet and a
// receiver around it, without running either.
type rsessionLab struct {
	n       *node.Node
	src     netip.AddrPort // the sender's address, as the session learns it
	foreign netip.AddrPort
}

func newRSessionLab(t testing.TB, dir string) *rsessionLab {
	t.Helper()
	net := multicast.NewMemNet(1)
	host := net.Host(multicast.Link{})
	n, err := node.Open(node.Config{Home: dir, Name: "fuzz", Network: host})
	if err != nil {
		t.Fatal(err)
	}
	return &rsessionLab{n: n, src: netip.MustParseAddrPort("198.18.0.1:4772"), foreign: netip.MustParseAddrPort("198.18.0.9:4772")}
}

// session starts receiving p into dir as a receiver would after its
// grant opened, with every hash list in. Callers hold s.mu as the read
// loops do.
func (l *rsessionLab) session(t testing.TB, p *testPush, dir string) *rsession {
	t.Helper()
	s := l.bareSession(t, p, dir)
	for _, list := range p.lists { // the sender's hash lists arrive ahead of its shards
		s.onData(list, l.src)
	}
	return s
}

// bareSession is session before any datagram arrived.
func (l *rsessionLab) bareSession(t testing.TB, p *testPush, dir string) *rsession {
	t.Helper()
	r, err := newReceiver(ReceiveConfig{Node: l.n, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	o := &offer{sender: [32]byte(p.sender.Public().(ed25519.PublicKey)), announce: p.announce}
	var key [32]byte
	s, err := newRSession(r, o, key, l.src.Addr(), protocol.GrantView{})
	if err != nil {
		t.Fatal(err)
	}
	s.keys = p.keys
	t.Cleanup(func() {
		s.dataConn.Close()
		s.fbConn.Close()
		if s.sink != nil {
			s.sink.Close()
		}
	})
	return s
}

// feedAll delivers the push's manifest and shards from the sender.
func (l *rsessionLab) feedAll(s *rsession, p *testPush) {
	for _, c := range p.chunks {
		s.onData(c, l.src)
	}
	for _, d := range p.shards {
		s.onData(d, l.src)
	}
}

// checkBounded fails if anything a datagram can grow left its bounds.
func checkBounded(t *testing.T, s *rsession) {
	t.Helper()
	if len(s.asm) > s.r.cfg.MaxPending || len(s.free) > maxFreeAsm || len(s.suppress) > 4096 || len(s.senderAddrs) > maxSenderAddrs {
		t.Fatalf("state grew: %d assemblies, %d free, %d suppressions, %d addresses", len(s.asm), len(s.free), len(s.suppress), len(s.senderAddrs))
	}
}

// goldenDatagrams are protocol/testdata's vectors: real packets of every
// type, the natural seeds for a fuzzer.
func goldenDatagrams(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("..", "protocol", "testdata", "*.hex"))
	var out [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := hex.DecodeString(strings.TrimSpace(string(raw))); err == nil {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatal("no golden vectors in ../protocol/testdata")
	}
	return out
}

// FuzzReceiverDatagram feeds one arbitrary datagram to a receiving
// session, on the data or the feedback group, from the sender's address
// or another, before the manifest and again after it. Whatever it is:
// no panic, no state beyond its bounds, nothing written outside the
// target folder, and the true file still results once the sender's
// datagrams arrive.
func FuzzReceiverDatagram(f *testing.F) {
	p := newTestPush(f)
	lab := newRSessionLab(f, f.TempDir())
	for _, g := range goldenDatagrams(f) {
		f.Add(byte(0), g)
		f.Add(byte(1), g)
	}
	for _, c := range p.chunks {
		f.Add(byte(0), c)
	}
	seals, err := newShardLister(p.signer, p.sid, testPushShard).seals(p.lists)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(byte(0), seals[0])
	for i, d := range p.shards {
		f.Add(byte(0), d)
		f.Add(byte(2), d)
		bad := bytes.Clone(d)
		bad[len(bad)-1-i%16] ^= 1
		f.Add(byte(0), bad)
	}
	other, _ := protocol.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))).Append(nil,
		protocol.Status{Session: p.sid, State: protocol.StateReceiving, Nacks: []protocol.Nack{{Block: 1, Have: 2, MaxIndex: 3}, {Block: 1 << 31}}})
	f.Add(byte(1), other)

	f.Fuzz(func(t *testing.T, how byte, pkt []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "in")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := lab.session(t, p, dir)
		src := lab.src
		if how&2 != 0 {
			src = lab.foreign
		}
		deliver := func() {
			if how&1 != 0 {
				s.onFeedback(pkt, src)
			} else {
				s.onData(pkt, src)
			}
			checkBounded(t, s)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		deliver()
		for _, c := range p.chunks {
			s.onData(c, lab.src)
		}
		if s.err != nil || s.phase != phaseData {
			t.Fatalf("the manifest did not take after %x: phase %d, %v", pkt, s.phase, s.err)
		}
		deliver()
		lab.feedAll(s, p)
		if s.phase != phaseDone || s.err != nil || s.badBlocks != 0 {
			t.Fatalf("after %x: phase %d, err %v, %d bad blocks", pkt, s.phase, s.err, s.badBlocks)
		}
		got, err := os.ReadFile(filepath.Join(dir, p.name))
		if err != nil || !bytes.Equal(got, p.content) {
			t.Fatalf("after %x the file differs (%v)", pkt, err)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 1 {
			t.Fatalf("wrote outside the target folder: %v", entries)
		}
	})
}

// A data datagram naming the session changes nothing (no timer, no
// highest block, no assembly memory) until its tag verified; before the
// fix a keyless outsider could keep a dead sender's session alive, make
// receivers NACK everything, and fill the assembly table.
func TestShardChangesNothingBeforeItsTag(t *testing.T) {
	p := newTestPush(t)
	lab := newRSessionLab(t, t.TempDir())
	dir := t.TempDir()
	s := lab.session(t, p, dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p.chunks {
		s.onData(c, lab.src)
	}
	lastData, highest := s.lastData, s.highest
	cases := []struct {
		name string
		pkt  []byte
		src  netip.AddrPort
	}{
		{"forged tag, last block", forgeShard(newSessionKeys([32]byte{1}), p.sid, p.announce.Blocks-1, 0, testPushShard), lab.src},
		{"valid shard from another address", p.shards[0], lab.foreign},
		{"block beyond the push", forgeShard(p.keys, p.sid, p.announce.Blocks, 0, testPushShard), lab.src},
		{"wrong size", append(protocol.AppendDataHeader(nil, p.sid, 0, 0), make([]byte, 100)...), lab.src}, // passes the parser (80..1360), not the session (80)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rejected := s.rejected
			s.onData(c.pkt, c.src)
			if s.rejected != rejected+1 {
				t.Errorf("not counted as rejected")
			}
			if s.lastData != lastData || s.highest != highest || len(s.asm) != 0 {
				t.Errorf("state changed: lastData moved %v, highest %d, %d assemblies", s.lastData.Sub(lastData), s.highest, len(s.asm))
			}
		})
	}
}
