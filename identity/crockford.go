package identity

import "encoding/base32"

// crockfordAlphabet is Douglas Crockford's base32 alphabet: digits and
// upper-case letters without I, L, O and U, so nothing read aloud or
// copied from a whiteboard is ambiguous.
const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// crockford encodes in RFC 4648 bit order (most significant bit first)
// with the Crockford alphabet and no padding.
var crockford = base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)

// isSeparator reports the characters people put between groups; they
// carry no meaning in fingerprints or join codes.
func isSeparator(c byte) bool {
	return c == '-' || c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// crockfordSymbol maps a typed character to its canonical alphabet
// character: case is ignored, O reads as 0 and I, L as 1. It reports
// false for anything outside the alphabet (including U).
func crockfordSymbol(c byte) (byte, bool) {
	if 'a' <= c && c <= 'z' {
		c -= 'a' - 'A'
	}
	switch c {
	case 'O':
		return '0', true
	case 'I', 'L':
		return '1', true
	case 'U':
		return 0, false
	}
	if ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') {
		return c, true
	}
	return 0, false
}

// canonicalCrockford strips separators from s and canonicalizes every
// other character; it reports false if any is outside the alphabet.
func canonicalCrockford(s string) (string, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if isSeparator(s[i]) {
			continue
		}
		c, ok := crockfordSymbol(s[i])
		if !ok {
			return "", false
		}
		out = append(out, c)
	}
	return string(out), true
}
