package identity

import (
	"fmt"
	"strings"
)

// Join code layout (SPEC.md): name, then 56 Crockford characters that
// encode secret(32 bytes) || CRC-24(3 bytes) = 280 bits exactly, shown
// in groups of 4: "lab1-XXXX-XXXX-...-XXXX" (14 groups).
const (
	joinCRCLen     = 3
	joinPayloadLen = 32 + joinCRCLen        // 35 bytes
	joinBodyChars  = joinPayloadLen * 8 / 5 // 56, no padding bits
	joinGroupLen   = 4
	joinCRCLabel   = "herald-join-v1|"                   // binds the checksum to this format
	maxJoinCodeLen = MaxChannelNameLen + 2*joinBodyChars // generous room for separators
	crc24Init      = 0xB704CE                            // CRC-24/OPENPGP, RFC 4880 section 6.1
	crc24Poly      = 0x1864CFB
	crc24Mask      = 0xFFFFFF
)

// JoinCode is the channel written for people: the name, a dash, then
// secret and checksum in dash-separated groups of 4 Crockford characters.
// Parsing ignores case, dashes and spaces and reads O as 0, I and L as 1.
// The checksum (CRC-24 over the name and secret) catches every single
// wrong character, every swap of neighbours and every error confined to
// 24 consecutive bits; other corruption passes with odds of 1 in 2^24.
func (c Channel) JoinCode() string {
	var payload [joinPayloadLen]byte
	copy(payload[:], c.Secret[:])
	crc := joinCRC(c.Name, &c.Secret)
	payload[32], payload[33], payload[34] = byte(crc>>16), byte(crc>>8), byte(crc)
	body := crockford.EncodeToString(payload[:])
	var b strings.Builder
	b.WriteString(c.Name)
	for i := 0; i < len(body); i += joinGroupLen {
		b.WriteByte('-')
		b.WriteString(body[i : i+joinGroupLen])
	}
	return b.String()
}

// ParseJoinCode reads a join code; any error matches ErrBadJoinCode.
// The name is everything before the last 56 significant characters.
// The open channel's own code parses to OpenChannel; the name "open"
// with any other secret is refused.
func ParseJoinCode(code string) (Channel, error) {
	if len(code) > maxJoinCodeLen {
		return Channel{}, fmt.Errorf("%w: %d characters is too long", ErrBadJoinCode, len(code))
	}
	compact := make([]byte, 0, len(code))
	for i := 0; i < len(code); i++ {
		if !isSeparator(code[i]) {
			compact = append(compact, code[i])
		}
	}
	if len(compact) <= joinBodyChars {
		return Channel{}, fmt.Errorf("%w: too short (a name and %d code characters expected)", ErrBadJoinCode, joinBodyChars)
	}
	split := len(compact) - joinBodyChars
	name, err := NormalizeChannelName(string(compact[:split]))
	if err != nil {
		return Channel{}, fmt.Errorf("%w: %w", ErrBadJoinCode, err)
	}
	body, ok := canonicalCrockford(string(compact[split:]))
	if !ok {
		return Channel{}, fmt.Errorf("%w: a character after the name is not in the code alphabet (0-9, A-Z without I, L, O, U)", ErrBadJoinCode)
	}
	payload, err := crockford.DecodeString(body)
	if err != nil || len(payload) != joinPayloadLen {
		return Channel{}, fmt.Errorf("%w: cannot decode", ErrBadJoinCode)
	}
	c := Channel{Name: name}
	copy(c.Secret[:], payload)
	want := uint32(payload[32])<<16 | uint32(payload[33])<<8 | uint32(payload[34])
	if joinCRC(name, &c.Secret) != want {
		return Channel{}, fmt.Errorf("%w: checksum mismatch, check for a typo", ErrBadJoinCode)
	}
	if name == openChannelName && !c.IsOpen() {
		return Channel{}, fmt.Errorf("%w: %q is reserved for the unencrypted open channel", ErrBadJoinCode, name)
	}
	return c, nil
}

// joinCRC is CRC-24/OPENPGP over "herald-join-v1|" || name || "|" || secret.
func joinCRC(name string, secret *[32]byte) uint32 {
	crc := uint32(crc24Init)
	crc = crc24Update(crc, []byte(joinCRCLabel))
	crc = crc24Update(crc, []byte(name))
	crc = crc24Update(crc, []byte{'|'})
	return crc24Update(crc, secret[:])
}

func crc24Update(crc uint32, data []byte) uint32 {
	for _, b := range data {
		crc ^= uint32(b) << 16
		for range 8 {
			crc <<= 1
			if crc&(1<<24) != 0 {
				crc ^= crc24Poly
			}
		}
	}
	return crc & crc24Mask
}
