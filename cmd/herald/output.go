package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

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
