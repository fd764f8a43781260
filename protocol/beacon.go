package protocol

import "unicode/utf8"

// Beacon limits and flags (SPEC.md §5).
const (
	MaxNameLen = 64
	// BeaconLeaving marks the last beacon of a process that is stopping.
	BeaconLeaving = 1 << 0
	// BeaconUnicastWanted is set only in a beacon sent by unicast (SPEC.md
	// §5.2): its sender does not hear the receiver's multicast and asks
	// for the receiver's control packets by unicast.
	BeaconUnicastWanted = 1 << 1
	// beaconVersionShift: Flags bits 4-7 hold the highest protocol
	// version the sender speaks, minus one (0: version 1 only). Bits 2-3
	// are reserved: sent as zero, ignored on receipt (SPEC.md §3.5, §5.1).
	beaconVersionShift = 4
)

// MaxVersion is the highest protocol version the beacon's sender speaks
// (1..16), from the top four bits of Flags.
func (m Beacon) MaxVersion() int { return 1 + int(m.Flags>>beaconVersionShift) }

// BeaconVersionFlags are the Flags bits that advertise maxVersion (1..16).
func BeaconVersionFlags(maxVersion int) byte {
	return byte(min(max(maxVersion, 1), 16)-1) << beaconVersionShift
}

// Offers says what a running herald does, so peers can show it. Unknown
// bits are ignored (SPEC.md §5.1).
const (
	OfferReceive = 1 << 0 // herald receive
	OfferListen  = 1 << 1 // herald listen / chat
	OfferPush    = 1 << 2 // pushing now
)

// Beacon announces a running herald on the control group.
type Beacon struct {
	BoxKey [32]byte // X25519 key for sealing to this peer
	Flags  byte
	Offers byte
	Name   string // UTF-8, at most MaxNameLen bytes; a label, never an identity
}

func (Beacon) Type() Type { return TypeBeacon }
func (m Beacon) Len() int { return 32 + 1 + 1 + 1 + len(m.Name) }

func (m Beacon) AppendBinary(b []byte) []byte {
	b = append(b, m.BoxKey[:]...)
	b = append(b, m.Flags, m.Offers, byte(len(m.Name)))
	return append(b, m.Name...)
}

// ParseBeacon parses a beacon body. Name is returned as a string, which
// copies: the caller keeps it beyond the packet buffer.
func ParseBeacon(body []byte) (Beacon, error) {
	r := reader{b: body}
	m := Beacon{BoxKey: r.array32(), Flags: r.u8(), Offers: r.u8()}
	n := int(r.u8())
	if n > MaxNameLen {
		return Beacon{}, ErrField
	}
	name := r.take(n)
	if err := r.done(); err != nil {
		return Beacon{}, err
	}
	if !utf8.Valid(name) {
		return Beacon{}, ErrField
	}
	m.Name = string(name)
	return m, nil
}
