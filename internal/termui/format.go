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

// IsTerminal reports whether w is a terminal, and its width in columns
// (80 when unknown).
func IsTerminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 80
	}
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
		return true, cols
	}
	return true, 80
}
