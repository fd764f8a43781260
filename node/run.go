package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// ReadBatch is how many datagrams the reader asks for per ReadBatch call.
const ReadBatch = 32

// Run joins the control group (unless Join or Send did) and reads it
// until ctx ends or Close is called, dispatching verified packets to
// subscribers. It then closes the connection, waits for its reader and
// closes every subscriber channel. It returns nil after a cancel or
// Close, and the error otherwise (a network setup failure wraps
// ErrNetwork). Run may be called once.
func (n *Node) Run(ctx context.Context) error {
	conn, ucast, err := n.start()
	if err != nil {
		return err
	}
	done := make(chan error, 2)
	readers := 1
	go func() { done <- n.read(conn) }()
	if ucast != nil {
		readers++
		go func() { done <- n.readUnicast(ucast) }()
	}
	saveCtx, stopSaving := context.WithCancel(context.Background())
	saved := make(chan struct{})
	go func() { defer close(saved); n.saveReplayLoop(saveCtx) }()
	select {
	case <-ctx.Done():
		n.Close()
		err = <-done
	case err = <-done:
		n.Close()
	}
	for range readers - 1 {
		err = errors.Join(err, <-done)
	}
	stopSaving()
	<-saved // the final save sees everything the readers accepted
	n.subs.closeAll()
	return err
}

// RunWith runs the Node and work side by side: work gets a context that
// ends when ctx does or when the Node stops early (e.g. its network
// failed). When work returns, the Node is stopped and waited for, so
// whatever work sends on its way out (a leaving beacon) still goes out.
// It returns work's error, or the Node's if work had none.
func (n *Node) RunWith(ctx context.Context, work func(ctx context.Context) error) error {
	nodeCtx, stopNode := context.WithCancel(context.WithoutCancel(ctx))
	defer stopNode()
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	nodeDone := make(chan error, 1)
	go func() {
		err := n.Run(nodeCtx)
		stopWork()
		nodeDone <- err
	}()
	workErr := work(workCtx)
	stopNode()
	if nodeErr := <-nodeDone; workErr == nil {
		return nodeErr
	}
	return workErr
}

// start moves the Node to running and returns the control connection
// and the unicast socket (nil when there is none). If the group cannot be
// joined the Node is closed, subscribers included.
func (n *Node) start() (multicast.Conn, *net.UDPConn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch n.state {
	case running:
		return nil, nil, ErrRunning
	case closed:
		return nil, nil, ErrClosed
	}
	conn, err := n.controlLocked()
	if err != nil {
		n.state = closed
		n.subs.closeAll() // no reader ever ran
		return nil, nil, err
	}
	n.state, n.reading = running, true
	return conn, n.ucast, nil
}

// controlLocked opens the control connection once. n.mu is held.
func (n *Node) controlLocked() (multicast.Conn, error) {
	if n.conn != nil {
		return n.conn, nil
	}
	conn, err := n.Net.Listen(n.Control)
	if err != nil {
		return nil, fmt.Errorf("%w: join control group %s: %w", ErrNetwork, n.Control, err)
	}
	n.conn = conn
	n.openUnicastLocked(conn)
	return conn, nil
}

// Join joins the control group now, if Run or Send has not already: from
// then on, packets sent to the group are queued for the reader even
// before Run starts. It fails with ErrClosed once the Node has stopped.
func (n *Node) Join() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state == closed {
		return ErrClosed
	}
	_, err := n.controlLocked()
	return err
}

// Send multicasts one complete packet to the control group, joining it
// first if needed, and sends a unicast copy to every peer that asked for
// one because it does not hear our multicast (SPEC.md §5.2). It fails
// with ErrClosed once the Node has stopped.
func (n *Node) Send(pkt []byte) error {
	err := n.sendGroup(pkt)
	if errors.Is(err, ErrClosed) || errors.Is(err, protocol.ErrTooLarge) {
		return err
	}
	// A host whose outgoing multicast is blocked (a firewall's EPERM) still
	// reaches the peers that asked for unicast: the packet went out.
	if n.fanOut(pkt) > 0 {
		return nil
	}
	return err
}

// sendGroup multicasts pkt to the control group only.
func (n *Node) sendGroup(pkt []byte) error {
	if len(pkt) > protocol.MaxDatagram {
		return fmt.Errorf("node: send %d bytes: %w", len(pkt), protocol.ErrTooLarge)
	}
	n.mu.Lock()
	if n.state == closed {
		n.mu.Unlock()
		return ErrClosed
	}
	conn, err := n.controlLocked()
	n.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := conn.WriteBatch([][]byte{pkt}, n.Control); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("node: send to %s: %w", n.Control, err)
	}
	return nil
}

// Close stops the Node: a running Run returns, the control connection is
// closed, and later Sends fail with ErrClosed. Subscriber channels are
// closed by Run once its reader has exited, or here if no reader ever
// ran. Idempotent.
func (n *Node) Close() error {
	n.mu.Lock()
	reading := n.reading
	n.state = closed
	conn, ucast := n.conn, n.ucast
	n.conn, n.ucast = nil, nil
	n.mu.Unlock()
	var err error
	if conn != nil {
		err = conn.Close()
	}
	if ucast != nil {
		err = errors.Join(err, ucast.Close())
	}
	if !reading {
		n.subs.closeAll()
	}
	return err
}

// read is the reader goroutine: batches from conn until it is closed.
func (n *Node) read(conn multicast.Conn) error {
	msgs := make([]multicast.Message, ReadBatch)
	for i := range msgs {
		msgs[i].Buf = make([]byte, protocol.MaxDatagram)
	}
	for {
		count, err := conn.ReadBatch(msgs)
		for i := range msgs[:count] {
			n.handle(&msgs[i], false)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("node: read control group %s: %w", n.Control, err)
		}
	}
}

// readUnicast is the unicast reader: one datagram at a time (unicast
// carries beacons and control packets, not bulk data) until uc is closed.
func (n *Node) readUnicast(uc *net.UDPConn) error {
	m := multicast.Message{Buf: make([]byte, protocol.MaxDatagram)}
	for {
		count, src, err := uc.ReadFromUDPAddrPort(m.Buf)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			// A stray ICMP error or a truncated read: not worth ending
			// the Node for; count it and go on, without spinning.
			n.stats.malformed.Add(1)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		n.stats.unicastReceived.Add(1)
		m.N, m.Src = count, netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		if n.sinks.deliver(m.Buf[:m.N], m.Src) {
			continue // a push session's data (unicast_data.go)
		}
		n.handle(&m, true)
	}
}
