// Package multicast is herald's datagram transport: sockets joined to one IP
// multicast group, behind a small interface so the same engine runs on real
// UDP sockets (NewUDP) and on a deterministic in-memory network with loss,
// bursts, reordering and duplication (NewMemNet).
//
// A Conn receives only datagrams sent to its own group address and port,
// even when other groups share the port on the same host. It reads and
// writes in batches (recvmmsg/sendmmsg on Linux, one datagram per call
// elsewhere). Senders pace themselves with a Pacer (token bucket, ~1 ms
// bursts).
//
// Shutdown follows one pattern: cancel the context, Close the Conn, and the
// reader goroutine sees an error wrapping net.ErrClosed and returns.
//
// The package logs only through the *slog.Logger it is given and is silent
// by default.
package multicast
