// Package joinqr draws a channel's join code as a QR code: on a terminal
// (`herald channel new --qr`) and as SVG (the Channels panel of herald
// ui). Both draw the one Encode, so a phone scanning either reads the
// same code.
package joinqr

import (
	"fmt"
	"io"
	"strings"

	"rsc.io/qr"
)

// Quiet zones, in modules: the light border a scanner needs. The
// standard asks for 4; a terminal's dark background around a code drawn
// light-on-dark already reads as light, so 2 is enough there.
const (
	svgQuiet      = 4
	terminalQuiet = 2
	// ModulePixels is the SVG's width and height of one module.
	ModulePixels = 8
)

// Encode returns the QR code of a join code. Join codes are
// case-insensitive, so the text is upper-cased: QR's alphanumeric mode
// then makes a smaller code. Level M corrects about 15 % damage.
func Encode(code string) (*qr.Code, error) {
	return qr.Encode(strings.ToUpper(code), qr.M)
}

// Terminal draws code with half-block characters, two module rows per
// line, light modules drawn and dark ones left blank, as `qrencode -t
// UTF8` does for the usual dark terminal.
func Terminal(w io.Writer, code string) error {
	c, err := Encode(code)
	if err != nil {
		return err
	}
	light := func(x, y int) bool { return !c.Black(x, y) } // outside the code is light
	var b strings.Builder
	for y := -terminalQuiet; y < c.Size+terminalQuiet; y += 2 {
		for x := -terminalQuiet; x < c.Size+terminalQuiet; x++ {
			top, bottom := light(x, y), light(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// SVG draws code as an SVG image: black modules on white, with the
// standard quiet zone, ModulePixels per module. Module (x, y) of the
// code is the square at ((x+4)·8, (y+4)·8).
func SVG(code string) ([]byte, error) {
	c, err := Encode(code)
	if err != nil {
		return nil, err
	}
	side := (c.Size + 2*svgQuiet) * ModulePixels
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`,
		side, side, c.Size+2*svgQuiet, c.Size+2*svgQuiet)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`)
	for y := range c.Size {
		for x := range c.Size {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+svgQuiet, y+svgQuiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String()), nil
}
