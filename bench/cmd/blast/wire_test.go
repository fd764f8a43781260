package main

import (
	"errors"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []header{
		{kind: kindData, seq: 0, total: 1},
		{kind: kindData, seq: 41, total: 42},
		{kind: kindEnd, seq: 0, total: maxDatagrams},
	}
	for _, h := range tests {
		b := make([]byte, headerLen)
		h.put(b)
		got, err := parseHeader(b)
		if err != nil || got != h {
			t.Errorf("parseHeader(put(%+v)) = %+v, %v", h, got, err)
		}
	}
}

func TestHeaderRejects(t *testing.T) {
	valid := make([]byte, headerLen)
	header{kind: kindData, seq: 1, total: 2}.put(valid)
	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), valid...)
		f(b)
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"truncated", valid[:headerLen-1]},
		{"bad magic", mutate(func(b []byte) { b[0] = 'X' })},
		{"unknown kind", mutate(func(b []byte) { b[offKind] = 9 })},
		{"seq beyond total", mutate(func(b []byte) { b[offSeq+3] = 2 })},
		{"zero total", mutate(func(b []byte) { copy(b[offTotal:], []byte{0, 0, 0, 0}) })},
		{"total too large", mutate(func(b []byte) { copy(b[offTotal:], []byte{0xff, 0xff, 0xff, 0xff}) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseHeader(tt.b); !errors.Is(err, errNotBlast) {
				t.Fatalf("parseHeader = %v, want errNotBlast", err)
			}
		})
	}
}

func TestParseGroupOnlyAdminScoped(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"239.255.77.9:7709", true},
		{"239.0.0.1:1", true},
		{"224.0.0.1:7709", false},
		{"232.1.2.3:7709", false},
		{"198.18.0.2:7709", false},
		{"8.8.8.8:53", false},
		{"239.255.77.9", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if _, err := parseGroup(tt.in); (err == nil) != tt.ok {
				t.Fatalf("parseGroup(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}
