package push

import (
	"crypto/sha256"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/protocol"
)

// Shard authentication (SPEC.md §6.5.1). Every receiver holds the data
// key, so a shard's AEAD tag only proves that some key holder made it. The
// sender signs a short hash of every shard index it sends, per block, and
// a receiver checks each shard against those hashes before the decoder
// sees it: an insider's forged shards are dropped on arrival instead of
// spoiling the block they land in.

// maxHashedBlocks bounds the blocks a session keeps shard hashes for.
const maxHashedBlocks = 1024

type shardHash = [protocol.ShardHashLen]byte

// hashShard is ShardHash of SPEC.md §6.5.1: SHA-256 of the shard
// plaintext, cut to 16 bytes.
func hashShard(shard []byte) (h shardHash) {
	sum := sha256.Sum256(shard)
	copy(h[:], sum[:])
	return h
}

// shardLister makes the sender's signed hash lists. Not safe for
// concurrent use (it reuses one parity buffer).
type shardLister struct {
	signer  *protocol.Signer
	sid     protocol.SessionID
	scratch []byte
	hashes  []byte
}

func newShardLister(signer *protocol.Signer, sid protocol.SessionID, shardSize int) *shardLister {
	return &shardLister{signer: signer, sid: sid, scratch: make([]byte, shardSize),
		hashes: make([]byte, 0, protocol.MaxShardHashes*protocol.ShardHashLen)}
}

// lists returns the signed lists covering count shard indexes of block,
// starting at first and wrapping from 255 to 0, as SPEC.md §6.5.1 cuts
// them (at most MaxShardHashes each, never across index 255). data are
// the block's data shards under code, with their sums; parity rows are
// computed to be hashed. Each list is a complete datagram.
func (l *shardLister) lists(code *fec.Code, block uint32, first, count int, data blockShards) ([][]byte, error) {
	var pkts [][]byte
	idx := first % fec.MaxShards
	for count > 0 {
		n := min(count, protocol.MaxShardHashes, fec.MaxShards-idx)
		l.hashes = l.hashes[:0]
		for i := idx; i < idx+n; i++ {
			if i < code.K() {
				l.hashes = append(l.hashes, data.sums[i][:protocol.ShardHashLen]...)
				continue
			}
			shard := l.scratch[:code.ShardSize()]
			if err := code.Parity(data.shards, i, [][]byte{shard}); err != nil {
				return nil, err
			}
			h := hashShard(shard)
			l.hashes = append(l.hashes, h[:]...)
		}
		pkt, _ := l.signer.Append(make([]byte, 0, protocol.MaxDatagram),
			protocol.ShardHashes{Session: l.sid, Block: block, First: byte(idx), Hashes: l.hashes})
		pkts = append(pkts, pkt)
		count -= n
		idx = (idx + n) % fec.MaxShards
	}
	return pkts, nil
}

// seals returns the signed seals over the bodies of lists (SPEC.md
// §6.5.2), at most MaxListDigests digests each: a receiver that holds a
// seal takes the lists it covers without verifying their signatures.
func (l *shardLister) seals(lists [][]byte) ([][]byte, error) {
	var out [][]byte
	digests := make([]byte, 0, protocol.MaxListDigests*protocol.ListDigestLen)
	for i, pkt := range lists {
		p, err := protocol.ParseSigned(pkt)
		if err != nil {
			return nil, err
		}
		d := protocol.ListDigest(p.Body)
		digests = append(digests, d[:]...)
		if len(digests) == cap(digests) || i == len(lists)-1 {
			seal, _ := l.signer.Append(make([]byte, 0, protocol.MaxDatagram), protocol.ListSeal{Session: l.sid, Digests: digests})
			out = append(out, seal)
			digests = digests[:0]
		}
	}
	return out, nil
}

// blockHashes are the signed hashes of one block, by shard index.
type blockHashes struct {
	known [fec.MaxShards / 64]uint64
	hash  [fec.MaxShards]shardHash
}

func (b *blockHashes) has(i int) bool { return b.known[i/64]&(1<<(i%64)) != 0 }

// shardBook is a receiver's store of signed shard hashes for one
// session. Bounded to maxHashedBlocks blocks. Not safe for concurrent
// use; the session's lock guards it.
type shardBook struct {
	blocks map[uint32]*blockHashes
	free   []*blockHashes
	// sealed are the list digests of verified seals (§6.5.2), a ring of
	// the last sealedDigests; nSealed counts every one stored.
	sealed  [sealedDigests][protocol.ListDigestLen]byte
	nSealed int
}

// maxFreeHashes bounds the blockHashes kept for reuse: blocks verify a
// window at a time, and a window's lists arrive together.
const maxFreeHashes = 2 * interleave

// sealedDigests bounds the list digests a session keeps from seals: four
// windows' lists at the largest K (two lists a block).
const sealedDigests = 8 * interleave

// isSealed reports whether a verified seal carried digest d.
func (k *shardBook) isSealed(d [protocol.ListDigestLen]byte) bool {
	for i := range min(k.nSealed, sealedDigests) {
		if k.sealed[i] == d {
			return true
		}
	}
	return false
}

