package history

import (
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 14, 3, 0, time.Local)
	cases := []struct {
		name string
		e    Entry
		want string
	}{
		{"chat", Entry{Time: at, Kind: "chat", Channel: "lab", Sender: "bob", Fingerprint: "FP", Trust: "trusted", Text: "hi"},
			"09:14:03 #lab bob (FP, trusted): hi"},
		{"announce high", Entry{Time: at, Kind: "announce", Channel: "open", Priority: true, Fingerprint: "FP", Trust: "unknown", Text: "fire drill"},
			"09:14:03 #open announce HIGH ? (FP, unknown): fire drill"},
		{"private in", Entry{Time: at, Kind: "private", Sender: "al", Fingerprint: "FP", Trust: "seen", Text: "psst"},
			"09:14:03 private al (FP, seen): psst"},
		{"private out", Entry{Time: at, Kind: "private", Outgoing: true, Sender: "me", PeerName: "al", Peer: "PF", Text: "psst"},
			"09:14:03 private to al (PF): psst"},
		{"escapes and bidi made inert", Entry{Time: at, Kind: "chat", Channel: "x", Sender: "e\x1b[2Jvil", Fingerprint: "FP", Trust: "seen", Text: "a\x1b[31mb\u202ec\x07"},
			"09:14:03 #x e\\x1b[2Jvil (lookalike) (FP, seen): a\\x1b[31mb\\u202ec\\x07"},
		{"multi-line indented", Entry{Time: at, Kind: "chat", Channel: "x", Sender: "s", Fingerprint: "FP", Trust: "seen", Text: "one\ntwo"},
			"09:14:03 #x s (FP, seen): one\n    two"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.Line(); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
