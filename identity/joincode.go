package identity

import (
	"fmt"
	"strings"
)

// Join codes (SPEC.md §8). Version 2, made for channels with a seed:
//
//	name "-" owner fingerprint (20 chars) "-" base32(seed 16 bytes || CRC-24)
//
// 51 Crockford characters after the name, shown in groups of 4; the owner
// part is literally the owner's fingerprint, so a student can compare it
// with the board. Version 1 (56 characters: secret 32 bytes || CRC-24)
// is still read and written for channels without a seed.
const (
	joinCRCLen   = 3
	joinGroupLen = 4

	joinV1PayloadLen = 32 + joinCRCLen          // 35 bytes
	joinV1Chars      = joinV1PayloadLen * 8 / 5 // 56, no padding bits
	joinV1CRCLabel   = "herald-join-v1|"        // binds the checksum to this format

	joinV2SeedPartLen = SeedLen + joinCRCLen               // 19 bytes
	joinV2SeedChars   = (joinV2SeedPartLen*8 + 4) / 5      // 31 (3 zero padding bits)
	joinV2Chars       = fingerprintChars + joinV2SeedChars // 51
	joinV2CRCLabel    = "herald-join-v2|"

	maxJoinCodeLen = MaxChannelNameLen + 2*joinV1Chars // generous room for separators
	crc24Init      = 0xB704CE                          // CRC-24/OPENPGP, RFC 4880 section 6.1
	crc24Poly      = 0x1864CFB
	crc24Mask      = 0xFFFFFF
)

// noOwner stands for "no owner" in a version-2 code.
var noOwner = strings.Repeat("0", fingerprintChars)

// JoinCode is the channel written for people: the name, then dash-separated
// groups of 4 Crockford characters. Parsing ignores case, dashes and
// spaces and reads O as 0, I and L as 1. The checksum (CRC-24) catches
// every single wrong character and every swap of neighbours; other
// corruption passes with odds of 1 in 2^24.
func (c Channel) JoinCode() string {
	var body string
	if c.HasSeed() {
		owner := noOwner
		if len(c.Owners) > 0 {
			owner = strings.ReplaceAll(c.Owners[0], "-", "")
		}
		body = owner + encodeSeedPart(c.Name, owner, c.Seed)
	} else {
		var payload [joinV1PayloadLen]byte
		copy(payload[:], c.Secret[:])
		putCRC(payload[32:], joinV1CRC(c.Name, c.Secret[:]))
		body = crockford.EncodeToString(payload[:])
	}
	var b strings.Builder
	b.WriteString(c.Name)
	for i := 0; i < len(body); i += joinGroupLen {
		b.WriteByte('-')
		b.WriteString(body[i:min(i+joinGroupLen, len(body))])
	}
	return b.String()
}

func encodeSeedPart(name, owner string, seed [SeedLen]byte) string {
	var part [joinV2SeedPartLen]byte
	copy(part[:], seed[:])
	putCRC(part[SeedLen:], joinV2CRC(name, owner, seed[:]))
	return crockford.EncodeToString(part[:])
}

func putCRC(b []byte, crc uint32) { b[0], b[1], b[2] = byte(crc>>16), byte(crc>>8), byte(crc) }

// ParseJoinCode reads a join code of either version; any error matches
// ErrBadJoinCode and says what to check: a code one character off names
// the group that is wrong. The name is what precedes the first dash or
// space (or, typed without separators, the last 51 or 56 characters).
// The open channel's own code parses to OpenChannel; the name "open"
// with any other secret is refused.
func ParseJoinCode(code string) (Channel, error) {
	if len(code) > maxJoinCodeLen {
		return Channel{}, fmt.Errorf("%w: %d characters is too long", ErrBadJoinCode, len(code))
	}
	code = strings.TrimSpace(code)
	name, body, err := splitJoinCode(code)
	if err != nil {
		return Channel{}, err
	}
	symbols, ok := canonicalCrockford(body)
	if !ok {
		return Channel{}, fmt.Errorf("%w: a character after the name is not in the code alphabet (0-9, A-Z without I, L, O, U)", ErrBadJoinCode)
	}
	c, err := decodeJoinBody(name, symbols)
	if err == nil {
		if name == openChannelName && !c.IsOpen() {
			return Channel{}, fmt.Errorf("%w: %q is reserved for the unencrypted open channel", ErrBadJoinCode, name)
		}
		return c, nil
	}
	if group, fix, ok := locateTypo(name, symbols); ok {
		return Channel{}, fmt.Errorf("%w: group %d (%s) after the name is wrong; check it against the code you were given (one likely reading: %s)",
			ErrBadJoinCode, group+1, groupOf(symbols, group), groupOf(fix, group))
	}
	return Channel{}, err
}

