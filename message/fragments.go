package message

import (
	"crypto/rand"
	"fmt"
	"unicode/utf8"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/protocol"
)

// parityFor is how many parity fragments a message of k data fragments
// gets: one always (so one lost datagram loses nothing), plus one per
// four data fragments for longer messages.
func parityFor(k int) int { return 1 + k/4 }

// encoded is a message cut into fragments, ready to be sealed and sent
// any number of times. Read-only once made.
type encoded struct {
	frag      protocol.Fragment // Index left 0; N set
	fragments [][]byte          // N fragments of frag.Size() bytes: data, then parity
}

// CheckText reports whether text can be sent as a message: 1 to
// protocol.MaxMessageLen bytes of UTF-8.
func CheckText(text string) error {
	switch {
	case len(text) == 0:
		return ErrEmpty
	case len(text) > protocol.MaxMessageLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(text), protocol.MaxMessageLen)
	case !utf8.ValidString(text):
		return ErrNotText
	}
	return nil
}

func newMessageID() protocol.MessageID {
	var id protocol.MessageID
	if _, err := rand.Read(id[:]); err != nil {
		panic("message: no randomness: " + err.Error())
	}
	return id
}

// encode cuts text into its data fragments and computes the parity.
func encode(id protocol.MessageID, text []byte) (*encoded, error) {
	frag := protocol.FragmentFor(id, len(text))
	k, size := int(frag.K), frag.Size()
	frag.N = byte(k + parityFor(k))
	code, err := fec.New(k, size)
	if err != nil {
		return nil, fmt.Errorf("message: fec: %w", err)
	}
	buf := make([]byte, int(frag.N)*size)
	copy(buf, text)
	fragments := make([][]byte, frag.N)
	for i := range fragments {
		fragments[i] = buf[i*size : (i+1)*size : (i+1)*size]
	}
	if err := code.Parity(fragments[:k], k, fragments[k:]); err != nil {
		return nil, fmt.Errorf("message: fec parity: %w", err)
	}
	return &encoded{frag: frag, fragments: fragments}, nil
}
