package protocol

import (
	"errors"
	"fmt"
)

// Sizes of the fixed parts of every datagram (SPEC.md §3).
const (
	MagicLen    = 4
	HeaderLen   = MagicLen + 1 + 1 // magic, version, type
	Version     = 1
	MaxDatagram = 1400 // largest UDP payload herald sends; fits a 1500-byte IPv6 path
)

// Magic opens every herald datagram.
var Magic = [MagicLen]byte{'H', 'R', 'L', 'D'}

// Type names a packet kind.
type Type byte

// Packet types (SPEC.md §3.2).
const (
	TypeBeacon     Type = 0x01
	TypeGroupMsg   Type = 0x02
	TypePrivate    Type = 0x03
	TypeProbe      Type = 0x04
	TypeMembership Type = 0x05
	TypeAnnounce   Type = 0x10
	TypeGrant      Type = 0x11
	TypeManifest   Type = 0x12
	TypeData       Type = 0x13
	TypeStatus     Type = 0x14
	TypeEnd        Type = 0x15
	TypeHashes     Type = 0x16
	TypeListSeal   Type = 0x17
)

// typeNames is indexed by type, "" for an unknown one: an array, not a
// map, since ParseHeader asks Known of every datagram.
var typeNames = [256]string{
	TypeBeacon: "beacon", TypeGroupMsg: "group-message", TypePrivate: "private", TypeProbe: "probe", TypeMembership: "membership",
	TypeAnnounce: "announce", TypeGrant: "grant", TypeManifest: "manifest",
	TypeData: "data", TypeStatus: "status", TypeEnd: "end", TypeHashes: "shard-hashes", TypeListSeal: "list-seal",
}

func (t Type) String() string {
	if n := typeNames[t]; n != "" {
		return n
	}
	return fmt.Sprintf("type(0x%02x)", byte(t))
}

// Known reports whether t is a type this version defines.
func (t Type) Known() bool { return typeNames[t] != "" }

// Signed reports whether packets of type t carry an envelope and signature.
func (t Type) Signed() bool { return t.Known() && t != TypeData }

// Parse errors. Callers test them with errors.Is.
var (
	ErrShort        = errors.New("protocol: truncated packet")
	ErrMagic        = errors.New("protocol: not a herald packet (bad magic)")
	ErrVersion      = errors.New("protocol: unsupported protocol version")
	ErrType         = errors.New("protocol: unknown packet type")
	ErrTooLarge     = errors.New("protocol: packet larger than MaxDatagram")
	ErrField        = errors.New("protocol: field out of range")
	ErrBadSignature = errors.New("protocol: bad signature")
	ErrDecrypt      = errors.New("protocol: decryption failed")
)

// VersionError is the error for a datagram of a version this herald does
// not speak. Only the magic and the version byte were read; callers find
// it with errors.As to say which version a peer runs (SPEC.md §3.5).
type VersionError struct{ Version byte }

func (e *VersionError) Error() string {
	return fmt.Sprintf("%v %d (this herald speaks version %d)", ErrVersion, e.Version, Version)
}

// Unwrap makes errors.Is(err, ErrVersion) hold.
func (e *VersionError) Unwrap() error { return ErrVersion }

// versionErrors are made once, so refusing a datagram allocates nothing.
var versionErrors = func() (v [256]VersionError) {
	for i := range v {
		v[i].Version = byte(i)
	}
	return v
}()

// Header is the fixed start of every datagram.
type Header struct {
	Version byte
	Type    Type
}

// AppendHeader appends the 6-byte header for type t.
func AppendHeader(b []byte, t Type) []byte {
	b = append(b, Magic[:]...)
	return append(b, Version, byte(t))
}

// ParseHeader checks magic, version and type. An unknown version is
// rejected by name and the rest of the packet is not looked at.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShort
	}
	if len(b) > MaxDatagram {
		return Header{}, ErrTooLarge
	}
	if [MagicLen]byte(b[:MagicLen]) != Magic {
		return Header{}, ErrMagic
	}
	if b[4] != Version {
		// Nothing after the version byte is read: its meaning is the
		// other version's business, the type byte included.
		return Header{Version: b[4]}, &versionErrors[b[4]]
	}
	h := Header{Version: b[4], Type: Type(b[5])}
	if !h.Type.Known() {
		return h, fmt.Errorf("%w 0x%02x", ErrType, byte(h.Type))
	}
	return h, nil
}