// splitJoinCode separates the name from the code characters.
func splitJoinCode(code string) (name, body string, err error) {
	if i := strings.IndexFunc(code, func(r rune) bool { return r < 0x80 && isSeparator(byte(r)) }); i >= 0 {
		name, body = code[:i], code[i+1:]
	} else {
		n := len(code) - joinV2Chars
		if len(code)-joinV1Chars > 0 {
			if _, err := decodeJoinBody(strings.ToLower(code[:len(code)-joinV1Chars]), strings.ToUpper(code[len(code)-joinV1Chars:])); err == nil {
				n = len(code) - joinV1Chars
			}
		}
		if n <= 0 {
			return "", "", fmt.Errorf("%w: too short (a name and %d code characters expected)", ErrBadJoinCode, joinV2Chars)
		}
		name, body = code[:n], code[n:]
	}
	name, err = NormalizeChannelName(name)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrBadJoinCode, err)
	}
	return name, body, nil
}

// decodeJoinBody decodes canonical code characters of either version.
func decodeJoinBody(name, symbols string) (Channel, error) {
	switch len(symbols) {
	case joinV2Chars:
		return decodeJoinV2(name, symbols)
	case joinV1Chars:
		return decodeJoinV1(name, symbols)
	}
	return Channel{}, fmt.Errorf("%w: %d characters after the name, a join code has %d (%d groups); a group is missing or too long",
		ErrBadJoinCode, len(symbols), joinV2Chars, (joinV2Chars+joinGroupLen-1)/joinGroupLen)
}

func decodeJoinV1(name, symbols string) (Channel, error) {
	payload, err := crockford.DecodeString(symbols)
	if err != nil || len(payload) != joinV1PayloadLen {
		return Channel{}, fmt.Errorf("%w: cannot decode", ErrBadJoinCode)
	}
	c := Channel{Name: name}
	copy(c.Secret[:], payload)
	if getCRC(payload[32:]) != joinV1CRC(name, c.Secret[:]) {
		return Channel{}, fmt.Errorf("%w: checksum mismatch, check for a typo", ErrBadJoinCode)
	}
	return c, nil
}

func decodeJoinV2(name, symbols string) (Channel, error) {
	owner, seedPart := symbols[:fingerprintChars], symbols[fingerprintChars:]
	part, err := crockford.DecodeString(seedPart)
	if err != nil || len(part) != joinV2SeedPartLen || crockford.EncodeToString(part) != seedPart {
		// The re-encoding test refuses nonzero padding bits, so one code
		// has one spelling.
		return Channel{}, fmt.Errorf("%w: checksum mismatch, check for a typo", ErrBadJoinCode)
	}
	var seed [SeedLen]byte
	copy(seed[:], part)
	if getCRC(part[SeedLen:]) != joinV2CRC(name, owner, seed[:]) {
		return Channel{}, fmt.Errorf("%w: checksum mismatch, check for a typo", ErrBadJoinCode)
	}
	c := channelFromSeed(name, seed)
	if owner != noOwner {
		c.Owners = []string{groupFingerprint(owner)}
	}
	return c, nil
}

func getCRC(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

// locateTypo looks for the one character whose change makes the code
// valid, to tell the person which group to re-read. With CRC-24 a
// second, accidental fix has odds of about 1500 in 2^24; then, or when
// no single change fits, it reports false.
func locateTypo(name, symbols string) (group int, fixed string, ok bool) {
	if len(symbols) != joinV1Chars && len(symbols) != joinV2Chars {
		return 0, "", false
	}
	b := []byte(symbols)
	found := 0
	for i := range b {
		orig := b[i]
		for j := 0; j < len(crockfordAlphabet); j++ {
			if crockfordAlphabet[j] == orig {
				continue
			}
			b[i] = crockfordAlphabet[j]
			if _, err := decodeJoinBody(name, string(b)); err == nil {
				found++
				group, fixed = i/joinGroupLen, string(b)
			}
		}
		b[i] = orig
	}
	return group, fixed, found == 1
}

func groupOf(symbols string, group int) string {
	return symbols[group*joinGroupLen : min((group+1)*joinGroupLen, len(symbols))]
}

// joinV1CRC is CRC-24/OPENPGP over "herald-join-v1|" || name || "|" || secret.
func joinV1CRC(name string, secret []byte) uint32 {
	crc := uint32(crc24Init)
	crc = crc24Update(crc, []byte(joinV1CRCLabel))
	crc = crc24Update(crc, []byte(name))
	crc = crc24Update(crc, []byte{'|'})
	return crc24Update(crc, secret)
}

// joinV2CRC is CRC-24/OPENPGP over "herald-join-v2|" || name || "|" ||
// owner (20 ASCII characters) || "|" || seed.
func joinV2CRC(name, owner string, seed []byte) uint32 {
	crc := uint32(crc24Init)
	crc = crc24Update(crc, []byte(joinV2CRCLabel))
	crc = crc24Update(crc, []byte(name))
	crc = crc24Update(crc, []byte{'|'})
	crc = crc24Update(crc, []byte(owner))
	crc = crc24Update(crc, []byte{'|'})
	return crc24Update(crc, seed)
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
