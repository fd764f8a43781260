package message

import (
	"crypto/ed25519"
	"log/slog"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
)

// Limits and timers (SPEC.md, "Messages").
const (
	// DefaultRate and DefaultBurst shape each sender's token bucket: a
	// new message costs one token.
	DefaultRate  = 20 // messages per second
	DefaultBurst = 50
	// MaxRateSenders bounds the token buckets kept; idle (full) buckets
	// are forgotten first, and a new sender is refused when none is idle.
	MaxRateSenders = 4096
	// MaxPartialPerSender and MaxPartialTotal bound messages in
	// reassembly. A sender over its share loses its own oldest partial;
	// when the total is reached, new messages are dropped.
	MaxPartialPerSender = 16
	MaxPartialTotal     = 256
	// ReassemblyTimeout drops a message still incomplete this long after
	// its first fragment.
	ReassemblyTimeout = 10 * time.Second
	// DoneMemory is how many (sender, message id) pairs are remembered so
	// repeats and retained re-sends are shown once; oldest forgotten first.
	DoneMemory = 16384
	// DefaultQueue is the Messages buffer; when full, messages are
	// dropped and counted rather than stalling reception.
	DefaultQueue = 256
	// DefaultRepeats is how many extra rounds a post is sent in, the
	// first DefaultRepeatGap after the first round, each gap doubling.
	DefaultRepeats   = 2
	DefaultRepeatGap = 100 * time.Millisecond
	// RetainFirst and RetainMax are the backoff of retained re-sends:
	// 1 s, 2 s, 4 s, ... capped at 30 s, until the retention ends.
	RetainFirst = time.Second
	RetainMax   = 30 * time.Second
	// ReceiptRetryFirst and ReceiptRetryMax are the backoff of private
	// re-sends while no receipt came; DefaultReceiptTimeout ends them.
	ReceiptRetryFirst     = time.Second
	ReceiptRetryMax       = 8 * time.Second
	DefaultReceiptTimeout = 30 * time.Second
	// MaxPendingPrivate bounds private messages awaiting receipts.
	MaxPendingPrivate = 64
	// receiptGap is the least time between two receipts for one message:
	// each re-send round deserves one, not one per fragment.
	receiptGap = 500 * time.Millisecond
	// subscribeQueue is the node subscription size of each packet type:
	// a whole 64 KiB message in 4 rounds fits.
	subscribeQueue = 1024
	// sweepEvery is how often expired partial messages are dropped.
	sweepEvery = time.Second
)

// PeerTable is what the engine asks about a live peer: its claimed name
// and whether its key is marked changed. *presence.Presence is one.
type PeerTable interface {
	Lookup(pub ed25519.PublicKey) (presence.PeerInfo, bool)
}

// Config sets up an Engine. Node is required; zero fields take defaults.
type Config struct {
	Node *node.Node
	// Peers, when set, names senders not yet in the trust store and marks
	// changed keys, whose messages are refused.
	Peers PeerTable
	// Channels are the channels whose messages are shown. Nil means the
	// open channel and every joined channel.
	Channels []identity.Channel
	// IgnorePrivate refuses private messages (receipts still complete
	// SendPrivate): a process that shows no messages must not acknowledge
	// one nobody will read.
	IgnorePrivate bool
	// Queue is the Messages buffer (DefaultQueue).
	Queue int
	// Rate and Burst shape each sender's token bucket.
	Rate  float64
	Burst int
	// Repeats is how many extra rounds each post is sent in
	// (DefaultRepeats; negative: none). RepeatGap is the first gap.
	Repeats   int
	RepeatGap time.Duration
	// RetainFirst is the first gap of retained re-sends (RetainFirst);
	// tests shorten it.
	RetainFirst time.Duration
	// ReceiptTimeout ends SendPrivate's wait (DefaultReceiptTimeout).
	ReceiptTimeout time.Duration
	// ReceiptRetry is the first private re-send delay (ReceiptRetryFirst).
	ReceiptRetry time.Duration
	// BeforeRound, when set, runs before every round a post or private
	// message is sent in; the CLI beacons there, so a listener that joins
	// late can name the sender of a retained message.
	BeforeRound func()
	// Logger defaults to the node's.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	if c.Rate <= 0 {
		c.Rate = DefaultRate
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	switch {
	case c.Repeats == 0:
		c.Repeats = DefaultRepeats
	case c.Repeats < 0:
		c.Repeats = 0
	}
	if c.RepeatGap <= 0 {
		c.RepeatGap = DefaultRepeatGap
	}
	if c.RetainFirst <= 0 {
		c.RetainFirst = RetainFirst
	}
	if c.ReceiptTimeout <= 0 {
		c.ReceiptTimeout = DefaultReceiptTimeout
	}
	if c.ReceiptRetry <= 0 {
		c.ReceiptRetry = ReceiptRetryFirst
	}
	if c.Logger == nil {
		c.Logger = c.Node.Logger
	}
	return c
}
