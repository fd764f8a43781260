package termui

import (
	"bytes"
	"strings"
	"testing"
)

func TestLineEditor(t *testing.T) {
	cases := []struct {
		name   string
		input  string
		line   string // left in the editor
		submit []string
		quit   bool
	}{
		{name: "typing", input: "hello", line: "hello"},
		{name: "enter submits", input: "hi\rthere", line: "there", submit: []string{"hi"}},
		{name: "backspace", input: "helo\x7f\x7fllo", line: "hello"},
		{name: "backspace on empty", input: "\x7fa", line: "a"},
		{name: "multi-byte runes", input: "grüß ✓\x7f", line: "grüß "},
		{name: "ctrl-u clears", input: "oops\x15ok", line: "ok"},
		{name: "arrow keys skipped", input: "a\x1b[Db\x1bOAc\x1b[1;5Cd", line: "abcd"},
		{name: "other controls ignored", input: "a\x07\tb", line: "ab"},
		{name: "ctrl-c quits", input: "abc\x03", line: "abc", quit: true},
		{name: "ctrl-d on empty quits", input: "\x04", quit: true},
		{name: "ctrl-d with text ignored", input: "x\x04", line: "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ed := lineEditor{max: 64 << 10}
			var line []rune
			var submitted []string
			quit := false
			for _, b := range []byte(c.input) {
				switch ed.feed(b, &line) {
				case editSubmit:
					submitted = append(submitted, string(line))
					line = line[:0]
				case editQuit:
					quit = true
				}
				if quit {
					break
				}
			}
			if string(line) != c.line || strings.Join(submitted, "|") != strings.Join(c.submit, "|") || quit != c.quit {
				t.Fatalf("line %q submitted %q quit %v; want %q %q %v", string(line), submitted, quit, c.line, c.submit, c.quit)
			}
		})
	}
	t.Run("line bounded", func(t *testing.T) {
		ed := lineEditor{max: 64 << 10}
		var line []rune
		for range 70_000 {
			ed.feed('x', &line)
		}
		if len(line) != 64<<10 {
			t.Fatalf("line grew to %d runes", len(line))
		}
	})
}

// TestScreenRedraw: a message printed while a line is being typed goes
// above it, and the typed line is redrawn intact (its end, if too wide).
func TestScreenRedraw(t *testing.T) {
	var out bytes.Buffer
	ui := &Screen{raw: true, out: &out, prompt: "> ", width: func() int { return 12 }}
	ui.line = []rune("draft")
	ui.Println("09:00 a: hi\nsecond")
	want := "\r\x1b[K09:00 a: hi\r\nsecond\r\n\r\x1b[K> draft"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
	out.Reset()
	ui.line = []rune("a very long draft")
	ui.redraw()
	if got := out.String(); got != "\r\x1b[K> ong draft" { // 12 columns: prompt, 9 runes, cursor
		t.Fatalf("wide line drawn as %q", got)
	}
}
