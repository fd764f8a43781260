package presence

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Timing and limits (SPEC: presence).
const (
	Interval    = 3 * time.Second        // between beacons
	AnswerDelay = 200 * time.Millisecond // most a newcomer waits for an answer beacon
	AnswerEvery = 500 * time.Millisecond // at most one answer beacon this often
	Jitter      = 500 * time.Millisecond // each interval is Interval ± Jitter, uniformly
	QuickRepeat = 300 * time.Millisecond // second beacon after the first
	ExpireAfter = 10 * time.Second       // silence after which a peer is removed (3 missed beacons)
	MaxPeers    = 1024                   // table bound; the peer seen longest ago goes first
	EventQueue  = 64                     // Events buffer; events are dropped when it is full
	// beaconQueue is the node subscription size. The table itself is
	// updated on the node's reader (Observe); the subscription only wakes
	// the loop to answer newcomers, so a full queue loses no peer.
	beaconQueue = 256
	// sweepEvery is how often expired peers are looked for and a trust
	// store with new peers is saved.
	sweepEvery = time.Second
)

// ErrRunning: Run was called twice.
var ErrRunning = errors.New("presence: already running")

// tuning holds Presence's timers and table bound; tests shrink them.
type tuning struct {
	interval, jitter, quick, expire, sweep time.Duration
	maxPeers                               int
}

var defaultTuning = tuning{Interval, Jitter, QuickRepeat, ExpireAfter, sweepEvery, MaxPeers}

// Presence beacons for a node and keeps the table of peers it hears. Safe
// for concurrent use; Run must be called once.
type Presence struct {
	node    *node.Node
	offers  atomic.Uint32 // a byte of protocol.Offer* bits
	tuning  tuning
	beacons <-chan node.Packet
	observe func() // stops the node's Observe of beacons
	// observeMembership stops the node's Observe of Membership packets.
	observeMembership func()
	events            chan Event
	ran               atomic.Bool
	// answerDue is set by the observer when a beacon came from a peer the
	// table did not know; the loop answers it with a beacon of its own.
	answerDue atomic.Bool

	mu         sync.Mutex
	peers      map[[protocol.SenderLen]byte]*entry
	trustDirty bool // a new peer was recorded since the last Save
}

// entry is one table row. changed is sticky: a key once seen under a name
// bound to another key is never promoted while it stays in the table.
type entry struct {
	info    PeerInfo
	changed bool
	// multicastSeen is its latest beacon heard on the group (zero: only
	// by unicast so far).
	multicastSeen time.Time
	// offerSeen is when each protocol.Offer* bit was last beaconed. One
	// identity may run several processes (receive and listen), each
	// beaconing its own offers: the peer offers every bit seen within
	// the expiry, not only the latest beacon's.
	offerSeen [8]time.Time
	// channels is when the peer last proved each of our channels
	// (SPEC.md §5.4), by channel ID.
	channels map[[8]byte]time.Time
}

// noteOffers records the bits of one beacon and recomputes Offers. A
// leaving beacon withdraws its bits. It reports whether any process of
// the peer is still around (some bit is fresh, or the beacon is not a
// leaving one).
func (e *entry) noteOffers(offers byte, leaving bool, now time.Time, expire time.Duration) bool {
	for bit := range e.offerSeen {
		if offers&(1<<bit) == 0 {
			continue
		}
		if leaving {
			e.offerSeen[bit] = time.Time{}
		} else {
			e.offerSeen[bit] = now
		}
	}
	e.info.Offers = 0
	for bit, seen := range e.offerSeen {
		if !seen.IsZero() && now.Sub(seen) <= expire {
			e.info.Offers |= 1 << bit
		}
	}
	return !leaving || e.info.Offers != 0
}

// New returns a Presence for n advertising offers (protocol.Offer* bits).
func New(n *node.Node, offers byte) *Presence {
	p := &Presence{
		node:    n,
		beacons: n.Subscribe(protocol.TypeBeacon, beaconQueue),
		tuning:  defaultTuning,
		events:  make(chan Event, EventQueue),
		peers:   make(map[[protocol.SenderLen]byte]*entry),
	}
	p.offers.Store(uint32(offers))
	// The table is updated on the node's reader goroutine, so a message
	// that follows its sender's beacon is named, however late this
	// goroutine is scheduled (SPEC §5: presence).
	p.observe = n.Observe(protocol.TypeBeacon, func(pkt node.Packet) {
		if p.handle(pkt) {
			p.answerDue.Store(true)
		}
	})
	p.observeMembership = n.Observe(protocol.TypeMembership, p.handleMembership)
	return p
}

