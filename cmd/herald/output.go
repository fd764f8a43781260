package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/internal/termui"
	"github.com/herald-lan/herald/internal/textsafe"
	"github.com/herald-lan/herald/protocol"
)

// jsonKinded is a --json object that does not carry its own `kind` or
// `event` field: writeJSON puts `kind` (this name) and `time` (when it
// was printed) before its fields, so every line a script reads starts
// the same way (docs/json.md).
type jsonKinded interface{ jsonKind() string }

func (idJSON) jsonKind() string         { return "identity" }
func (peerRow) jsonKind() string        { return "peer" }
func (channelJSON) jsonKind() string    { return "channel" }
func (configEntry) jsonKind() string    { return "setting" }
func (configPathJSON) jsonKind() string { return "config_path" }
func (versionJSON) jsonKind() string    { return "version" }

// writeJSON prints v as one line of JSON, with every character that
// could drive or mislead a terminal escaped as \uXXXX (docs/json.md). A
// jsonKinded v gets `kind` and `time` first; the stream types (push
// events, messages) have their own.
func writeJSON(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if k, ok := v.(jsonKinded); ok {
		head, _ := json.Marshal(struct {
			Kind string `json:"kind"`
			Time string `json:"time"`
		}{k.jsonKind(), time.Now().UTC().Format(time.RFC3339Nano)})
		if !bytes.Equal(body, []byte("{}")) {
			head = append(head[:len(head)-1], ',')
			body = append(head, body[1:]...)
		} else {
			body = head
		}
	}
	_, err = w.Write(append(textsafe.JSON(body), '\n'))
	return err
}

// stopHint is "; Ctrl-C to stop" for a person at a terminal, and
// nothing in a service's log, where no one can press it.
func stopHint(c *cli.Context) string {
	if termui.TerminalOf(c.App.ErrWriter).TTY {
		return "; Ctrl-C to stop"
	}
	return ""
}

// jsonTime is how every time in --json output is written.
func jsonTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// lockedWriter serialises whole writes from several goroutines (receive
// prints events of concurrent pushes), so JSON lines never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// safeName shows a peer's name: escaped (textsafe.Line), marked when it
// looks like another (textsafe.Lookalike).
func safeName(s string) string { return textsafe.Name(s) }

// safeLine shows one line from the wire (a path, a channel, a reason).
func safeLine(s string) string { return textsafe.Line(s) }

// ago says how long before now t was, rounded for people.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	}
	return t.Format(time.DateTime)
}

// offerNames lists protocol.Offer* bits by name.
func offerNames(offers byte) []string {
	names := []string{}
	for _, o := range []struct {
		bit  byte
		name string
	}{{protocol.OfferReceive, "receive"}, {protocol.OfferListen, "listen"}, {protocol.OfferPush, "push"}} {
		if offers&o.bit != 0 {
			names = append(names, o.name)
		}
	}
	return names
}