// onSeal takes a seal datagram b from the data group for session sid of
// sender: session, signer, then the signature, which a seal whose every
// digest is held already skips.
func (k *shardBook) onSeal(b []byte, sender [32]byte, sid protocol.SessionID) listVerdict {
	p, err := protocol.ParseSigned(b)
	if err != nil || p.Type != protocol.TypeListSeal {
		return listOther
	}
	m, err := protocol.ParseListSeal(p.Body)
	if err != nil || m.Session != sid {
		return listOther
	}
	if p.Sender != sender {
		return listRejected
	}
	fresh := false
	for i := range m.Count() {
		if !k.isSealed(m.Digest(i)) {
			fresh = true
			break
		}
	}
	if !fresh {
		return listStored
	}
	if !p.Verify() {
		return listRejected
	}
	for i := range m.Count() {
		if d := m.Digest(i); !k.isSealed(d) {
			k.sealed[k.nSealed%sealedDigests] = d
			k.nSealed++
		}
	}
	return listStored
}

func newShardBook() *shardBook { return &shardBook{blocks: map[uint32]*blockHashes{}} }

// shardVerdict is what the book says of one shard.
type shardVerdict int

const (
	shardSigned     shardVerdict = iota // its hash is the signed one: decode it
	shardUnverified                     // no signed hash for it yet: drop, it is asked for again
	shardForged                         // another hash was signed: an insider's shard
)

// repeat reports whether every hash of l is already held for its block
// and index: such a list changes nothing and needs no signature check.
func (k *shardBook) repeat(l protocol.ShardHashes) bool {
	b := k.blocks[l.Block]
	if b == nil {
		return false
	}
	for i := range l.Count() {
		idx := int(l.First) + i
		if !b.has(idx) || shardHash(l.Hash(i)) != b.hash[idx] {
			return false
		}
	}
	return true
}

// add stores a list whose signature verified and whose block is not yet
// verified (done reports verified blocks). The first hash stored for an
// index wins. When the book is full it forgets verified blocks, then
// drops the list if its block is above every held block, else evicts the
// highest held block (SPEC.md §6.5.1). It reports whether it stored.
func (k *shardBook) add(l protocol.ShardHashes, done func(block uint32) bool) bool {
	b := k.blocks[l.Block]
	if b == nil {
		if len(k.blocks) >= maxHashedBlocks && !k.makeRoom(l.Block, done) {
			return false
		}
		if n := len(k.free); n > 0 {
			b, k.free = k.free[n-1], k.free[:n-1]
			*b = blockHashes{}
		} else {
			b = new(blockHashes)
		}
		k.blocks[l.Block] = b
	}
	for i := range l.Count() {
		idx := int(l.First) + i
		if !b.has(idx) {
			b.hash[idx] = shardHash(l.Hash(i))
			b.known[idx/64] |= 1 << (idx % 64)
		}
	}
	return true
}

func (k *shardBook) makeRoom(block uint32, done func(uint32) bool) bool {
	highest, found := uint32(0), false
	for bl := range k.blocks {
		if done(bl) {
			k.forget(bl)
			continue
		}
		if !found || bl > highest {
			highest, found = bl, true
		}
	}
	if len(k.blocks) < maxHashedBlocks {
		return true
	}
	if block > highest {
		return false
	}
	k.forget(highest)
	return true
}

// check says whether shard (already through its AEAD tag) is the one the
// sender signed for (block, index).
func (k *shardBook) check(block uint32, index byte, shard []byte) shardVerdict {
	b := k.blocks[block]
	if b == nil || !b.has(int(index)) {
		return shardUnverified
	}
	if hashShard(shard) != b.hash[index] {
		return shardForged
	}
	return shardSigned
}

// forget drops a block's hashes (it verified, or room is needed).
func (k *shardBook) forget(block uint32) {
	if b := k.blocks[block]; b != nil {
		delete(k.blocks, block)
		if len(k.free) < maxFreeHashes {
			k.free = append(k.free, b)
		}
	}
}

// listVerdict is what a receiver makes of a hash-list datagram.
type listVerdict int

const (
	listOther    listVerdict = iota // not this session's: ignore, uncounted
	listStored                      // verified (or a repeat) and kept
	listRejected                    // names this session but fails a check: count it
)

// onList takes a hash-list datagram b from the data group for session
// sid of sender, with blocks blocks (SPEC.md §6.5.1): session, block
// range, signer, then the signature, which a repeat and a list a held
// seal covers skip.
func (k *shardBook) onList(b []byte, sender [32]byte, sid protocol.SessionID, blocks uint32, done func(uint32) bool) listVerdict {
	p, err := protocol.ParseSigned(b)
	if err != nil || p.Type != protocol.TypeHashes {
		return listOther
	}
	l, err := protocol.ParseShardHashes(p.Body)
	if err != nil || l.Session != sid {
		return listOther
	}
	if p.Sender != sender || l.Block >= blocks {
		return listRejected
	}
	if done(l.Block) || k.repeat(l) {
		return listStored
	}
	if !k.isSealed(protocol.ListDigest(p.Body)) && !p.Verify() { // a sealed list needs no signature check (§6.5.2)
		return listRejected
	}
	k.add(l, done)
	return listStored
}
