package protocol

// Shard hash lists (SPEC.md §6.5.1). Every receiver of a push holds the
// data key, so the AEAD tag cannot tell the sender's shards from an
// insider's. The sender therefore signs, per block, a short hash of every
// shard index it sends; a receiver checks each shard against the list
// before the shard reaches the decoder. One signature covers up to
// MaxShardHashes shards, so a receiver verifies one signature per block,
// never one per shard.
const (
	// ShardHashLen is the truncated SHA-256 of one shard's plaintext.
	ShardHashLen = 16
	// hashesFixedLen is session, block, first index and count.
	hashesFixedLen = 8 + 4 + 1 + 1
	// MaxShardHashes is how many hashes one signed datagram carries (78).
	MaxShardHashes = (MaxSignedBody - hashesFixedLen) / ShardHashLen
)

// ShardHashes is the sender's signed list of shard hashes for shard
// indexes First .. First+Count-1 of one block (signed, data group).
// Hashes holds Count hashes of ShardHashLen bytes back to back.
type ShardHashes struct {
	Session SessionID
	Block   uint32
	First   byte
	Hashes  []byte
}

// Count is the number of hashes in the list.
func (m ShardHashes) Count() int { return len(m.Hashes) / ShardHashLen }

// Hash returns the hash of shard index First+i (0 <= i < Count).
func (m ShardHashes) Hash(i int) []byte {
	return m.Hashes[i*ShardHashLen : (i+1)*ShardHashLen : (i+1)*ShardHashLen]
}

func (ShardHashes) Type() Type { return TypeHashes }
func (m ShardHashes) Len() int { return hashesFixedLen + len(m.Hashes) }

func (m ShardHashes) AppendBinary(b []byte) []byte {
	b = append(b, m.Session[:]...)
	b = append(b, byte(m.Block>>24), byte(m.Block>>16), byte(m.Block>>8), byte(m.Block))
	b = append(b, m.First, byte(m.Count()))
	return append(b, m.Hashes...)
}

// ParseShardHashes parses a hash list body without allocating; Hashes is
// a sub-slice. It rejects an empty list, more than MaxShardHashes, and a
// list running past shard index 255 (a sender splits a list that wraps).
func ParseShardHashes(body []byte) (ShardHashes, error) {
	r := reader{b: body}
	m := ShardHashes{Session: SessionID(r.array8()), Block: r.u32(), First: r.u8()}
	n := int(r.u8())
	if r.err != nil {
		return ShardHashes{}, r.err
	}
	if n == 0 || n > MaxShardHashes || int(m.First)+n > 256 {
		return ShardHashes{}, ErrField
	}
	m.Hashes = r.take(n * ShardHashLen)
	if err := r.done(); err != nil {
		return ShardHashes{}, err
	}
	return m, nil
}
