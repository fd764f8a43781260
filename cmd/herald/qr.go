package main

import (
	"fmt"
	"io"
	"strings"

	"rsc.io/qr"
)

// qrQuiet is the light border a scanner needs around the code, in modules.
const qrQuiet = 2

// printQR draws text as a QR code with half-block characters, two module
// rows per line, light modules drawn and dark ones left blank, as
// `qrencode -t UTF8` does for the usual dark terminal. Join codes are
// case-insensitive, so the text is upper-cased: QR's alphanumeric mode
// then makes a smaller code.
func printQR(w io.Writer, text string) {
	code, err := qr.Encode(strings.ToUpper(text), qr.M)
	if err != nil {
		fmt.Fprintf(w, "(no QR code: %v)\n", err)
		return
	}
	light := func(x, y int) bool { return !code.Black(x, y) } // outside the code is light
	var b strings.Builder
	for y := -qrQuiet; y < code.Size+qrQuiet; y += 2 {
		for x := -qrQuiet; x < code.Size+qrQuiet; x++ {
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
	io.WriteString(w, b.String())
}
