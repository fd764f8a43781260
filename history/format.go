package history

import (
	"fmt"
	"strings"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/textsafe"
)

// Line is the one-message text line listen, chat and history print:
//
//	15:04:05 #class announce HIGH alice (K7QF-2MXA-9D3B-WZ4E-H6TN, trusted): text
//
// Every part that came off the wire is made safe for a terminal
// (textsafe), and the lines of a multi-line text after the first are
// indented.
func (e Entry) Line() string {
	var b strings.Builder
	b.WriteString(e.Time.Local().Format(time.TimeOnly))
	switch {
	case e.Kind == KindPrivate && e.Outgoing:
		b.WriteString(" private to")
	case e.Kind == KindPrivate:
		b.WriteString(" private")
	default:
		b.WriteString(" #" + textsafe.Line(e.Channel))
	}
	if e.Kind == KindAnnounce {
		b.WriteString(" announce")
	}
	if e.Priority {
		b.WriteString(" HIGH")
	}
	name, fp := e.Sender, e.Fingerprint
	if e.Kind == KindPrivate && e.Outgoing {
		name, fp = e.PeerName, e.Peer
	}
	if name == "" {
		name = "?"
	}
	fmt.Fprintf(&b, " %s (%s", textsafe.Name(name), fp)
	if !e.Outgoing {
		b.WriteString(", " + e.Trust)
		if e.Trust == identity.Changed.String() { // trust hook: say it loudly
			b.WriteString(": WARNING, not the trusted peer of that name")
		}
	}
	b.WriteString("): ")
	b.WriteString(strings.ReplaceAll(textsafe.Text(e.Text), "\n", "\n    "))
	return b.String()
}
