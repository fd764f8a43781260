package push

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/bits"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Receiver limits (SPEC.md §6.8).
const (
	defaultMaxSessions = 4
	defaultMaxPending  = 1024     // blocks in assembly per session, at most...
	maxPendingBytes    = 96 << 20 // ... this much assembly memory (K·S + K² a block)
	defaultMaxManifest = 16 << 20
	maxOffers          = 256 // announces remembered (refused or pending)
	maxOffersPerSender = 8   // one key cannot fill the offer table
	maxRefusalsPerSec  = 16  // status replies to announces anyone can send
)

// ReceiveConfig describes a receiver.
type ReceiveConfig struct {
	Node *node.Node
	Dir  string
	From []ed25519.PublicKey // senders accepted besides trusted ones
	// FromFingerprints, if set, returns more senders to accept, by
	// fingerprint (their keys need not have been seen yet). It is asked
	// at every announce, so a list read from a file can follow the file
	// (trust hook, identity helper).
	FromFingerprints func() []string
	AcceptAny        bool // accept any sender (its fingerprint is shown)
	Overwrite        bool
	Once             bool // return after one push completes (or fails)

	MaxSessions   int
	MaxPending    int
	MaxManifest   int
	SenderTimeout time.Duration // give up on a silent sender (default 30 s)
	StatusEvery   time.Duration // feedback interval of a small group (default 100 ms; feedback_timers.go)

	OnEvent func(Event)
}

// withDefaults returns c with its zero fields filled in.
func (c ReceiveConfig) withDefaults() ReceiveConfig {
	if c.MaxSessions == 0 {
		c.MaxSessions = defaultMaxSessions
	}
	if c.MaxPending == 0 {
		c.MaxPending = defaultMaxPending
	}
	if c.MaxManifest == 0 {
		c.MaxManifest = defaultMaxManifest
	}
	if c.SenderTimeout == 0 {
		c.SenderTimeout = 30 * time.Second
	}
	if c.StatusEvery == 0 {
		c.StatusEvery = defaultStatusEvery
	}
	if c.OnEvent == nil {
		c.OnEvent = func(Event) {}
	}
	return c
}

// ErrSessionFailed is returned by Receive with Once when the push failed.
var ErrSessionFailed = errors.New("push: receive failed")

// sessionKey names a push by its sender and its session id. The id is
// chosen by the sender and visible on the LAN, so another key announcing
// the same id must not shadow (or refuse on behalf of) the real push.
type sessionKey struct {
	sender [32]byte
	sid    protocol.SessionID
}

// offer is an announce waiting for its grant.
type offer struct {
	sender   [32]byte
	announce protocol.Announce
	seen     time.Time
	refused  bool
	reason   byte   // why it was refused
	tried    uint64 // grant indexes looked at
}

// Receive serves pushes until ctx ends (or one push ends, with Once).
// The node must be running (Node.Run) for announces to arrive.
func Receive(ctx context.Context, cfg ReceiveConfig) error {
	r, err := newReceiver(cfg)
	if err != nil {
		return err
	}
	r.cleanStale(time.Now()) // wall time: staging is aged by file modification times
	return r.run(ctx)
}

func newReceiver(cfg ReceiveConfig) (*receiver, error) {
	cfg = cfg.withDefaults()
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("push: target dir: %w", err)
	}
	return &receiver{cfg: cfg, n: cfg.Node, offers: map[sessionKey]*offer{}, sessions: map[sessionKey]*rsession{},
		absDir: dir, received: openReceivedLog(cfg.Node.Home)}, nil
}

type receiver struct {
	cfg      ReceiveConfig
	n        *node.Node
	offers   map[sessionKey]*offer
	sessions map[sessionKey]*rsession
	wg       sync.WaitGroup
	absDir   string       // cfg.Dir, absolute: the received log's key
	received *receivedLog // pushes completed here (completed.go)

	refuseSecond time.Time // start of the current refusal budget
	refusals     int       // refusals sent in it
}

func (r *receiver) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); r.wg.Wait() }()
	announces := r.n.Subscribe(protocol.TypeAnnounce, 64)
	grants := r.n.Subscribe(protocol.TypeGrant, 64)
	ends := r.n.Subscribe(protocol.TypeEnd, 64)
	defer func() {
		for _, ch := range []<-chan node.Packet{announces, grants, ends} {
			r.n.Unsubscribe(ch)
		}
	}()
	results := make(chan error, r.cfg.MaxSessions)
	for {
		select {
		case <-ctx.Done():
			return nil
		case p, ok := <-announces:
			if !ok {
				return nil
			}
			r.onAnnounce(ctx, p)
		case p, ok := <-grants:
			if !ok {
				return nil
			}
			r.onGrant(ctx, p, results)
		case p, ok := <-ends:
			if !ok {
				return nil
			}
			if e, err := protocol.ParseEnd(p.Body); err == nil {
				if s := r.sessions[sessionKey{p.Sender, e.Session}]; s != nil {
					s.ended(e.Reason)
				}
			}
		case err := <-results:
			r.reap()
			if r.cfg.Once {
				return err
			}
		}
	}
}

