package multicast

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// ReadLoop reads conn in batches of batch datagrams of up to bufSize bytes
// and calls handle for each, until ctx is done or conn is closed; then it
// returns nil. ctx being done closes conn. handle runs on the reading
// goroutine and must not retain b: it is reused by the next read.
func ReadLoop(ctx context.Context, conn Conn, batch, bufSize int, handle func(b []byte, src netip.AddrPort)) error {
	batch = max(batch, 1)
	slab := make([]byte, batch*bufSize)
	ms := make([]Message, batch)
	for i := range ms {
		ms[i].Buf = slab[i*bufSize : (i+1)*bufSize : (i+1)*bufSize]
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	for {
		n, err := conn.ReadBatch(ms)
		for i := range n {
			handle(ms[i].Buf[:ms[i].N], ms[i].Src)
		}
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
