package termui

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/herald-lan/herald/internal/textsafe"
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
	// sessions is when each push being received started, for its own
	// rate and ETA rather than the process's; bounded by maxSessions.
	sessions map[string]time.Time
}

// maxSessions bounds Progress.sessions; past it the table starts afresh.
const maxSessions = 64

// NewProgress shows events on w, which is the terminal t describes (a
// bar) or not (lines); sender selects the pushing side's view.
func NewProgress(w io.Writer, t Terminal, sender bool) *Progress {
	tty, width := t.TTY, t.Width
	label := "receive"
	if sender {
		label = "push"
	}
	return &Progress{w: w, tty: tty, width: width, sender: sender, label: label, start: time.Now(), now: time.Now,
		sessions: map[string]time.Time{}}
}

// Event shows one push event. Every string that came off the wire is
// escaped for the terminal (textsafe).
func (v *Progress) Event(e push.Event) {
	switch e.Kind {
	case push.EventProgress:
		if e.Name != "" { // a note, e.g. resuming
			v.Line(textsafe.Line(e.Name))
			return
		}
		v.bar(e)
	case push.EventOffered:
		v.Line(fmt.Sprintf("push offered by %s (%s), %s", OrDash(textsafe.Name(e.Name)), e.Sender, HumanBytes(e.Total)))
	case push.EventRefused:
		v.Line(fmt.Sprintf("refused push from %s: %s", e.Sender, textsafe.Line(fmt.Sprint(e.Err))))
	case push.EventJoined:
		if v.sender {
			v.Line(fmt.Sprintf("receiver joined: %s (%s)", OrDash(textsafe.Name(e.Name)), e.Sender))
			return
		}
		v.mu.Lock()
		if len(v.sessions) >= maxSessions {
			clear(v.sessions)
		}
		v.sessions[e.Session] = v.now()
		v.mu.Unlock()
		v.Line("receiving " + HumanBytes(e.Total))
	case push.EventWaiting:
		v.Line(WaitingLine(e))
	case push.EventComplete:
		paths := make([]string, len(e.Paths))
		for i, p := range e.Paths {
			paths[i] = textsafe.Line(p)
		}
		v.Line("complete: " + OrDash(strings.Join(paths, ", ")) + ForgedNote(e))
		if e.Name != "" {
			v.Line("  " + textsafe.Line(e.Name))
		}
	case push.EventFailed:
		v.Line("failed: " + textsafe.Line(fmt.Sprint(e.Err)) + ForgedNote(e))
	}
}

// WaitingLine is "waiting: 1 of 3 joined; missing stu-s2, stu-s3" (or
// "2 more needed" when the missing have no names: --min-receivers).
func WaitingLine(e push.Event) string {
	missing := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		missing[i] = textsafe.Name(m)
	}
	if len(missing) > 0 {
		return fmt.Sprintf("waiting: %d of %d joined; missing %s", e.Bytes, e.Total, strings.Join(missing, ", "))
	}
	return fmt.Sprintf("waiting: %d of %d joined; %d more needed", e.Bytes, e.Total, max(e.Total-e.Bytes, 0))
}

// ForgedNote says, when anything was, how many datagrams a receiver
// refused as forged or malformed and how many blocks forged shards spoiled.
func ForgedNote(e push.Event) string {
	if e.Rejected == 0 && e.Injected == 0 {
		return ""
	}
	return fmt.Sprintf(" (refused %d forged/malformed datagrams, %d blocks spoiled by forged shards)", e.Rejected, e.Injected)
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
	start := v.start
	if t, ok := v.sessions[e.Session]; ok {
		start = t // rate and ETA of this push, not of the process
	}
	elapsed := now.Sub(start).Seconds()
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
	stats += ForgedNote(e)
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