// reap forgets finished sessions. A session that failed is remembered as a refused offer, so a sender
// whose push cannot be taken (a bad manifest, a full disk) is told so on
// its next announces instead of being admitted again and again.
func (r *receiver) reap() {
	for key, s := range r.sessions {
		if !s.finished() {
			continue
		}
		delete(r.sessions, key)
		if err := s.failure(); err != nil {
			r.makeRoom(key.sender)
			r.offers[key] = &offer{sender: key.sender, announce: s.a, seen: r.n.Now(), refused: true, reason: reasonFor(err)}
		}
	}
}

func (r *receiver) onAnnounce(ctx context.Context, p node.Packet) {
	a, err := protocol.ParseAnnounce(p.Body)
	if err != nil {
		return
	}
	if string(p.Sender[:]) == string(r.n.ID.SignPub) {
		return // our own push, from another process on this identity: we are not one of its receivers
	}
	key := sessionKey{p.Sender, a.Session}
	if s := r.sessions[key]; s != nil {
		s.heard(a)
		s.heardFrom(p.Src.Addr())
		return
	}
	if r.received.hasSession(p.Sender, a.Session) {
		// Completed here before (this process or an earlier one): say so
		// again, so the sender counts us done, and never admit it twice.
		r.answer(protocol.Status{Session: a.Session, State: protocol.StateComplete, Complete: a.Blocks, HavePrefix: a.Blocks})
		return
	}
	if o := r.offers[key]; o != nil {
		if !o.refused || r.n.Now().Sub(o.seen) <= time.Second {
			return
		}
		o.seen = r.n.Now()
		if !r.mayRetry(o) {
			r.refuse(a.Session, o.reason) // remind the sender
			return
		}
		delete(r.offers, key) // what refused it changed: admit it afresh
	}
	r.makeRoom(p.Sender)
	o := &offer{sender: p.Sender, announce: a, seen: r.n.Now()}
	r.offers[key] = o
	fp := identity.Fingerprint(p.Sender[:])
	name, _, trusted := r.n.SenderTrust(p.Sender[:])
	r.cfg.OnEvent(Event{Kind: EventOffered, Session: a.Session.String(), Sender: fp, Name: name, Total: int64(a.TotalSize), Time: r.n.Now()})
	if reason, err := r.admit(p.Sender, trusted, a); err != nil {
		o.refused, o.reason = true, reason
		r.cfg.OnEvent(Event{Kind: EventRefused, Session: a.Session.String(), Sender: fp, Name: name, Err: err, Time: r.n.Now()})
		r.refuse(a.Session, reason)
	}
}

// mayRetry reports whether a refused offer deserves a fresh look: a
// session slot freed up, or the user trusted the sender meanwhile (herald
// ui's Inbox accepts a push that way while its sender still waits).
func (r *receiver) mayRetry(o *offer) bool {
	switch o.reason {
	case protocol.ReasonBusy:
		return len(r.sessions) < r.cfg.MaxSessions
	case protocol.ReasonUntrusted:
		_, _, trusted := r.n.SenderTrust(o.sender[:])
		// Trust hook (identity helper): or the receiver joined the
		// channel meanwhile and the sender owns it.
		return trusted || r.isChannelOwner(o.sender, o.announce)
	}
	return false
}

// isChannelOwner reports whether sender owns the channel a announces to
// (SPEC.md §8: owners), a trust hook of the identity helper.
func (r *receiver) isChannelOwner(sender [32]byte, a protocol.Announce) bool {
	return a.KeyMode == protocol.KeyModeChannel && r.n.Channels.OwnerOf(a.Channel, sender[:])
}

// admit decides whether to take a push from sender.
func (r *receiver) admit(sender [32]byte, trusted bool, a protocol.Announce) (byte, error) {
	// Trust hook (identity helper): an owner of the push's channel is
	// accepted there like a trusted key (SPEC.md §8: owners).
	allowed := trusted || r.isChannelOwner(sender, a) || r.cfg.AcceptAny
	for _, k := range r.cfg.From {
		if string(k) == string(sender[:]) {
			allowed = true
		}
	}
	if r.cfg.FromFingerprints != nil && slices.Contains(r.cfg.FromFingerprints(), identity.Fingerprint(sender[:])) {
		allowed = true
	}
	switch {
	case !allowed:
		return protocol.ReasonUntrusted, fmt.Errorf("sender %s is not trusted", identity.Fingerprint(sender[:]))
	case len(r.sessions) >= r.cfg.MaxSessions:
		return protocol.ReasonBusy, errors.New("too many pushes at once")
	case int(a.ManifestLen) > r.cfg.MaxManifest:
		return protocol.ReasonTooLarge, fmt.Errorf("file list of %d bytes exceeds this receiver's %d", a.ManifestLen, r.cfg.MaxManifest)
	}
	if free, ok := freeSpace(r.cfg.Dir); ok && free < a.TotalSize {
		return protocol.ReasonDiskFull, fmt.Errorf("push needs %d bytes, %s has %d free", a.TotalSize, r.cfg.Dir, free)
	}
	return 0, nil
}

