package protocol

import "encoding/binary"

// Data packet layout (SPEC.md §6.5). Not signed: Sealed is the shard
// under the session's data key, with the first DataHeaderLen bytes as
// additional data.
const (
	DataHeaderLen = HeaderLen + 8 + 4 + 1 // header, session, block, shard index
	DataTagLen    = 16
)

// Data is one FEC shard of one block.
type Data struct {
	Session SessionID
	Block   uint32
	Shard   byte
	Sealed  []byte // ciphertext and tag
}

// AppendDataHeader appends the authenticated part of a data packet; the
// caller seals the shard after it.
func AppendDataHeader(b []byte, s SessionID, block uint32, shard byte) []byte {
	b = AppendHeader(b, TypeData)
	b = append(b, s[:]...)
	b = binary.BigEndian.AppendUint32(b, block)
	return append(b, shard)
}

// ParseData parses a whole data datagram (header included) without
// allocating. The caller checks len(Sealed) against the session's shard size.
func ParseData(b []byte) (Data, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Data{}, err
	}
	if h.Type != TypeData {
		return Data{}, ErrType
	}
	if len(b) < DataHeaderLen+MinShardSize+DataTagLen {
		return Data{}, ErrShort // SPEC.md §3.4: checked before any session lookup
	}
	if len(b) > DataHeaderLen+MaxShardSize+DataTagLen {
		return Data{}, ErrField
	}
	d := Data{Block: binary.BigEndian.Uint32(b[HeaderLen+8:]), Shard: b[HeaderLen+12], Sealed: b[DataHeaderLen:]}
	copy(d.Session[:], b[HeaderLen:HeaderLen+8])
	return d, nil
}

// DataNonce is the AEAD nonce of a shard: unique per (block, shard) and
// the same every time that shard is sent, which is safe because the
// shard's bytes are a function of (block, shard) alone.
func DataNonce(block uint32, shard byte) [12]byte {
	var n [12]byte
	binary.BigEndian.PutUint32(n[0:4], block)
	n[4] = shard
	return n
}