// SetOffers changes what the following beacons advertise.
func (p *Presence) SetOffers(offers byte) { p.offers.Store(uint32(offers)) }

// Events reports joins, departures and key changes. It is buffered
// (EventQueue); when nobody drains it, events are dropped rather than
// stalling the table. It is closed when Run returns.
func (p *Presence) Events() <-chan Event { return p.events }

// Run beacons and listens until ctx ends or the node stops, then sends a
// leaving beacon and saves the trust store. It returns nil on a normal
// stop, and an error wrapping node.ErrNetwork if beacons cannot be sent at
// all. The node must be running (or about to) for beacons to be heard.
func (p *Presence) Run(ctx context.Context) error {
	if p.ran.Swap(true) {
		return ErrRunning
	}
	defer close(p.events)
	defer p.node.Unsubscribe(p.beacons)
	defer p.observe()
	defer p.observeMembership()
	err := p.loop(ctx, p.beacons)
	if sendErr := p.beacon(protocol.BeaconLeaving); sendErr != nil && !errors.Is(sendErr, node.ErrClosed) {
		p.node.Logger.Debug("presence: leaving beacon not sent", "err", sendErr)
	}
	p.saveTrust(true)
	return err
}

func (p *Presence) loop(ctx context.Context, beacons <-chan node.Packet) error {
	if err := p.beaconOrFail(); err != nil {
		return err
	}
	next := time.NewTimer(p.tuning.quick)
	defer next.Stop()
	due := time.Now().Add(p.tuning.quick)
	beaconIn := func(d time.Duration) {
		next.Reset(d)
		due = time.Now().Add(d)
	}
	sweep := time.NewTicker(p.tuning.sweep)
	defer sweep.Stop()
	var lastAnswer time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-beacons:
			if !ok {
				return nil // the node stopped
			}
			// A newcomer hears everyone within AnswerDelay instead of an
			// Interval: each node answers a peer it did not know with its
			// own beacon soon (jittered, at most once per AnswerEvery).
			// Known peers' beacons trigger nothing, so answers do not cascade.
			if p.answerDue.Swap(false) && time.Since(lastAnswer) > AnswerEvery {
				lastAnswer = time.Now()
				beaconIn(AnswerDelay/10 + randDuration(AnswerDelay))
			}
			// A peer that beaconed us by unicast and stays unheard on the
			// group is asked for unicast once node.DeafAfter has passed,
			// not at the next interval (SPEC.md §5.2).
			if d, ok := p.node.UnicastFlagDue(); ok && time.Now().Add(d).Before(due) {
				beaconIn(d)
			}
		case <-next.C:
			if err := p.beaconOrFail(); err != nil {
				return err
			}
			d := p.nextInterval()
			if f, ok := p.node.UnicastFlagDue(); ok {
				d = min(d, f)
			}
			beaconIn(d)
		case <-sweep.C:
			p.expire()
			p.saveTrust(false)
		}
	}
}

// beaconOrFail sends a regular beacon and the Membership packets that
// follow it. Only a network that cannot be set up ends Run; a stopped
// node is noticed when the subscription closes, and a transient send
// error is survived (the next beacon may pass).
func (p *Presence) beaconOrFail() error {
	err := p.beacon(0)
	if err == nil {
		err = p.sendMembership()
	}
	if errors.Is(err, node.ErrNetwork) {
		return err
	}
	if err != nil {
		p.node.Logger.Debug("presence: beacon not sent", "err", err)
	}
	return nil
}

// nextInterval is interval ± jitter, uniformly.
func (p *Presence) nextInterval() time.Duration {
	t := p.tuning
	if t.jitter <= 0 {
		return t.interval
	}
	return t.interval - t.jitter + randDuration(2*t.jitter)
}

// beacon signs and sends one beacon with flags.
func (p *Presence) beacon(flags byte) error {
	id := p.node.ID
	flags |= protocol.BeaconVersionFlags(protocol.Version) // the highest version we speak (SPEC §3.5)
	b := protocol.Beacon{BoxKey: id.BoxPub, Flags: flags, Offers: byte(p.offers.Load()), Name: id.Name}
	return p.node.SendBeacon(b) // multicast, and unicast copies (static peers, SPEC §5.2)
}

// saveTrust writes the trust store when a new peer was recorded, or
// always when final (last-seen times then reach the disk too; Save itself
// skips an unchanged store).
func (p *Presence) saveTrust(final bool) {
	p.mu.Lock()
	dirty := p.trustDirty
	p.trustDirty = false
	p.mu.Unlock()
	if !dirty && !final {
		return
	}
	if err := p.node.Trust.Save(); err != nil {
		p.node.Logger.Warn("presence: cannot save trust store", "err", err)
	}
}