// makeRoom keeps the offer table within maxOffers, and each sender within
// maxOffersPerSender, before an offer from sender is added. A flood of
// announces (from one key, or from many fresh untrusted keys) then evicts
// its own oldest offers, refused ones first, instead of locking out a
// real announce that comes later.
func (r *receiver) makeRoom(sender [32]byte) {
	var oldestMine, oldest, oldestRefused sessionKey
	var seenMine, seenAny, seenRefused time.Time
	mine := 0
	for k, o := range r.offers {
		if r.n.Now().Sub(o.seen) > 30*time.Second {
			delete(r.offers, k)
			continue
		}
		if o.sender == sender {
			if mine++; seenMine.IsZero() || o.seen.Before(seenMine) {
				oldestMine, seenMine = k, o.seen
			}
		}
		if o.refused && (seenRefused.IsZero() || o.seen.Before(seenRefused)) {
			oldestRefused, seenRefused = k, o.seen
		}
		if seenAny.IsZero() || o.seen.Before(seenAny) {
			oldest, seenAny = k, o.seen
		}
	}
	switch {
	case mine >= maxOffersPerSender:
		delete(r.offers, oldestMine)
	case len(r.offers) < maxOffers:
	case !seenRefused.IsZero():
		delete(r.offers, oldestRefused)
	default:
		delete(r.offers, oldest)
	}
}

// refuse tells the sender, so its report can say why.
func (r *receiver) refuse(sid protocol.SessionID, reason byte) {
	r.answer(protocol.Status{Session: sid, State: protocol.StateRefused, Reason: reason})
}

// answer sends a status for a push this receiver does not run (refused,
// or completed before). Such answers reply to announces anyone can send,
// so at most maxRefusalsPerSec go out.
func (r *receiver) answer(st protocol.Status) {
	if now := r.n.Now(); now.Sub(r.refuseSecond) >= time.Second {
		r.refuseSecond, r.refusals = now, 0
	}
	if r.refusals >= maxRefusalsPerSec {
		return
	}
	r.refusals++
	_, fb := protocol.SessionGroups(r.n.Control.Addr(), st.Session)
	pkt, _ := r.n.Signer.Append(nil, st)
	if c, err := r.n.Listen(r.n.Control); err == nil {
		c.WriteBatch([][]byte{pkt}, addrPort(fb, r.n.Control.Port()))
		c.Close()
	}
}

func (r *receiver) onGrant(ctx context.Context, p node.Packet, results chan<- error) {
	g, err := protocol.ParseGrant(p.Body)
	if err != nil {
		return
	}
	key := sessionKey{p.Sender, g.Session}
	if s := r.sessions[key]; s != nil {
		s.noteRecipients(g) // the other grants name the other recipients
		return
	}
	o := r.offers[key]
	if o == nil || o.refused || !g.Fits(o.announce) { // an Index past Grants must not count as "seen"
		return
	}
	sessKey, err := openGrant(o.announce.KeyMode, g, p.Envelope, r.n.ID, r.channels())
	if err != nil {
		o.tried |= 1 << g.Index
		if bits.OnesCount64(o.tried) >= int(o.announce.Grants) { // every grant seen, none for us
			o.refused, o.reason = true, protocol.ReasonNoKey
			r.cfg.OnEvent(Event{Kind: EventRefused, Session: g.Session.String(), Sender: identity.Fingerprint(p.Sender[:]), Err: err, Time: r.n.Now()})
			r.refuse(g.Session, protocol.ReasonNoKey)
		}
		return
	}
	delete(r.offers, key)
	s, err := newRSession(r, o, sessKey, p.Src.Addr(), g)
	if err != nil {
		r.cfg.OnEvent(Event{Kind: EventFailed, Session: g.Session.String(), Err: err, Time: r.n.Now()})
		return
	}
	r.sessions[key] = s
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := s.run(ctx)
		select { // run's deferred cancel frees this send if nobody reads results any more
		case results <- err:
		case <-ctx.Done():
		}
	}()
}

func (r *receiver) channels() []identity.Channel {
	if r.n.Channels == nil {
		return nil
	}
	return r.n.Channels.List()
}
