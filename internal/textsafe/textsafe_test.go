package textsafe

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"report.txt", "report.txt"},
		{"report\u202etxt.exe", `report\u202etxt.exe`},
		{"a\u2066b\u2069c", `a\u2066b\u2069c`},
		{"tea\u200bcher", `tea\u200bcher`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"c1\u009bcsi", `c1\u009bcsi`},
		{"two\nlines\ttab\r", `two\nlines\ttab\r`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"tag\U000E0041", `tag\ue0041`},
		{"Müller 日本", "Müller 日本"},
		{"C:\\path", "C:\\path"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, r := range Line(tc.in) {
			if Hidden(r) {
				t.Errorf("Line(%q) still holds %U", tc.in, r)
			}
		}
	}
	if got := Text("hi\n\tthere\u202e"); got != "hi\n\tthere\\u202e" {
		t.Errorf("Text kept/escaped wrong: %q", got)
	}
}

func TestLookalike(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"teacher", false},
		{"student01@lab-pc", false},
		{"Müller", false},
		{"Иван", false},
		{"山田 Taro", false},
		{"やまだ 山田 Yamada", false},
		{"tеacher", true}, // Cyrillic е
		{"теасһер", true}, // all Cyrillic, all imitating
		{"tea\u200bcher", true},
		{"ΑΒΓ", false},    // Greek Γ imitates nothing
		{"ΑΒΕ", true},     // all imitating Latin
		{"한글 ひらがな", true}, // Hangul with kana is not an allowed mix
	} {
		if got := Lookalike(tc.name); got != tc.want {
			t.Errorf("Lookalike(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !strings.HasSuffix(Name("tеacher"), "(lookalike)") || Name("teacher") != "teacher" {
		t.Error("Name marks wrongly")
	}
}

func TestJSON(t *testing.T) {
	in := map[string]string{"name": "report\u202etxt.exe \u0085 \u200d \U000E0041 ok é"}
	raw, _ := json.Marshal(in)
	out := JSON(raw)
	for _, r := range string(out) {
		if Hidden(r) {
			t.Fatalf("JSON output holds raw %U: %s", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["name"] != in["name"] {
		t.Fatalf("JSON changed the value: %v %q", err, back["name"])
	}
	if clean := []byte(`{"a":"b"}`); &JSON(clean)[0] != &clean[0] {
		t.Error("clean JSON copied")
	}
}

func FuzzLine(f *testing.F) {
	f.Add("report\u202etxt.exe\x1b\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Line(s) {
			if Hidden(r) || r == '\n' {
				t.Fatalf("Line(%q) holds %U", s, r)
			}
		}
		raw, err := json.Marshal(s)
		if err != nil {
			return
		}
		var back string
		if err := json.Unmarshal(JSON(raw), &back); err != nil {
			t.Fatalf("JSON broke %q: %v", s, err)
		}
	})
}
