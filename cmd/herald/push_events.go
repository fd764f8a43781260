package main

import (
	"io"

	"github.com/herald-lan/herald/internal/termui"
	"github.com/herald-lan/herald/push"
)

// jsonEvent is the --json form of a push event (docs/json.md).
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
	Missing  []string `json:"missing,omitempty"`
	Error    string   `json:"error,omitempty"`
}

func jsonEventOf(e push.Event) jsonEvent {
	j := jsonEvent{Event: e.Kind.String(), Time: jsonTime(e.Time), Session: e.Session, Sender: e.Sender,
		Name: e.Name, Bytes: e.Bytes, Total: e.Total, RateBps: e.Rate, Loss: e.Loss, Repair: e.Repair, Paths: e.Paths,
		Rejected: e.Rejected, Injected: e.Injected, Missing: e.Missing}
	if e.Err != nil {
		j.Error = e.Err.Error()
	}
	return j
}

// eventPrinter shows the events of push or receive, as text or JSON
// lines. Safe for concurrent use: the receiving engine emits events from
// several sessions at once.
type eventPrinter struct {
	out  io.Writer // locked: JSON lines never interleave
	view *termui.Progress
	json bool
}

func newEventPrinter(w io.Writer, asJSON, sender bool) *eventPrinter {
	out := &lockedWriter{w: w}
	return &eventPrinter{out: out, view: termui.NewProgress(out, termui.TerminalOf(w), sender), json: asJSON}
}

// event is the engines' OnEvent.
func (p *eventPrinter) event(e push.Event) {
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
