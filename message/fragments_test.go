package message

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/protocol"
)

// TestEncodeSurvivesLoss drops as many fragments as there is parity, in
// several patterns, and rebuilds every message length class.
func TestEncodeSurvivesLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lengths := []int{1, 100, protocol.MaxFragmentSize, protocol.MaxFragmentSize + 1, 5000, protocol.MaxMessageLen}
	for _, length := range lengths {
		text := make([]byte, length)
		for i := range text {
			text[i] = byte('a' + rng.IntN(26))
		}
		enc, err := encode(protocol.MessageID{1}, text)
		if err != nil {
			t.Fatal(err)
		}
		k, n := int(enc.frag.K), int(enc.frag.N)
		if n-k != parityFor(k) || len(enc.fragments) != n {
			t.Fatalf("length %d: k %d n %d fragments %d", length, k, n, len(enc.fragments))
		}
		patterns := map[string]func(i int) bool{
			"no loss":         func(int) bool { return false },
			"first data lost": func(i int) bool { return i < n-k },
			"last data lost":  func(i int) bool { return i >= k-(n-k) && i < k },
			"parity lost":     func(i int) bool { return i >= k },
		}
		for name, lost := range patterns {
			code, _ := fec.New(k, enc.frag.Size())
			asm := code.NewAssembler()
			for i, f := range enc.fragments {
				if !lost(i) {
					asm.Add(i, f)
				}
			}
			block, err := asm.Block()
			if err != nil {
				t.Fatalf("length %d, %s: %v", length, name, err)
			}
			if !bytes.Equal(block[:length], text) {
				t.Fatalf("length %d, %s: rebuilt text differs", length, name)
			}
		}
	}
}

func TestCheckText(t *testing.T) {
	cases := []struct {
		name string
		text string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"too long", strings.Repeat("x", protocol.MaxMessageLen+1), ErrTooLong},
		{"not utf-8", "a\xffb", ErrNotText},
		{"longest", strings.Repeat("x", protocol.MaxMessageLen), nil},
		{"unicode", "grüß dich ✓", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := CheckText(c.text); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}
