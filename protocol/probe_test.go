package protocol

import (
	"errors"
	"testing"
)

// Every truncation of a probe body is refused; padding survives a round
// trip; unknown kinds and paths are refused by name.
func TestParseProbe(t *testing.T) {
	p := Probe{Kind: ProbeData, Path: ProbePathMulticast, Count: 7, Padding: []byte{1, 2, 3}}
	b := p.AppendBinary(nil)
	if len(b) != p.Len() {
		t.Fatalf("Len %d, encoded %d", p.Len(), len(b))
	}
	for i := range probeFixedLen {
		if _, err := ParseProbe(b[:i]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", i)
		}
	}
	got, err := ParseProbe(b)
	if err != nil || got.Count != 7 || string(got.Padding) != "\x01\x02\x03" {
		t.Fatalf("ParseProbe = %+v, %v", got, err)
	}
	for _, bad := range []Probe{{Kind: 0, Path: 1}, {Kind: 4, Path: 1}, {Kind: 1, Path: 0}, {Kind: 1, Path: 3}} {
		if _, err := ParseProbe(bad.AppendBinary(nil)); !errors.Is(err, ErrField) {
			t.Errorf("%+v: err %v, want ErrField", bad, err)
		}
	}
}
