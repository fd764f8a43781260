package message

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// ErrRunning: Run was called twice.
var ErrRunning = errors.New("message: engine already running")

// channelKey is a channel the engine shows, by the id packets carry.
type channelKey struct {
	name string
	open bool
	key  [32]byte // secretbox key for messages; unused when open
}

// Engine sends and receives messages over one node. Post and SendPrivate
// are safe for concurrent use; Run runs once and owns all receive state.
type Engine struct {
	cfg      Config
	node     *node.Node
	log      *slog.Logger
	channels map[[8]byte]channelKey
	selfID   identity.KeyID
	messages chan Message
	group    <-chan node.Packet
	private  <-chan node.Packet
	ran      atomic.Bool
	stats    counters

	// Receive state, owned by Run's goroutine.
	asm     *reassembly
	limiter *rateLimiter
	scratch []byte // one decrypted fragment

	// pending are private messages waiting for a receipt.
	pendingMu sync.Mutex
	pending   map[protocol.MessageID]*pendingPrivate
}

// New makes an engine on cfg.Node and subscribes to message packets at
// once, so none that arrive before Run are missed (they wait in the
// node's bounded queue).
func New(cfg Config) (*Engine, error) {
	if cfg.Node == nil {
		return nil, errors.New("message: Config.Node is required")
	}
	cfg = cfg.withDefaults()
	chans := cfg.Channels
	if chans == nil {
		chans = append([]identity.Channel{identity.OpenChannel()}, cfg.Node.Channels.List()...)
	}
	e := &Engine{
		cfg:      cfg,
		node:     cfg.Node,
		log:      cfg.Logger,
		channels: make(map[[8]byte]channelKey, len(chans)),
		selfID:   cfg.Node.ID.KeyID(),
		messages: make(chan Message, cfg.Queue),
		asm:      newReassembly(),
		limiter:  newRateLimiter(cfg.Rate, cfg.Burst),
		scratch:  make([]byte, 0, protocol.MaxFragmentSize),
		pending:  make(map[protocol.MessageID]*pendingPrivate),
	}
	for _, c := range chans {
		e.channels[wireChannelID(c)] = channelKey{name: c.Name, open: c.IsOpen(), key: c.Key(identity.PurposeMessage)}
	}
	e.group = e.node.Subscribe(protocol.TypeGroupMsg, subscribeQueue)
	e.private = e.node.Subscribe(protocol.TypePrivate, subscribeQueue)
	return e, nil
}

// wireChannelID is the channel id a GroupMsg carries: all zero for the
// open channel, Channel.ID otherwise.
func wireChannelID(c identity.Channel) [8]byte {
	if c.IsOpen() {
		return [8]byte{}
	}
	return c.ID()
}

// Messages delivers complete messages. It is closed when Run returns.
func (e *Engine) Messages() <-chan Message { return e.messages }

// Run receives until ctx ends or the node stops, then closes Messages.
// It returns nil on a normal stop.
func (e *Engine) Run(ctx context.Context) error {
	if e.ran.Swap(true) {
		return ErrRunning
	}
	defer close(e.messages)
	defer e.node.Unsubscribe(e.group)
	defer e.node.Unsubscribe(e.private)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case pkt, ok := <-e.group:
			if !ok {
				return nil
			}
			e.handleGroup(pkt)
		case pkt, ok := <-e.private:
			if !ok {
				return nil
			}
			e.handlePrivate(pkt)
		case <-sweep.C:
			e.stats.expired.Add(uint64(e.asm.expire(e.node.Now())))
		}
	}
}

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	c := &e.stats
	ns := e.node.Stats()
	return Stats{
		Shown: c.shown.Load(), Sent: c.sent.Load(), Repeats: c.repeats.Load(),
		Malformed: c.malformed.Load(), NotForUs: c.notForUs.Load(), WrongKey: c.wrongKey.Load(),
		ChangedKey: c.changedKey.Load(), RateLimited: c.rateLimited.Load(), Overflow: c.overflow.Load(),
		Expired: c.expired.Load(), ReceiptsSent: c.receiptsSent.Load(), ReceiptsGot: c.receiptsGot.Load(),
		BadSignature: ns.BadSignature, Replayed: ns.Replayed, Duplicates: ns.Duplicates, Stale: ns.Stale,
		QueueDropped: ns.Dropped[protocol.TypeGroupMsg] + ns.Dropped[protocol.TypePrivate],
	}
}

// sender is who signed a packet, as a person should see it.
type sender struct {
	name  string // identity.Label: a name, disambiguated when shared
	fp    string
	trust identity.TrustState
}

// who looks a signing key up: this node, then the trust store, which
// knows every key heard (live peers' beacons included) and which keys
// claim a trusted peer's name (Changed). On a channel the key owns
// (channel, all zero for none or a private message), it is Trusted
// (SPEC.md §8: owners).
func (e *Engine) who(key [protocol.SenderLen]byte, channel [8]byte) sender {
	pub := ed25519.PublicKey(key[:])
	if e.node.ID.SignPub.Equal(pub) {
		return sender{e.node.ID.Name, e.node.ID.Fingerprint(), identity.Trusted}
	}
	claimed := ""
	if e.cfg.Peers != nil {
		if live, ok := e.cfg.Peers.Lookup(pub); ok {
			claimed = live.Name
		}
	}
	s := sender{name: e.node.Trust.Label(pub, claimed), fp: identity.Fingerprint(pub), trust: identity.Unknown}
	if p, ok := e.node.Trust.Lookup(pub); ok {
		s.trust = p.State()
	}
	if s.trust != identity.Trusted && channel != ([8]byte{}) && e.node.Channels.OwnerOf(channel, pub) {
		s.trust = identity.Trusted
	}
	return s
}

// deliver hands a complete message to Messages, or counts it lost.
func (e *Engine) deliver(m Message) {
	select {
	case e.messages <- m:
		e.stats.shown.Add(1)
	default:
		e.stats.overflow.Add(1)
	}
}

// channelFor finds the channel of a group message. An engine showing the
// node's channels (Config.Channels nil) follows the channel store as it
// changes, so a `herald channel join` or `leave` reaches a running listen
// (SPEC.md §8); keys are derived once per channel and cached on Run's
// goroutine.
func (e *Engine) channelFor(id [8]byte) (channelKey, bool) {
	if e.cfg.Channels != nil || id == ([8]byte{}) {
		ck, ok := e.channels[id]
		return ck, ok
	}
	c, ok := e.node.Channels.ByID(id)
	if !ok {
		return channelKey{}, false
	}
	ck, ok := e.channels[id]
	if !ok {
		ck = channelKey{name: c.Name, key: c.Key(identity.PurposeMessage)}
		e.channels[id] = ck
	}
	return ck, true
}
