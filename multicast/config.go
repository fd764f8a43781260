package multicast

import (
	"fmt"
	"log/slog"
)

// Defaults applied by NewUDP to zero Config fields.
const (
	// DefaultTTL keeps datagrams on the local link: routers do not forward
	// a multicast datagram whose TTL (hop limit) is 1.
	DefaultTTL = 1
	// DefaultRecvBuffer is large enough to absorb ~70 ms of a 1 Gbit/s
	// stream while the reader is descheduled.
	DefaultRecvBuffer = 8 << 20
	// DefaultSendBuffer lets sendmmsg queue a few batches ahead of the NIC.
	DefaultSendBuffer = 4 << 20
	// maxTTL is the largest value IP_MULTICAST_TTL accepts.
	maxTTL = 255
)

// Config configures the real UDP network. The zero value is usable: every
// up, multicast-capable interface, TTL 1, loopback on, 8 MiB/4 MiB buffers,
// no logging.
//
// Concurrency: a Config is copied by NewUDP; later changes have no effect.
type Config struct {
	// Iface names the interface to join and send on ("eth0"). Empty means
	// join on every up, multicast-capable interface (loopback included if
	// it has the MULTICAST flag), or on the up loopback interface when no
	// other exists; and send on the first non-loopback one that has an
	// address of the group's IP family.
	Iface string
	// TTL is IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS, 1..255; 0 means
	// DefaultTTL.
	TTL int
	// DisableLoopback turns IP_MULTICAST_LOOP off. Loopback is on by
	// default so several herald processes on one machine hear each other;
	// the field is phrased negatively so that the zero Config keeps that default.
	DisableLoopback bool
	// RecvBuffer and SendBuffer are the requested SO_RCVBUF/SO_SNDBUF sizes
	// in bytes; 0 means the package default, negative keeps the OS default.
	RecvBuffer int
	SendBuffer int
	// Logger receives warnings (clamped buffers, interfaces that could not
	// join). Nil means silent.
	Logger *slog.Logger
}

// withDefaults returns cfg with its zero fields filled in (the one
// convention for configs in herald: withDefaults fills, validate checks).
func (cfg Config) withDefaults() Config {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.RecvBuffer == 0 {
		cfg.RecvBuffer = DefaultRecvBuffer
	}
	if cfg.SendBuffer == 0 {
		cfg.SendBuffer = DefaultSendBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// validate names the first field out of range.
func (cfg Config) validate() error {
	if cfg.TTL < 1 || cfg.TTL > maxTTL {
		return fmt.Errorf("%w: TTL %d outside 1..%d", ErrInvalidConfig, cfg.TTL, maxTTL)
	}
	return nil
}
