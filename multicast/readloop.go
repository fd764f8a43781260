package multicast

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// Read back-off: a socket error that is not a close (ENOBUFS, a route
// change, an interface going down) is usually transient, so the loop
// sleeps and reads again rather than spinning on it or giving up at once;
// the pause doubles up to readBackoffMax and resets after a good read.
// After readErrorsMax failures in a row the error is returned: the owner
// decides what a socket that keeps failing means.
const (
	readBackoffMin = time.Millisecond
	readBackoffMax = 500 * time.Millisecond
	readErrorsMax  = 20
)

// ReadLoop reads conn in batches of batch datagrams of up to bufSize bytes
// and calls handle for each, until ctx is done or conn is closed; then it
// returns nil. ctx being done closes conn. Other read errors back off
// (see readBackoffMin) and are returned only when they persist. handle
// runs on the reading goroutine and must not retain b: it is reused by
// the next read.
func ReadLoop(ctx context.Context, conn Conn, batch, bufSize int, handle func(b []byte, src netip.AddrPort)) error {
	return ReadBatches(ctx, conn, batch, bufSize, func(ms []Message) {
		for i := range ms {
			handle(ms[i].Buf[:ms[i].N], ms[i].Src)
		}
	})
}

// ReadBatches is ReadLoop with one call per batch read, for an owner that
// takes a lock once per batch rather than once per datagram. handle must
// not retain ms or their buffers.
func ReadBatches(ctx context.Context, conn Conn, batch, bufSize int, handle func(ms []Message)) error {
	batch = max(batch, 1)
	slab := make([]byte, batch*bufSize)
	ms := make([]Message, batch)
	for i := range ms {
		ms[i].Buf = slab[i*bufSize : (i+1)*bufSize : (i+1)*bufSize]
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	backoff, failures := readBackoffMin, 0
	for {
		n, err := conn.ReadBatch(ms)
		if n > 0 {
			handle(ms[:n])
		}
		switch {
		case err == nil:
			backoff, failures = readBackoffMin, 0
			continue
		case errors.Is(err, net.ErrClosed) || ctx.Err() != nil:
			return nil
		}
		if failures++; failures >= readErrorsMax {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, readBackoffMax)
	}
}
