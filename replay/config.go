package replay

import "time"

// Defaults and limits for Config (SPEC.md, "Replay protection").
const (
	DefaultMaxSkew         = 2 * time.Minute
	DefaultWindow          = 1024
	DefaultMaxSenders      = 4096
	DefaultEpochsPerSender = 4
	// MaxWindow caps Window so one epoch's bitmap stays at 8 KiB.
	MaxWindow = 1 << 16
)

// Config tunes a Guard; zero fields take the defaults.
type Config struct {
	// MaxSkew is how far a packet's timestamp may be from the local clock,
	// either way (default 2 minutes).
	MaxSkew time.Duration
	// Window is how many counters below the highest seen are still
	// accepted out of order (default 1024; rounded up to a multiple of 64,
	// at most MaxWindow).
	Window int
	// MaxSenders bounds the senders tracked (default 4096).
	MaxSenders int
	// EpochsPerSender bounds the epochs tracked per sender (default 4).
	EpochsPerSender int
	// Now is the local clock (default time.Now); tests inject one.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.MaxSkew <= 0 {
		c.MaxSkew = DefaultMaxSkew
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	c.Window = min((c.Window+63)/64*64, MaxWindow)
	if c.MaxSenders <= 0 {
		c.MaxSenders = DefaultMaxSenders
	}
	if c.EpochsPerSender <= 0 {
		c.EpochsPerSender = DefaultEpochsPerSender
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
