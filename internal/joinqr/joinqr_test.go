package joinqr

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

const code = "lab1-AS3N-N9TM-CD3M-R0M5-VXEV-C1GP-4RV4-CNK6-ET39-D9NP-RVBE-DZH6-VDR"

// TestSVGDrawsTheCode: the SVG's dark squares are exactly the dark
// modules of Encode, at the documented places, and the terminal drawing
// is of the same code.
func TestSVGDrawsTheCode(t *testing.T) {
	c, err := Encode(code)
	if err != nil {
		t.Fatal(err)
	}
	lower, _ := Encode(strings.ToLower(code))
	if !bytes.Equal(c.Bitmap, lower.Bitmap) {
		t.Fatal("case changes the code")
	}
	svg, err := SVG(code)
	if err != nil {
		t.Fatal(err)
	}
	drawn := map[string]bool{}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`).FindAllStringSubmatch(string(svg), -1) {
		drawn[m[1]+","+m[2]] = true
	}
	dark := 0
	for y := range c.Size {
		for x := range c.Size {
			at := fmt.Sprintf("%d,%d", x+svgQuiet, y+svgQuiet)
			if c.Black(x, y) != drawn[at] {
				t.Fatalf("module %d,%d: black %v, drawn %v", x, y, c.Black(x, y), drawn[at])
			}
			if c.Black(x, y) {
				dark++
			}
		}
	}
	if dark != len(drawn) || dark == 0 {
		t.Fatalf("%d dark modules, %d squares drawn", dark, len(drawn))
	}
	side := (c.Size + 2*svgQuiet) * ModulePixels
	if !strings.Contains(string(svg), fmt.Sprintf(`width="%d" height="%d"`, side, side)) {
		t.Fatalf("svg is not %d px square: %.120s", side, svg)
	}

	var term strings.Builder
	if err := Terminal(&term, code); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(term.String(), "\n"), "\n")
	if len(lines) != (c.Size+2*terminalQuiet+1)/2 {
		t.Fatalf("terminal drawing has %d lines for a %d-module code", len(lines), c.Size)
	}
	// Row 0 of the code is the top half of line 1 (after the quiet rows).
	row := []rune(lines[terminalQuiet/2])
	for x := range c.Size {
		r := row[x+terminalQuiet]
		topLight := r == '█' || r == '▀'
		if topLight == c.Black(x, 0) {
			t.Fatalf("terminal module %d,0 drawn %q, black %v", x, r, c.Black(x, 0))
		}
	}
}

func TestTooLong(t *testing.T) {
	if _, err := SVG(strings.Repeat("A", 5000)); err == nil {
		t.Fatal("a text too long for any QR code was drawn")
	}
	if err := Terminal(&strings.Builder{}, strings.Repeat("A", 5000)); err == nil {
		t.Fatal("a text too long for any QR code was drawn on the terminal")
	}
}
