package replay

import "time"

// Defaults and limits for Config (SPEC.md, "Replay protection").
const (
	DefaultMaxSkew         = 2 * time.Minute
	DefaultWindow          = 1024
	DefaultMaxSenders      = 4096
	DefaultEpochsPerSender = 4
	// DefaultMaxProtected bounds protected senders (Config.Protected),
	// tracked beside the MaxSenders strangers.
	DefaultMaxProtected = 1024
	// DefaultNewPerAddr bounds the strangers one source address may add
	// per MaxSkew period.
	DefaultNewPerAddr = 64
	// DefaultDuplicateGrace is how soon after the original a repeated
	// packet counts as a copy (ErrDuplicate) rather than a replay.
	DefaultDuplicateGrace = 5 * time.Second
	// maxAddrs bounds the per-address admission table.
	maxAddrs = 4096
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
	// MaxProtected bounds the protected senders (default 1024); they never
	// count against MaxSenders and strangers never evict them.
	MaxProtected int
	// NewPerAddr bounds how many strangers one source address may add to
	// the table per MaxSkew period (default 64).
	NewPerAddr int
	// DuplicateGrace: a packet seen again within this time of its first
	// acceptance is an expected copy (ErrDuplicate), later a replay
	// (default 5 s).
	DuplicateGrace time.Duration
	// Protected, when set, says whether a key must never be locked out
	// by strangers (trusted peers, channel owners). It is asked once per
	// new sender, outside the hot path; SetProtected replaces it.
	Protected func(key [32]byte) bool
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
	if c.MaxProtected <= 0 {
		c.MaxProtected = DefaultMaxProtected
	}
	if c.NewPerAddr <= 0 {
		c.NewPerAddr = DefaultNewPerAddr
	}
	if c.DuplicateGrace <= 0 {
		c.DuplicateGrace = DefaultDuplicateGrace
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
