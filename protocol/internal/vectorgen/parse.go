package vectorgen

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Datagram is one "datagram" line of a chained vector.
type Datagram struct {
	Seq         int
	From, Group string
	Label       string
	Bytes       []byte
}

// Chain is a parsed chained vector file.
type Chain struct {
	Values    map[string][]byte
	Datagrams []Datagram
}

// Find returns the first datagram from a sender with a label.
func (c *Chain) Find(from, label string) (Datagram, bool) {
	for _, d := range c.Datagrams {
		if d.From == from && d.Label == label {
			return d, true
		}
	}
	return Datagram{}, false
}

// Parse reads a chained vector file; file lines are skipped (they are
// for people and for replays that check the files they wrote).
func Parse(b []byte) (*Chain, error) {
	c := &Chain{Values: map[string][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0 || f[0] == "#" || f[0] == "file":
		case f[0] == "value" && len(f) == 3:
			v, err := hex.DecodeString(f[2])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			c.Values[f[1]] = v
		case f[0] == "datagram" && len(f) == 6:
			seq, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			v, err := hex.DecodeString(f[5])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			c.Datagrams = append(c.Datagrams, Datagram{Seq: seq, From: f[2], Group: f[3], Label: f[4], Bytes: v})
		default:
			return nil, fmt.Errorf("line %d: unknown line %q", n, f[0])
		}
	}
	return c, sc.Err()
}
