package multicast

import "log/slog"

// Buffers reports a socket's buffer sizes as the OS granted them, next to
// what was asked for. A granted size below the request means the OS clamped
// it (on Linux to net.core.rmem_max / wmem_max).
type Buffers struct {
	Recv, Send                   int // granted, read back after setting
	RequestedRecv, RequestedSend int // asked for; <= 0 means left at the OS default
}

// Clamped reports whether either buffer is smaller than requested.
func (b Buffers) Clamped() bool {
	return b.recvClamped() || b.sendClamped()
}

func (b Buffers) recvClamped() bool { return b.RequestedRecv > 0 && b.Recv < b.RequestedRecv }
func (b Buffers) sendClamped() bool { return b.RequestedSend > 0 && b.Send < b.RequestedSend }

// warnIfClamped logs one warning per clamped buffer, naming the sysctl that
// limits it, because a small receive buffer shows up much later as
// unexplained packet loss.
func warnIfClamped(logger *slog.Logger, b Buffers) {
	if b.recvClamped() {
		logger.Warn("multicast: socket receive buffer smaller than requested; expect loss at high rates",
			"requested", b.RequestedRecv, "granted", b.Recv,
			"fix", "raise "+recvBufferLimit+" to at least the requested size, or run as root")
	}
	if b.sendClamped() {
		logger.Warn("multicast: socket send buffer smaller than requested",
			"requested", b.RequestedSend, "granted", b.Send,
			"fix", "raise "+sendBufferLimit+" to at least the requested size, or run as root")
	}
}
