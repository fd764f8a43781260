package textsafe

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON rewrites encoded JSON so that no Hidden character appears raw:
// each becomes a \uXXXX escape (a surrogate pair above U+FFFF), which
// decodes to the same string. encoding/json already escapes C0 controls
// and U+2028/U+2029; this adds C1 controls, bidi formatting and the
// invisible characters. Input that is not valid UTF-8 is returned as is
// (encoding/json never produces it). b is not modified.
func JSON(b []byte) []byte {
	if !utf8.Valid(b) || jsonClean(b) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x80 && Hidden(r) {
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

func jsonClean(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if Hidden(r) {
			return false
		}
		i += size
	}
	return true
}
