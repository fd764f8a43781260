// Package termui holds what herald shows a person on a terminal: the
// push progress bar, the chat screen with its line editor, and the
// formatting of sizes and rates. It decides nothing about flags or exit
// codes; cmd/herald wires it to the commands.
package termui

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// HumanBytes formats n with binary units: 512 B, 1.5 KiB, 19.1 MiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// HumanRate formats a rate in bit/s.
func HumanRate(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.2f Gbit/s", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.1f Mbit/s", bps/1e6)
	}
	return fmt.Sprintf("%.0f kbit/s", bps/1e3)
}

// OrDash is s, or "-" when s is empty (a table cell never left blank).
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Terminal is what a view needs to know about where it writes.
type Terminal struct {
	TTY   bool // a terminal: lines may be redrawn in place
	Width int  // columns (80 when unknown)
}

// TerminalOf describes w. Ask it of the file itself, before wrapping it
// (in a lock, say): a wrapper is never a terminal.
func TerminalOf(w io.Writer) Terminal {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Terminal{Width: 80}
	}
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
		return Terminal{TTY: true, Width: cols}
	}
	return Terminal{TTY: true, Width: 80}
}
