package push

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Receiver limits (SPEC.md §6.8).
const (
	defaultMaxSessions = 4
	defaultMaxPending  = 256 // blocks in assembly per session
	defaultMaxManifest = 16 << 20
	maxOffers          = 256 // announces remembered (refused or pending)
)

// ReceiveConfig describes a receiver.
type ReceiveConfig struct {
	Node      *node.Node
	Dir       string
	From      []ed25519.PublicKey // senders accepted besides trusted ones
	AcceptAny bool                // accept any sender (its fingerprint is shown)
	Overwrite bool
	Once      bool // return after one push completes (or fails)

	MaxSessions   int
	MaxPending    int
	MaxManifest   int
	SenderTimeout time.Duration // give up on a silent sender (default 30 s)
	StatusEvery   time.Duration // feedback interval (default 100 ms)

	OnEvent func(Event)
}

func (c *ReceiveConfig) defaults() {
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
		c.StatusEvery = 100 * time.Millisecond
	}
	if c.OnEvent == nil {
		c.OnEvent = func(Event) {}
	}
}

// ErrSessionFailed is returned by Receive with Once when the push failed.
var ErrSessionFailed = errors.New("push: receive failed")

// offer is an announce waiting for its grant.
type offer struct {
	sender   [32]byte
	announce protocol.Announce
	seen     time.Time
	refused  bool
	tried    uint64 // grant indexes looked at
}

// Receive serves pushes until ctx ends (or one push ends, with Once).
// The node must be running (Node.Run) for announces to arrive.
func Receive(ctx context.Context, cfg ReceiveConfig) error {
	cfg.defaults()
	r := &receiver{cfg: cfg, n: cfg.Node, offers: map[protocol.SessionID]*offer{}, sessions: map[protocol.SessionID]*rsession{}}
	return r.run(ctx)
}

type receiver struct {
	cfg      ReceiveConfig
	n        *node.Node
	offers   map[protocol.SessionID]*offer
	sessions map[protocol.SessionID]*rsession
	wg       sync.WaitGroup
}

func (r *receiver) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); r.wg.Wait() }()
	announces := r.n.Subscribe(protocol.TypeAnnounce, 64)
	grants := r.n.Subscribe(protocol.TypeGrant, 64)
	ends := r.n.Subscribe(protocol.TypeEnd, 64)
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
				if s := r.sessions[e.Session]; s != nil && s.sender == p.Sender {
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

// reap forgets finished sessions.
func (r *receiver) reap() {
	for id, s := range r.sessions {
		if s.finished() {
			delete(r.sessions, id)
		}
	}
}

func (r *receiver) onAnnounce(ctx context.Context, p node.Packet) {
	a, err := protocol.ParseAnnounce(p.Body)
	if err != nil {
		return
	}
	if s := r.sessions[a.Session]; s != nil {
		if s.sender == p.Sender {
			s.heard(a.Sent)
		}
		return
	}
	if o := r.offers[a.Session]; o != nil {
		if o.refused && time.Since(o.seen) > time.Second {
			o.seen = time.Now()
			r.refuse(a.Session, protocol.ReasonUntrusted) // remind the sender
		}
		return
	}
	if len(r.offers) >= maxOffers {
		r.expireOffers()
		if len(r.offers) >= maxOffers {
			return
		}
	}
	o := &offer{sender: p.Sender, announce: a, seen: time.Now()}
	r.offers[a.Session] = o
	fp := identity.Fingerprint(p.Sender[:])
	name, _, trusted := r.n.SenderTrust(p.Sender[:])
	r.cfg.OnEvent(Event{Kind: EventOffered, Session: fmt.Sprintf("%x", a.Session), Sender: fp, Name: name, Total: int64(a.TotalSize), Time: time.Now()})
	if reason, err := r.admit(p.Sender, trusted, a); err != nil {
		o.refused = true
		r.cfg.OnEvent(Event{Kind: EventRefused, Session: fmt.Sprintf("%x", a.Session), Sender: fp, Name: name, Err: err, Time: time.Now()})
		r.refuse(a.Session, reason)
	}
}

// admit decides whether to take a push from sender.
func (r *receiver) admit(sender [32]byte, trusted bool, a protocol.Announce) (byte, error) {
	if peer, ok := r.n.Trust.Lookup(sender[:]); ok && peer.State() == identity.Changed {
		return protocol.ReasonUntrusted, errors.New("sender's key changed: refused")
	}
	allowed := trusted || r.cfg.AcceptAny
	for _, k := range r.cfg.From {
		if string(k) == string(sender[:]) {
			allowed = true
		}
	}
	switch {
	case !allowed:
		return protocol.ReasonUntrusted, fmt.Errorf("sender %s is not trusted: run `herald trust %s` or receive with --from/--accept-any", identity.Fingerprint(sender[:]), identity.Fingerprint(sender[:]))
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

func (r *receiver) expireOffers() {
	for id, o := range r.offers {
		if time.Since(o.seen) > 30*time.Second {
			delete(r.offers, id)
		}
	}
}

// refuse tells the sender, so its report can say why.
func (r *receiver) refuse(sid protocol.SessionID, reason byte) {
	_, fb := protocol.SessionGroups(r.n.Control.Addr(), sid)
	pkt, _ := r.n.Signer.Append(nil, protocol.Status{Session: sid, State: protocol.StateRefused, Reason: reason})
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
	o := r.offers[g.Session]
	if o == nil || o.refused || o.sender != p.Sender || r.sessions[g.Session] != nil {
		return
	}
	key, err := openGrant(o.announce.KeyMode, g, p.Envelope, r.n.ID, r.channels())
	if err != nil {
		o.tried |= 1 << g.Index
		if bits.OnesCount64(o.tried) >= int(o.announce.Grants) { // every grant seen, none for us
			o.refused = true
			r.cfg.OnEvent(Event{Kind: EventRefused, Session: fmt.Sprintf("%x", g.Session), Sender: identity.Fingerprint(p.Sender[:]), Err: err, Time: time.Now()})
			r.refuse(g.Session, protocol.ReasonNoKey)
		}
		return
	}
	delete(r.offers, g.Session)
	s, err := newRSession(r, o, key)
	if err != nil {
		r.cfg.OnEvent(Event{Kind: EventFailed, Session: fmt.Sprintf("%x", g.Session), Err: err, Time: time.Now()})
		return
	}
	r.sessions[g.Session] = s
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := s.run(ctx)
		results <- err
	}()
}

func (r *receiver) channels() []identity.Channel {
	if r.n.Channels == nil {
		return nil
	}
	return r.n.Channels.List()
}
