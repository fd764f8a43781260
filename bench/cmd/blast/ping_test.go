package main

import (
	"errors"
	"testing"
	"time"
)

func TestPingRoundTrip(t *testing.T) {
	tests := []ping{
		{seq: 0, count: 1, sent: 1},
		{seq: 149, count: 150, sent: time.Unix(1795321048, 153322146).UnixNano()},
		{seq: maxPings - 1, count: maxPings, sent: 1<<63 - 1},
	}
	for _, p := range tests {
		b := make([]byte, pingLen+10)
		for i := range b {
			b[i] = 0xee // put must not depend on a zeroed buffer
		}
		p.put(b)
		got, err := parsePing(b)
		if err != nil || got != p {
			t.Errorf("parsePing(put(%+v)) = %+v, %v", p, got, err)
		}
	}
}

func TestPingRejects(t *testing.T) {
	valid := make([]byte, pingLen)
	ping{seq: 1, count: 2, sent: 1e18}.put(valid)
	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), valid...)
		f(b)
		return b
	}
	data := make([]byte, pingLen)
	header{kind: kindData, seq: 1, total: 2}.put(data)
	tests := []struct {
		name string
		b    []byte
	}{
		{"truncated", valid[:pingLen-1]},
		{"bad magic", mutate(func(b []byte) { b[1] = 'X' })},
		{"blast data", data},
		{"seq beyond count", mutate(func(b []byte) { b[offSeq+3] = 2 })},
		{"zero count", mutate(func(b []byte) { clear(b[offTotal : offTotal+4]) })},
		{"count too large", mutate(func(b []byte) { copy(b[offTotal:], []byte{0xff, 0xff, 0xff, 0xff}) })},
		{"no send time", mutate(func(b []byte) { clear(b[offSentNano:]) })},
		{"negative send time", mutate(func(b []byte) { b[offSentNano] = 0x80 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parsePing(tt.b); !errors.Is(err, errNotBlast) {
				t.Fatalf("parsePing = %v, want errNotBlast", err)
			}
		})
	}
}

// TestPingNotBlastData: a blast receiver on the same group must not count
// a ping as data.
func TestPingNotBlastData(t *testing.T) {
	b := make([]byte, pingLen)
	ping{seq: 0, count: 3, sent: 1}.put(b)
	if _, err := parseHeader(b); !errors.Is(err, errNotBlast) {
		t.Fatalf("parseHeader(ping) = %v, want errNotBlast", err)
	}
}

func TestPingLineLatency(t *testing.T) {
	sent := time.Unix(100, 0)
	l := newPingLine(ping{seq: 7, count: 9, sent: sent.UnixNano()}, sent.Add(1234567*time.Nanosecond))
	if l.Seq != 7 || l.LatencyMS != 1.234567 || l.RecvNS-l.SentNS != 1234567 {
		t.Fatalf("newPingLine = %+v", l)
	}
}
