package main

import (
	"io"
	"sync"
	"time"

	"github.com/herald-lan/herald/internal/termui"
	"github.com/herald-lan/herald/push"
)

// jsonEvent is the --json form of a push event (docs/json.md).
type jsonEvent struct {
	Event   string   `json:"event"`
	Time    string   `json:"time"`
	Session string   `json:"session,omitempty"`
	Sender  string   `json:"sender,omitempty"`
	Name    string   `json:"name,omitempty"`
	Bytes   int64    `json:"bytes,omitempty"`
	Total   int64    `json:"total,omitempty"`
	RateBps float64  `json:"rate_bps,omitempty"`
	Loss    float64  `json:"loss,omitempty"`
	Repair  int64    `json:"repair_shards,omitempty"`
	Paths   []string `json:"paths,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func jsonEventOf(e push.Event) jsonEvent {
	j := jsonEvent{Event: e.Kind.String(), Time: jsonTime(e.Time), Session: e.Session, Sender: e.Sender,
		Name: e.Name, Bytes: e.Bytes, Total: e.Total, RateBps: e.Rate, Loss: e.Loss, Repair: e.Repair, Paths: e.Paths}
	if e.Err != nil {
		j.Error = e.Err.Error()
	}
	return j
}

// eventPrinter shows the events of push or receive, as text or JSON
// lines, and remembers what the end of a push needs: how much was sent,
// when the data started, and who joined. Safe for concurrent use: the
// receiving engine emits events from several sessions at once.
type eventPrinter struct {
	out  io.Writer // locked: JSON lines never interleave
	view *termui.Progress
	json bool

	mu        sync.Mutex
	sent      int64 // bytes sent once, from the last progress event
	total     int64
	dataStart time.Time         // first progress event: the data phase began
	joined    map[string]string // receiver fingerprint -> name (push side)
	started   chan struct{}     // closed at the first progress event
}

func newEventPrinter(w io.Writer, asJSON, sender bool) *eventPrinter {
	out := &lockedWriter{w: w}
	return &eventPrinter{out: out, view: termui.NewProgress(out, termui.TerminalOf(w), sender), json: asJSON,
		joined: map[string]string{}, started: make(chan struct{})}
}

// event is the engines' OnEvent.
func (p *eventPrinter) event(e push.Event) {
	p.mu.Lock()
	switch e.Kind {
	case push.EventProgress:
		if e.Name == "" {
			p.sent, p.total = e.Bytes, e.Total
			if p.dataStart.IsZero() {
				p.dataStart = e.Time
				close(p.started)
			}
		}
	case push.EventJoined:
		if e.Sender != "" {
			p.joined[e.Sender] = e.Name
		}
	}
	p.mu.Unlock()
	if p.json {
		writeJSON(p.out, jsonEventOf(e))
		return
	}
	p.view.Event(e)
}

// note prints a line of text for a person; JSON output has none.
func (p *eventPrinter) note(s string) {
	if !p.json {
		p.view.Line(s)
	}
}

// done ends the progress display.
func (p *eventPrinter) done() { p.view.Done() }

// progress is what the last progress event said, and when data began.
func (p *eventPrinter) progress() (sent, total int64, dataStart time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, p.total, p.dataStart
}

// joinedSet is a copy of the receivers that joined so far.
func (p *eventPrinter) joinedSet() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.joined))
	for k, v := range p.joined {
		out[k] = v
	}
	return out
}
