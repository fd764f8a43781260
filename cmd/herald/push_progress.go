package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/herald-lan/herald/push"
)

// progressView shows push events to a person: a bar redrawn in place on
// a terminal, a plain line per second otherwise, or JSON lines.
type progressView struct {
	mu       sync.Mutex           // events come from several sessions at once
	sessions map[string]time.Time // receive: when each push started, for its rate and ETA
	w        io.Writer
	json     bool
	tty      bool
	width    int
	lastLine time.Time
	label    string
	start    time.Time
}

func newProgressView(w io.Writer, json bool, label string) *progressView {
	v := &progressView{w: w, json: json, label: label, start: time.Now(), width: 80}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		v.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			v.width = cols
		}
	}
	return v
}

// jsonEvent is the --json form of a push event (README, "JSON output").
type jsonEvent struct {
	Event   string  `json:"event"`
	Time    string  `json:"time"`
	Session string  `json:"session,omitempty"`
	Sender  string  `json:"sender,omitempty"`
	Name    string  `json:"name,omitempty"`
	Bytes   int64   `json:"bytes,omitempty"`
	Total   int64   `json:"total,omitempty"`
	RateBps float64 `json:"rate_bps,omitempty"`
	Loss    float64 `json:"loss,omitempty"`
	Repair  int64   `json:"repair_shards,omitempty"`
	// Rejected and Injected (receive): datagrams refused as forged or
	// malformed, and blocks rebuilt from forged shards (push.Event).
	Rejected int64    `json:"rejected,omitempty"`
	Injected int64    `json:"injected,omitempty"`
	Paths    []string `json:"paths,omitempty"`
	Error    string   `json:"error,omitempty"`
}

func (v *progressView) event(e push.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.Kind == push.EventJoined && e.Session != "" && v.label != "push" {
		if v.sessions == nil {
			v.sessions = map[string]time.Time{}
		}
		if len(v.sessions) > 64 {
			clear(v.sessions)
		}
		v.sessions[e.Session] = time.Now()
	}
	if v.json {
		j := jsonEvent{Event: e.Kind.String(), Time: e.Time.Format(time.RFC3339Nano), Session: e.Session, Sender: e.Sender,
			Name: e.Name, Bytes: e.Bytes, Total: e.Total, RateBps: e.Rate, Loss: e.Loss, Repair: e.Repair, Paths: e.Paths,
			Rejected: e.Rejected, Injected: e.Injected}
		if e.Err != nil {
			j.Error = e.Err.Error()
		}
		writeJSON(v.w, j)
		return
	}
	switch e.Kind {
	case push.EventProgress:
		if e.Name != "" { // a note, e.g. resuming
			v.line(safeLine(e.Name))
			return
		}
		v.bar(e)
	case push.EventOffered:
		v.line(fmt.Sprintf("push offered by %s (%s), %s", orDash(safeName(e.Name)), e.Sender, humanBytes(e.Total)))
	case push.EventRefused:
		v.line(fmt.Sprintf("refused push from %s: %s", e.Sender, safeLine(fmt.Sprint(e.Err))))
	case push.EventJoined:
		if e.Sender != "" && v.label == "push" {
			v.line(fmt.Sprintf("receiver joined: %s (%s)", orDash(safeName(e.Name)), e.Sender))
		} else {
			v.line("receiving " + humanBytes(e.Total))
		}
	case push.EventComplete:
		paths := make([]string, len(e.Paths))
		for i, p := range e.Paths {
			paths[i] = safeLine(p)
		}
		v.line(fmt.Sprintf("complete: %s%s", orDash(strings.Join(paths, ", ")), forgedNote(e)))
		if e.Name != "" {
			v.line("  " + safeLine(e.Name))
		}
	case push.EventFailed:
		v.line(fmt.Sprintf("failed: %s%s", safeLine(fmt.Sprint(e.Err)), forgedNote(e)))
	}
}

func (v *progressView) line(s string) {
	if v.tty {
		fmt.Fprint(v.w, "\r\033[K")
	}
	fmt.Fprintln(v.w, s)
}

// bar draws "label [#####.....]  42%  12.0 MiB/28.0 MiB  95.1 Mbit/s  ETA 3s  loss 5.0%  repair 120".
func (v *progressView) bar(e push.Event) {
	frac := 0.0
	if e.Total > 0 {
		frac = min(1, float64(e.Bytes)/float64(e.Total))
	}
	start := v.start
	if t, ok := v.sessions[e.Session]; ok {
		start = t // rate and ETA of this push, not of the process
	}
	elapsed := time.Since(start).Seconds()
	rate := e.Rate
	if v.label != "push" && elapsed > 0 {
		rate = float64(e.Bytes) * 8 / elapsed
	}
	eta := "-"
	if frac > 0 && frac < 1 {
		eta = (time.Duration(elapsed/frac*(1-frac)) * time.Second).Round(time.Second).String()
	}
	stats := fmt.Sprintf(" %3.0f%% %s/%s %s ETA %s loss %.1f%%", frac*100, humanBytes(e.Bytes), humanBytes(e.Total), humanRate(rate), eta, e.Loss*100)
	if v.label == "push" {
		stats += fmt.Sprintf(" repair %d", e.Repair)
	}
	stats += forgedNote(e)
	if !v.tty {
		if time.Since(v.lastLine) >= time.Second {
			v.lastLine = time.Now()
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
}

// forgedNote says, when anything was, how many datagrams a receiver
// refused as forged or malformed and how many blocks forged shards spoiled.
func forgedNote(e push.Event) string {
	if e.Rejected == 0 && e.Injected == 0 {
		return ""
	}
	return fmt.Sprintf(" (refused %d forged/malformed datagrams, %d blocks spoiled by forged shards)", e.Rejected, e.Injected)
}

// done ends a bar line on a terminal.
func (v *progressView) done() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tty && !v.json {
		fmt.Fprintln(v.w)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
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

func humanRate(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.2f Gbit/s", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.1f Mbit/s", bps/1e6)
	}
	return fmt.Sprintf("%.0f kbit/s", bps/1e3)
}
