package main

import (
	"encoding/binary"
	"errors"
)

// Datagram header, big endian:
//
//	0      4     5        8       12       16
//	+------+-----+--------+-------+--------+---- payload (zero) ----+
//	| BLST | kind| unused |  seq  | total  |                        |
//	+------+-----+--------+-------+--------+------------------------+
const (
	magic      = "BLST"
	headerLen  = 16
	kindData   = 0
	kindEnd    = 1
	offKind    = 4
	offSeq     = 8
	offTotal   = 12
	minPayload = headerLen
	// maxDatagrams bounds the receiver's bitmap (2 MiB) and so the run size
	// (about 23 GB at 1400 bytes).
	maxDatagrams = 1 << 24
)

var errNotBlast = errors.New("not a blast datagram")

type header struct {
	kind       byte
	seq, total uint32
}

func (h header) put(b []byte) {
	copy(b, magic)
	b[offKind] = h.kind
	binary.BigEndian.PutUint32(b[offSeq:], h.seq)
	binary.BigEndian.PutUint32(b[offTotal:], h.total)
}

func parseHeader(b []byte) (header, error) {
	if len(b) < headerLen || string(b[:len(magic)]) != magic {
		return header{}, errNotBlast
	}
	h := header{kind: b[offKind], seq: binary.BigEndian.Uint32(b[offSeq:]), total: binary.BigEndian.Uint32(b[offTotal:])}
	if h.kind > kindEnd || h.total == 0 || h.total > maxDatagrams || (h.kind == kindData && h.seq >= h.total) {
		return header{}, errNotBlast
	}
	return h, nil
}
