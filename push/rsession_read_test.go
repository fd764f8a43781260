package push

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/herald-lan/herald/multicast"
)

// failingConn is a socket whose reads fail with err every time.
type failingConn struct {
	multicast.Conn
	err   error
	reads atomic.Int32
}

func (c *failingConn) ReadBatch([]multicast.Message) (int, error) {
	c.reads.Add(1)
	return 0, c.err
}

var errNoBuffers = errors.New("no buffer space available")

// TestSessionReaderOwnsReadErrors: a session reader backs off on a
// socket that keeps failing instead of spinning, then a group socket's
// error ends the session (as its failure) while the unicast fallback's
// only stops that reader; a closed socket ends a reader quietly.
func TestSessionReaderOwnsReadErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     error
		vital   bool
		wantErr bool
	}{
		{"group socket keeps failing", errNoBuffers, true, true},
		{"unicast fallback keeps failing", errNoBuffers, false, false},
		{"group socket closed", net.ErrClosed, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := newTestPush(t)
			lab := newRSessionLab(t, t.TempDir())
			s := lab.session(t, p, t.TempDir())
			conn := &failingConn{Conn: s.dataConn, err: c.err}
			s.read(context.Background(), "data group", conn, s.onData, c.vital)
			err := s.failure()
			if got := err != nil; got != c.wantErr {
				t.Fatalf("session error %v, want one: %v", err, c.wantErr)
			}
			if c.wantErr && !errors.Is(err, c.err) {
				t.Fatalf("session error %v does not wrap the read error", err)
			}
			if n := conn.reads.Load(); c.err == errNoBuffers && (n < 2 || n > 50) {
				t.Fatalf("%d reads of a failing socket: want a few, backed off, then give up", n)
			}
			if c.err == net.ErrClosed && conn.reads.Load() != 1 {
				t.Fatalf("%d reads of a closed socket, want 1", conn.reads.Load())
			}
		})
	}
}
