package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/herald-lan/herald/internal/textsafe"
	"github.com/herald-lan/herald/protocol"
)

// writeJSON prints v as one line of JSON, with every character that
// could drive or mislead a terminal escaped as \uXXXX (docs/json.md).
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(textsafe.JSON(b), '\n'))
	return err
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
