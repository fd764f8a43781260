package termui

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/herald-lan/herald/push"
)

// Progress shows push events to a person: a bar redrawn in place on a
// terminal, a plain line per second otherwise. It is safe for concurrent
// use: a receiver emits events from several sessions at once, and every
// write (bar, line, the final newline) happens under one lock.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	width    int
	sender   bool // the pushing side: rate from the engine, repair shards shown
	label    string
	start    time.Time
	lastLine time.Time
	barShown bool // a bar is drawn on the current terminal line
	now      func() time.Time
}

// NewProgress shows events on w, which is the terminal t describes (a
// bar) or not (lines); sender selects the pushing side's view.
func NewProgress(w io.Writer, t Terminal, sender bool) *Progress {
	tty, width := t.TTY, t.Width
	label := "receive"
	if sender {
		label = "push"
	}
	return &Progress{w: w, tty: tty, width: width, sender: sender, label: label, start: time.Now(), now: time.Now}
}

// Event shows one push event.
func (v *Progress) Event(e push.Event) {
	switch e.Kind {
	case push.EventProgress:
		if e.Name != "" { // a note, e.g. resuming
			v.Line(e.Name)
			return
		}
		v.bar(e)
	case push.EventOffered:
		v.Line(fmt.Sprintf("push offered by %s (%s), %s", OrDash(e.Name), e.Sender, HumanBytes(e.Total)))
	case push.EventRefused:
		v.Line(fmt.Sprintf("refused push from %s: %v", e.Sender, e.Err))
	case push.EventJoined:
		if v.sender {
			v.Line(fmt.Sprintf("receiver joined: %s (%s)", OrDash(e.Name), e.Sender))
		} else {
			v.Line("receiving " + HumanBytes(e.Total))
		}
	case push.EventComplete:
		v.Line("complete: " + strings.Join(e.Paths, ", "))
	case push.EventFailed:
		v.Line(fmt.Sprintf("failed: %v", e.Err))
	}
}

// Line prints s on a line of its own, clearing a bar drawn before.
func (v *Progress) Line(s string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.barShown {
		fmt.Fprint(v.w, "\r\033[K")
		v.barShown = false
	}
	fmt.Fprintln(v.w, s)
}

// Done ends a bar line on a terminal, so what follows starts on a line
// of its own.
func (v *Progress) Done() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.barShown {
		fmt.Fprintln(v.w)
		v.barShown = false
	}
}

// bar draws "label [#####.....]  42%  12.0 MiB/28.0 MiB  95.1 Mbit/s  ETA 3s  loss 5.0%  repair 120".
func (v *Progress) bar(e push.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	frac := 0.0
	if e.Total > 0 {
		frac = min(1, float64(e.Bytes)/float64(e.Total))
	}
	elapsed := now.Sub(v.start).Seconds()
	rate := e.Rate
	if !v.sender && elapsed > 0 {
		rate = float64(e.Bytes) * 8 / elapsed
	}
	eta := "-"
	if frac > 0 && frac < 1 {
		eta = (time.Duration(elapsed/frac*(1-frac)) * time.Second).Round(time.Second).String()
	}
	stats := fmt.Sprintf(" %3.0f%% %s/%s %s ETA %s loss %.1f%%", frac*100, HumanBytes(e.Bytes), HumanBytes(e.Total), HumanRate(rate), eta, e.Loss*100)
	if v.sender {
		stats += fmt.Sprintf(" repair %d", e.Repair)
	}
	if !v.tty {
		if now.Sub(v.lastLine) >= time.Second {
			v.lastLine = now
			fmt.Fprintln(v.w, v.label+stats)
		}
		return
	}
	cells := v.width - len(v.label) - len(stats) - 4
	bar := ""
	if cells >= 5 {
		done := int(frac * float64(cells))
		bar = " [" + strings.Repeat("#", done) + strings.Repeat(".", cells-done) + "]"
	}
	out := v.label + bar + stats
	if len(out) > v.width-1 {
		out = out[:v.width-1]
	}
	fmt.Fprint(v.w, "\r\033[K"+out)
	v.barShown = true
}
