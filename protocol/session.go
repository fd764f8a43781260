package protocol

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"

	"github.com/herald-lan/herald/fec"
)

// SessionID names one push. It is random, chosen by the sender.
type SessionID [8]byte

// String is the id in lower-case hex, the form events, logs and reports
// show (16 characters).
func (id SessionID) String() string { return hex.EncodeToString(id[:]) }

// Key modes of a push (SPEC.md §6.2): how receivers get the session key.
const (
	KeyModePublic     = 0 // key sent in clear: anyone on the LAN can read (--no-encrypt)
	KeyModeChannel    = 1 // key sealed with secretbox under the channel's push key
	KeyModeRecipients = 2 // key sealed with box to each recipient's X25519 key
)

// Announce flags. Unknown bits describe sender behaviour a receiver need
// not act on: they are ignored, never rejected (SPEC.md §6.2).
const (
	AnnounceCarousel = 1 << 0 // sender keeps sending parity for late joiners
	// Bits 1–4 carry the group size class (GroupSize): a receiver that
	// ignores them still works, it only sends statuses more often.
	announceGroupShift = 1
	announceGroupMask  = 0x0f << announceGroupShift
	maxGroupClass      = 15
)

// Announce opens a push session on the control group (signed).
type Announce struct {
	Session       SessionID
	Flags         byte
	KeyMode       byte
	Channel       [8]byte // channel id when KeyMode is KeyModeChannel
	K             byte    // data shards per block (1..128)
	ShardSize     uint16
	Blocks        uint32
	TotalSize     uint64
	ManifestLen   uint32 // bytes of manifest plaintext
	ManifestParts uint32 // manifest chunks
	Grants        uint16 // grant packets that carry the sealed session key
	Sent          uint32 // blocks the first pass has sent so far (== Blocks when it is over)
}

// GroupSize is how many receivers the sender counts, rounded down to a
// power of two (SPEC.md §6.2: class c > 0 means at least 2^(c-1)); 0 when
// it counts none yet. Receivers scale their status timers by it.
func (m Announce) GroupSize() int {
	c := (m.Flags & announceGroupMask) >> announceGroupShift
	if c == 0 {
		return 0
	}
	return 1 << (c - 1)
}

// WithGroupSize returns m with the group size class of n receivers in
// its flags (class = bit length of n, at most 15).
func (m Announce) WithGroupSize(n int) Announce {
	c := min(bits.Len(uint(max(n, 0))), maxGroupClass)
	m.Flags = m.Flags&^announceGroupMask | byte(c)<<announceGroupShift
	return m
}

// AnnounceLen is the fixed size of an Announce body.
const AnnounceLen = 8 + 1 + 1 + 8 + 1 + 2 + 4 + 8 + 4 + 4 + 2 + 4

func (Announce) Type() Type { return TypeAnnounce }
func (Announce) Len() int   { return AnnounceLen }

func (m Announce) AppendBinary(b []byte) []byte {
	b = append(b, m.Session[:]...)
	b = append(b, m.Flags, m.KeyMode)
	b = append(b, m.Channel[:]...)
	b = append(b, m.K)
	b = binary.BigEndian.AppendUint16(b, m.ShardSize)
	b = binary.BigEndian.AppendUint32(b, m.Blocks)
	b = binary.BigEndian.AppendUint64(b, m.TotalSize)
	b = binary.BigEndian.AppendUint32(b, m.ManifestLen)
	b = binary.BigEndian.AppendUint32(b, m.ManifestParts)
	b = binary.BigEndian.AppendUint16(b, m.Grants)
	return binary.BigEndian.AppendUint32(b, m.Sent)
}

// ParseAnnounce parses and range-checks an Announce body. It checks the
// numbers agree with each other, so no receiver sizes anything from a
// field the others contradict.
func ParseAnnounce(body []byte) (Announce, error) {
	r := reader{b: body}
	m := Announce{Session: SessionID(r.array8()), Flags: r.u8(), KeyMode: r.u8(), Channel: r.array8(),
		K: r.u8(), ShardSize: r.u16(), Blocks: r.u32(), TotalSize: r.u64(),
		ManifestLen: r.u32(), ManifestParts: r.u32(), Grants: r.u16(), Sent: r.u32()}
	if err := r.done(); err != nil {
		return Announce{}, err
	}
	// The channel id names a channel only in key mode 1, and there it is
	// never zero: zero is the open channel, which pushes as key mode 0.
	if (m.KeyMode == KeyModeChannel) == (m.Channel == [8]byte{}) {
		return Announce{}, ErrField
	}
	if m.KeyMode > KeyModeRecipients || m.K == 0 || m.K > MaxK ||
		m.ShardSize < MinShardSize || m.ShardSize > MaxShardSize || m.Grants == 0 || m.Grants > MaxGrants ||
		m.ManifestLen == 0 || m.ManifestLen > MaxManifestLen || m.Sent > m.Blocks {
		return Announce{}, ErrField
	}
	blockSize := uint64(m.K) * uint64(m.ShardSize)
	if uint64(m.Blocks) != (m.TotalSize+blockSize-1)/blockSize {
		return Announce{}, ErrField
	}
	if m.ManifestParts != (m.ManifestLen+ManifestChunkLen-1)/ManifestChunkLen {
		return Announce{}, ErrField
	}
	return m, nil
}

// Push limits (SPEC.md §6.1).
const (
	MaxK             = fec.MaxK
	MinShardSize     = 64                  // a push's smallest shard; messages use fec's own minimum
	MaxShardSize     = fec.MaxShardSize    // one source of truth: fec (SPEC.md §6.9)
	MaxGrants        = 64                  // grant packets per session (64 × 21 = 1344 recipients)
	ManifestChunkLen = 1024                // manifest plaintext bytes per chunk
	MaxManifestLen   = 64 << 20            // 64 MiB of file list and block hashes
	MaxBlocks        = MaxManifestLen / 32 // every block has a 32-byte hash in the manifest
)
