package push

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// maxStatusKeys bounds the receivers whose latest status is remembered
// for dropping its second copy; beyond it the memory starts afresh (a
// second copy then costs one more signature check, nothing else).
const maxStatusKeys = 4 * maxReceivers

// statusCopies drops the second copy of a status (receivers send each to
// the feedback group and by unicast, unicast_status.go) before its
// signature is checked, and remembers where each receiver's unicast
// copies come from: its unicast socket, where data goes if it must be
// served by unicast. Safe for concurrent use: both feedback readers use it.
type statusCopies struct {
	mu    sync.Mutex
	last  map[[32]byte][sha256.Size]byte // receiver key: digest of its latest accepted status
	addrs map[[32]byte]netip.AddrPort    // receiver key: source of its unicast copies
}

func newStatusCopies() statusCopies {
	return statusCopies{last: make(map[[32]byte][sha256.Size]byte), addrs: make(map[[32]byte]netip.AddrPort)}
}

// seen reports whether b is the status from key accepted last. An exact
// copy of a packet that verified is authentic, so it may still say where
// its unicast copies come from.
func (c *statusCopies) seen(key [32]byte, sum [sha256.Size]byte, src netip.AddrPort, unicast bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last[key] != sum {
		return false
	}
	if unicast {
		c.addrs[key] = src
	}
	return true
}

// accepted records the status from key that verified.
func (c *statusCopies) accepted(key [32]byte, sum [sha256.Size]byte, src netip.AddrPort, unicast bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.last) >= maxStatusKeys {
		clear(c.last)
		clear(c.addrs)
	}
	c.last[key] = sum
	if unicast {
		c.addrs[key] = src
	}
}

// unicastAddr is where key's unicast status copies come from.
func (c *statusCopies) unicastAddr(key [32]byte) (netip.AddrPort, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.addrs[key]
	return a, ok
}

// takeStatus handles one feedback datagram from either path: the second
// copy of a status is dropped unverified, a new one is verified and
// handed to the run loop (never blocking: a full channel drops it, and
// receivers repeat theirs every 100 ms).
func (s *sender) takeStatus(b []byte, src netip.AddrPort, unicast bool) {
	p, err := protocol.ParseSigned(b)
	if err != nil || p.Type != protocol.TypeStatus {
		return
	}
	sum := sha256.Sum256(b)
	u := s.uni()
	if u != nil && u.copies.seen(p.Sender, sum, src, unicast) {
		return
	}
	st, ok := s.verifyStatus(b, s.n.Now()) // sender_feedback.go: sheds load, verifies
	if !ok {
		return
	}
	if u != nil {
		u.copies.accepted(p.Sender, sum, src, unicast)
	}
	s.handOff(st)
}

// readUnicastFeedback reads the statuses receivers send this session by
// unicast until ctx ends. The returned func waits for the reader and
// says how long it was busy.
func (s *sender) readUnicastFeedback(ctx context.Context) (wait func() time.Duration) {
	uc, err := s.n.ListenUnicastData(s.sid)
	if err != nil {
		return func() time.Duration { return 0 } // no unicast socket: the group alone
	}
	var busy time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = multicast.ReadLoop(ctx, uc, feedbackBatch, protocol.MaxDatagram, func(b []byte, src netip.AddrPort) {
			start := time.Now() // wall time, as in readFeedback
			s.takeStatus(b, src, true)
			busy += time.Since(start)
		})
	}()
	return func() time.Duration {
		uc.Close()
		<-done
		return busy
	}
}

// uni is the sender's write connection, which serves unicast receivers;
// nil for a sender built without one (unit tests of its parts).
func (s *sender) uni() *unicastMirror {
	if s.out == nil {
		return nil
	}
	m, _ := s.out.conn.(*unicastMirror)
	return m
}
