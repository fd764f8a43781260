// Package textsafe makes strings from the network safe to show a person.
//
// Anything a peer chooses (names, file names, messages, reasons) can hold
// characters that change how a terminal shows what follows: C0 and C1
// controls (escape sequences), bidirectional overrides and isolates
// (U+202E makes "report\u202Etxt.exe" display as "reportexe.txt"), and
// invisible characters (zero-width spaces and joiners, soft hyphen, tag
// characters) that make two different names look the same. Every
// human-facing string goes through Line (one line: names, paths) or Text
// (messages: newlines and tabs kept), which replace each such character
// with a visible escape, \u202e or \x1b, and invalid UTF-8 bytes with
// \xNN. Backslashes are not escaped: the escapes are for eyes, not for
// parsing back.
//
// Names are also checked for lookalikes (Unicode TR39): Lookalike reports
// a name that mixes scripts (Latin "teacher" with a Cyrillic "е") or is
// written wholly in letters that imitate Latin ones ("тоо").
//
// JSON output keeps the exact string (a program may need it) but never
// the raw character: JSON escapes every character Line would, as \uXXXX
// (docs/json.md).
//
// All functions are safe for concurrent use.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hidden reports whether r must not reach a terminal raw: controls (C0,
// DEL, C1), bidirectional formatting, and invisible format characters.
func Hidden(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x00ad, // soft hyphen
		r == 0x034f,              // combining grapheme joiner
		r == 0x061c,              // Arabic letter mark
		r == 0x115f, r == 0x1160, // Hangul fillers
		r == 0x17b4, r == 0x17b5, // Khmer inherent vowels (invisible)
		r == 0x180e,                // Mongolian vowel separator
		r >= 0x200b && r <= 0x200f, // zero-width space/joiners, LRM, RLM
		r >= 0x2028 && r <= 0x202e, // line/paragraph separators, bidi embeddings and overrides
		r >= 0x2060 && r <= 0x206f, // word joiner, invisible operators, bidi isolates, deprecated formats
		r == 0x3164, r == 0xffa0,   // Hangul fillers
		r == 0xfeff,                  // zero-width no-break space (BOM)
		r >= 0xfff9 && r <= 0xfffb,   // interlinear annotation
		r >= 0xe0000 && r <= 0xe007f: // tag characters
		return true
	}
	return false
}

// Line returns s for one line of output: every Hidden character and
// every newline or tab escaped, invalid UTF-8 shown as \xNN.
func Line(s string) string { return escape(s, false) }

// Text returns a message for output: like Line, but newlines and tabs
// are kept (a message may have several lines).
func Text(s string) string { return escape(s, true) }

func escape(s string, multiLine bool) string {
	if clean(s, multiLine) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case multiLine && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && Hidden(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean reports whether s needs no escaping (the common case: no
// allocation).
func clean(s string, multiLine bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 || c == 0x7f) && !(multiLine && (c == '\n' || c == '\t')) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || Hidden(r) {
			return false
		}
		i += size
	}
	return true
}

// Name returns a peer's name for display: Line, followed by
// " (lookalike)" when Lookalike says the name imitates another.
func Name(s string) string {
	if Lookalike(s) {
		return Line(s) + " (lookalike)"
	}
	return Line(s)
}

// Lookalike reports whether name should be marked as possibly imitating
// another (TR39, restriction level "highly restrictive", plus whole-
// script confusables): it holds Hidden characters, mixes scripts other
// than the usual combinations with Han, or is written wholly in a
// non-Latin script using only letters that imitate Latin ones.
func Lookalike(name string) bool {
	scripts := map[string]bool{}
	letters, imitating := 0, 0
	for _, r := range name {
		if Hidden(r) || r == utf8.RuneError {
			return true
		}
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		if _, ok := latinLookalikes[r]; ok {
			imitating++
		}
		scripts[scriptOf(r)] = true
	}
	delete(scripts, "")
	switch {
	case len(scripts) > 1 && !allowedMix(scripts):
		return true
	case len(scripts) == 1 && !scripts["Latin"] && letters > 0 && imitating == letters:
		return true // e.g. all-Cyrillic "сосо" reads as Latin "coco"
	}
	return false
}

// allowedMix is TR39's highly restrictive set: Latin with Han and
// Japanese kana, with Han and Bopomofo, or with Han and Hangul.
func allowedMix(scripts map[string]bool) bool {
	for s := range scripts {
		switch s {
		case "Latin", "Han", "Hiragana", "Katakana", "Bopomofo", "Hangul":
		default:
			return false
		}
	}
	n := 0
	for _, s := range []string{"Hiragana", "Katakana"} {
		if scripts[s] {
			n = 1
		}
	}
	if scripts["Bopomofo"] {
		n++
	}
	if scripts["Hangul"] {
		n++
	}
	return n <= 1
}

// checkedScripts are the scripts Lookalike tells apart; letters of other
// scripts count as their own script by name.
var checkedScripts = []string{"Latin", "Cyrillic", "Greek", "Armenian", "Cherokee", "Han", "Hiragana", "Katakana", "Bopomofo", "Hangul", "Arabic", "Hebrew"}

func scriptOf(r rune) string {
	for _, name := range checkedScripts {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	for name, table := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

// latinLookalikes maps letters to the Latin letter they are confusable
// with (a subset of TR39's confusables.txt: the letters of the scripts
// above that render like a Latin one in common fonts).
var latinLookalikes = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x',
	'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'һ': 'h', 'ӏ': 'l', 'ь': 'b', 'ɡ': 'g',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y', 'Х': 'X',
	'І': 'I', 'Ј': 'J', 'Ѕ': 'S', 'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W', 'Һ': 'H', 'Ӏ': 'I',
	// Greek
	'α': 'a', 'ο': 'o', 'ρ': 'p', 'ν': 'v', 'ι': 'i', 'κ': 'k', 'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y',
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
	// Armenian
	'օ': 'o', 'ս': 'u', 'ց': 'g', 'հ': 'h', 'ո': 'n', 'զ': 'q',
	// Cherokee
	'Ꭺ': 'A', 'Ᏼ': 'B', 'Ꮯ': 'C', 'Ꭼ': 'E', 'Ꮋ': 'H', 'Ꮶ': 'K', 'Ꮇ': 'M', 'Ꮲ': 'P', 'Ꮪ': 'S', 'Ꭲ': 'T', 'Ꮃ': 'W',
}
