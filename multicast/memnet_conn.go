package multicast

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// memDatagram is one datagram in flight; data is shared by all receivers
// and never written after send.
type memDatagram struct {
	data []byte
	src  netip.AddrPort
}

// MemConn is a Conn on a MemHost. Listen on a MemHost returns *MemConn.
//
// Concurrency: one goroutine may call ReadBatch while others call
// WriteBatch, LocalAddr, Dropped and Close.
type MemConn struct {
	host  *MemHost
	group netip.AddrPort
	local netip.AddrPort
	loss  lossState // guarded by host.net.mu: decisions are drawn there

	notify chan struct{} // capacity 1: "the queue may be non-empty"
	done   chan struct{} // closed by Close
	closed atomic.Bool

	mu        sync.Mutex
	queue     datagramRing
	held      *memDatagram // a reordered datagram waiting for a successor
	heldTimer *time.Timer  // delivers held after reorderHold
	dropped   uint64       // datagrams dropped at the full queue
}

// LocalAddr implements Conn: the host address and the group port.
func (c *MemConn) LocalAddr() netip.AddrPort { return c.local }

// Dropped implements DropCounter: datagrams this Conn lost to a full queue.
func (c *MemConn) Dropped() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped, true
}

// WriteBatch implements Conn. It never blocks on receivers.
func (c *MemConn) WriteBatch(payloads [][]byte, dst netip.AddrPort) (int, error) {
	if c.closed.Load() {
		return 0, fmt.Errorf("multicast: send to %v: %w", dst, net.ErrClosed)
	}
	dst, err := validGroup(dst)
	if err != nil {
		return 0, err
	}
	c.host.net.send(c, payloads, dst)
	return len(payloads), nil
}

// ReadBatch implements Conn.
func (c *MemConn) ReadBatch(ms []Message) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	for {
		c.mu.Lock()
		if c.closed.Load() {
			c.mu.Unlock()
			return 0, fmt.Errorf("multicast: read %v: %w", c.group, net.ErrClosed)
		}
		n := 0
		for n < len(ms) {
			d, ok := c.queue.pop()
			if !ok {
				break
			}
			ms[n].N = copy(ms[n].Buf, d.data)
			ms[n].Src = d.src
			n++
		}
		c.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		select {
		case <-c.notify:
		case <-c.done:
		}
	}
}

// Close implements Conn: it leaves the group, discards queued datagrams
// and wakes the reader.
func (c *MemConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.host.net.leave(c)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heldTimer != nil {
		c.heldTimer.Stop()
	}
	c.held = nil
	c.queue = datagramRing{}
	close(c.done)
	return nil
}

// deliver queues the copies of d that survived the link. A reordered
// datagram is parked until the next delivery or reorderHold passes.
func (c *MemConn) deliver(d memDatagram, f fate, queueLen int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return
	}
	for i := range f.copies {
		if i == 0 && f.reordered && c.held == nil {
			c.hold(d)
			continue
		}
		c.push(d, queueLen)
		if c.held != nil {
			c.push(*c.held, queueLen)
			c.held = nil
		}
	}
}

// hold parks d; c.mu must be held.
func (c *MemConn) hold(d memDatagram) {
	c.held = &d
	if c.heldTimer == nil {
		c.heldTimer = time.AfterFunc(reorderHold, c.releaseHeld)
		return
	}
	c.heldTimer.Reset(reorderHold)
}

// releaseHeld delivers a parked datagram that no successor has released.
func (c *MemConn) releaseHeld() {
	m := c.host.net
	m.mu.Lock() // lock order: MemNet.mu before MemConn.mu
	queueLen := c.host.link.QueueLen
	m.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held != nil && !c.closed.Load() {
		c.push(*c.held, queueLen)
		c.held = nil
	}
}

// push appends d or drops it when the queue is full; c.mu must be held.
func (c *MemConn) push(d memDatagram, queueLen int) {
	if c.queue.len() >= queueLen {
		c.dropped++
		c.host.net.queueDropped.Add(1)
		return
	}
	c.queue.push(d)
	select {
	case c.notify <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// datagramRing is a FIFO that grows by doubling; its length is bounded
// by the caller (push checks queueLen first).
type datagramRing struct {
	buf   []memDatagram
	head  int
	count int
}

func (r *datagramRing) len() int { return r.count }

func (r *datagramRing) push(d memDatagram) {
	if r.count == len(r.buf) {
		grown := make([]memDatagram, max(16, 2*len(r.buf)))
		for i := range r.count {
			grown[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = grown, 0
	}
	r.buf[(r.head+r.count)%len(r.buf)] = d
	r.count++
}

func (r *datagramRing) pop() (memDatagram, bool) {
	if r.count == 0 {
		return memDatagram{}, false
	}
	d := r.buf[r.head]
	r.buf[r.head] = memDatagram{} // let the payload be collected
	r.head = (r.head + 1) % len(r.buf)
	r.count--
	return d, true
}
