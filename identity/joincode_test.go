package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestCRC24CheckValue(t *testing.T) {
	// CRC-24/OPENPGP check value from the CRC catalogue.
	if got := crc24Update(crc24Init, []byte("123456789")); got != 0x21CF02 {
		t.Fatalf("crc24(123456789) = %06x, want 21cf02", got)
	}
}

func TestJoinCodeGolden(t *testing.T) {
	v := loadVectors(t)
	c := vectorChannel(t, v)
	if got := c.JoinCode(); got != v.JoinCode {
		t.Fatalf("JoinCode = %s, want %s", got, v.JoinCode)
	}
	spellings := map[string]string{
		"as printed":       v.JoinCode,
		"lower case":       strings.ToLower(v.JoinCode),
		"upper case":       strings.ToUpper(v.JoinCode),
		"no dashes":        strings.ReplaceAll(v.JoinCode, "-", ""),
		"spaces":           strings.ReplaceAll(v.JoinCode, "-", " "),
		"surrounding junk": "  \t" + v.JoinCode + "\n",
		"misread 0 and 1":  v.JoinCode[:5] + strings.NewReplacer("0", "o", "1", "L").Replace(v.JoinCode[5:]),
	}
	for name, code := range spellings {
		t.Run(name, func(t *testing.T) {
			got, err := ParseJoinCode(code)
			if err != nil || !sameChannel(got, c) {
				t.Fatalf("ParseJoinCode(%q) = %+v, %v", code, got, err)
			}
		})
	}
}

// sameSymbol reports whether typing b instead of a at a position of the
// name (inName) or of the code body reads the same.
func sameSymbol(a, b byte, inName bool) bool {
	if inName {
		return strings.EqualFold(string(a), string(b))
	}
	x, okA := crockfordSymbol(a)
	y, okB := crockfordSymbol(b)
	return okA && okB && x == y
}

// TestJoinCodeCatchesEveryTypo substitutes every printable character at
// every position of one code, swaps every pair of neighbours and drops
// every character: whatever changes the meaning must be refused.
func TestJoinCodeCatchesEveryTypo(t *testing.T) {
	v := loadVectors(t)
	code := v.JoinCode
	nameEnd := strings.IndexByte(code, '-')
	mustFail := func(kind, typo string) {
		if c, err := ParseJoinCode(typo); !errors.Is(err, ErrBadJoinCode) {
			t.Errorf("%s %q accepted as %+v", kind, typo, c)
		}
	}
	tried := 0
	t.Run("substitutions", func(t *testing.T) {
		for i := 0; i < len(code); i++ {
			if isSeparator(code[i]) {
				continue
			}
			for ch := byte(0x21); ch < 0x7f; ch++ {
				if ch == '-' || sameSymbol(code[i], ch, i < nameEnd) {
					continue
				}
				mustFail("substitution", code[:i]+string(ch)+code[i+1:])
				tried++
			}
		}
		t.Logf("%d substitutions refused", tried)
	})
	compact := strings.ReplaceAll(code, "-", "")
	split := len(compact) - joinV1Chars
	t.Run("adjacent swaps", func(t *testing.T) {
		for i := 0; i+1 < len(compact); i++ {
			a, b := compact[i], compact[i+1]
			same := sameSymbol(a, b, i+1 < split)
			if i+1 == split { // name's last character swapped with the body's first
				same = strings.EqualFold(string(a), string(b))
			}
			if same {
				continue
			}
			mustFail("swap", compact[:i]+string(b)+string(a)+compact[i+2:])
		}
	})
	t.Run("deletions", func(t *testing.T) {
		for i := 0; i < len(compact); i++ {
			mustFail("deletion", compact[:i]+compact[i+1:])
		}
	})
}

func TestJoinCodeRoundTrip(t *testing.T) {
	for _, name := range []string{"a", "lab1", "x_y", strings.Repeat("z", MaxChannelNameLen), "0123", "ilou"} {
		t.Run(name, func(t *testing.T) {
			for range 20 {
				c, err := NewChannel(name, "")
				if err != nil {
					t.Fatal(err)
				}
				got, err := ParseJoinCode(c.JoinCode())
				if err != nil || !sameChannel(got, c) {
					t.Fatalf("round trip of %s: %+v %v", c.JoinCode(), got, err)
				}
			}
		})
	}
}

func TestParseJoinCodeRejects(t *testing.T) {
	v := loadVectors(t)
	body := v.JoinCode[len(v.ChannelName):]
	reserved := Channel{Name: "open", Secret: [32]byte{1}}
	for _, tc := range []struct{ name, code string }{
		{"empty", ""},
		{"body only", body},
		{"truncated", v.JoinCode[:len(v.JoinCode)-1]},
		{"too long", strings.Repeat("a", maxJoinCodeLen+1)},
		{"bad name char", "la.b" + body},
		{"U in body", v.JoinCode[:len(v.JoinCode)-1] + "U"},
		{"non-ascii", "lab1" + strings.Replace(body, "8", "é", 1)},
		{"other name", "lab2" + body},
		{"open with a secret", reserved.JoinCode()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := ParseJoinCode(tc.code); !errors.Is(err, ErrBadJoinCode) {
				t.Fatalf("ParseJoinCode(%q) = %+v, %v", tc.code, c, err)
			}
		})
	}
}

func FuzzParseJoinCode(f *testing.F) {
	v := loadVectors(f)
	f.Add(v.JoinCode)
	f.Add(strings.ToLower(strings.ReplaceAll(v.JoinCode, "-", " ")))
	f.Add(OpenChannel().JoinCode())
	f.Add("x-" + strings.Repeat("0", joinV1Chars))
	f.Fuzz(func(t *testing.T, code string) {
		c, err := ParseJoinCode(code)
		if err != nil {
			if !errors.Is(err, ErrBadJoinCode) {
				t.Fatalf("error %v does not match ErrBadJoinCode", err)
			}
			return
		}
		if _, err := NormalizeChannelName(c.Name); err != nil {
			t.Fatalf("parsed an invalid name %q", c.Name)
		}
		again, err := ParseJoinCode(c.JoinCode())
		if err != nil || !sameChannel(again, c) {
			t.Fatalf("re-encoding %q does not round-trip: %v", code, err)
		}
	})
}

func BenchmarkParseJoinCode(b *testing.B) {
	code := loadVectors(b).JoinCode
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJoinCode(code); err != nil {
			b.Fatal(err)
		}
	}
}
