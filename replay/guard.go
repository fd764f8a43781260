package replay

import (
	"math"
	"net/netip"
	"sync"
)

// Guard remembers which signed packets were accepted and refuses them a
// second time. Safe for concurrent use; one mutex covers all state, held
// for a map lookup and a few bit operations per packet.
type Guard struct {
	cfg     Config
	skewMs  uint64
	graceMs uint64 // cfg.DuplicateGrace

	mu          sync.Mutex
	senders     map[[32]byte]*sender
	lru         senderList // strangers only; head: most recently accepted
	strangers   int        // senders in lru
	protected   int        // senders outside lru, never evicted by strangers
	isProtected func([32]byte) bool
	// admits counts the strangers each source address added since
	// admitsSince; the table is emptied every MaxSkew.
	admits      map[netip.Addr]int
	admitsSince uint64
}

// sender is the replay state of one public key.
type sender struct {
	key    [32]byte
	epochs []*epochState // at most cfg.EpochsPerSender
	// newest is the highest timestamp accepted from this sender; once it
	// is older than now-MaxSkew every packet ever accepted is stale and
	// the sender can be forgotten safely.
	newest uint64
	// floor: packets at or below it are refused in every epoch; set from
	// the saved state of a previous process (LoadState), whose accepted
	// packets are not known one by one.
	floor      uint64
	protected  bool
	prev, next *sender
}

type epochState struct {
	epoch  uint64
	newest uint64 // highest timestamp accepted in this epoch
	// floor is the newest timestamp of the epoch retired to make room for
	// this one (0 if none was). Every packet ever accepted from a retired
	// epoch is at or below it, so refusing timestamps <= floor keeps them
	// out even if their epoch number comes back with a fresh window.
	floor uint64
	// newestAt is the local clock when newest was accepted, so a repeat
	// can be told apart as a copy (ErrDuplicate) or a replay.
	newestAt uint64
	w        window
}

// NewGuard returns a Guard with cfg's zero fields set to the defaults.
func NewGuard(cfg Config) *Guard {
	cfg = cfg.withDefaults()
	return &Guard{
		cfg:         cfg,
		skewMs:      uint64(cfg.MaxSkew.Milliseconds()),
		graceMs:     uint64(cfg.DuplicateGrace.Milliseconds()),
		senders:     make(map[[32]byte]*sender),
		isProtected: cfg.Protected,
		admits:      make(map[netip.Addr]int),
	}
}

// SetProtected replaces Config.Protected: the trust layer tells the guard
// which keys strangers must never lock out. Senders already tracked keep
// their class until they expire.
func (g *Guard) SetProtected(fn func(key [32]byte) bool) {
	g.mu.Lock()
	g.isProtected = fn
	g.mu.Unlock()
}

// Check accepts the packet (sender, epoch, counter, tsMillis) once and
// records it, or returns an error matching ErrReplay, ErrStale,
// ErrFuture or ErrTooManySenders and records nothing. It MUST only be
// called after the packet's signature was verified.
func (g *Guard) Check(senderKey [32]byte, epoch, counter, tsMillis uint64) error {
	return g.CheckFrom(senderKey, netip.Addr{}, epoch, counter, tsMillis)
}

// CheckFrom is Check for a packet that came from src, which counts
// against that address's share of new senders (Config.NewPerAddr).
func (g *Guard) CheckFrom(senderKey [32]byte, src netip.Addr, epoch, counter, tsMillis uint64) error {
	if counter == 0 {
		return errCounterZero
	}
	nowMs := g.nowMillis()
	if tsMillis > nowMs+g.skewMs {
		return ErrFuture
	}
	if tsMillis+g.skewMs < nowMs {
		return ErrStale
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.senders[senderKey]
	if s == nil {
		var err error
		if s, err = g.addSender(senderKey, src, nowMs); err != nil {
			return err
		}
	}
	e, err := g.epochFor(s, epoch, tsMillis)
	if err != nil {
		return err
	}
	if tsMillis <= e.floor || tsMillis <= s.floor {
		return errBelowFloor
	}
	if err := e.w.accept(counter); err != nil {
		if err == errDuplicate && e.newestAt+g.graceMs >= nowMs+(e.newest-min(e.newest, tsMillis)) {
			return ErrDuplicate
		}
		return err
	}
	if tsMillis >= e.newest {
		e.newest, e.newestAt = tsMillis, nowMs
	}
	s.newest = max(s.newest, tsMillis)
	if !s.protected {
		g.lru.moveToFront(s)
	}
	return nil
}

// nowMillis is the local clock in Unix milliseconds, clamped so the
// additions in Check cannot wrap.
func (g *Guard) nowMillis() uint64 {
	ms := g.cfg.Now().UnixMilli()
	if ms < 0 {
		return 0
	}
	return min(uint64(ms), math.MaxUint64/2)
}

// addSender makes room for and inserts a new sender. A protected key
// takes a reserved slot; a stranger must pass its source address's share
// and may only replace an expired stranger.
func (g *Guard) addSender(key [32]byte, src netip.Addr, nowMs uint64) (*sender, error) {
	if g.isProtected != nil && g.isProtected(key) && g.roomForProtected(nowMs) {
		s := &sender{key: key, protected: true, epochs: make([]*epochState, 0, g.cfg.EpochsPerSender)}
		g.senders[key] = s
		g.protected++
		return s, nil
	}
	if err := g.admitFrom(src, nowMs); err != nil {
		return nil, err
	}
	if g.strangers >= g.cfg.MaxSenders {
		oldest := g.lru.tail
		if oldest == nil || oldest.newest+g.skewMs >= nowMs {
			return nil, ErrTooManySenders
		}
		g.lru.remove(oldest)
		delete(g.senders, oldest.key)
		g.strangers--
	}
	s := &sender{key: key, epochs: make([]*epochState, 0, g.cfg.EpochsPerSender)}
	g.senders[key] = s
	g.lru.pushFront(s)
	g.strangers++
	if src.IsValid() {
		g.admits[src]++
	}
	return s, nil
}

// roomForProtected reports whether a protected sender fits, forgetting
// expired protected senders when the reserve is full (rare: a scan).
func (g *Guard) roomForProtected(nowMs uint64) bool {
	if g.protected < g.cfg.MaxProtected {
		return true
	}
	for k, s := range g.senders {
		if s.protected && s.newest+g.skewMs < nowMs {
			delete(g.senders, k)
			g.protected--
		}
	}
	return g.protected < g.cfg.MaxProtected
}

// admitFrom checks src's share of new strangers for this period.
func (g *Guard) admitFrom(src netip.Addr, nowMs uint64) error {
	if !src.IsValid() {
		return nil
	}
	if nowMs >= g.admitsSince+g.skewMs {
		clear(g.admits)
		g.admitsSince = nowMs
	}
	n, ok := g.admits[src]
	if n >= g.cfg.NewPerAddr || (!ok && len(g.admits) >= maxAddrs) {
		return errPerAddr
	}
	return nil
}

// epochFor finds epoch in s's table or makes room for it, following the
// rules in the package documentation. On error s is unchanged.
func (g *Guard) epochFor(s *sender, epoch, tsMillis uint64) (*epochState, error) {
	for _, e := range s.epochs {
		if e.epoch == epoch {
			return e, nil
		}
	}
	if len(s.epochs) < g.cfg.EpochsPerSender {
		e := &epochState{epoch: epoch, w: newWindow(g.cfg.Window)}
		s.epochs = append(s.epochs, e)
		return e, nil
	}
	victim := s.epochs[0]
	for _, e := range s.epochs[1:] {
		if e.newest < victim.newest {
			victim = e
		}
	}
	if tsMillis <= victim.newest {
		return nil, errEpochTooOld
	}
	victim.epoch, victim.floor, victim.newest, victim.newestAt = epoch, victim.newest, 0, 0
	victim.w.reset() // reuse the bitmap: no allocation per restart
	return victim, nil
}

// Protected is how many senders hold a reserved (protected) slot.
func (g *Guard) Protected() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.protected
}

// Senders is how many senders are tracked.
func (g *Guard) Senders() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.senders)
}

// senderList is an intrusive doubly linked list of senders in order of
// last acceptance, so the LRU needs no allocation per packet.
type senderList struct{ head, tail *sender }

func (l *senderList) pushFront(s *sender) {
	s.prev, s.next = nil, l.head
	if l.head != nil {
		l.head.prev = s
	} else {
		l.tail = s
	}
	l.head = s
}

func (l *senderList) remove(s *sender) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		l.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		l.tail = s.prev
	}
	s.prev, s.next = nil, nil
}

func (l *senderList) moveToFront(s *sender) {
	if l.head == s {
		return
	}
	l.remove(s)
	l.pushFront(s)
}

func (l *senderList) pushBack(s *sender) {
	s.prev, s.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = s
	} else {
		l.head = s
	}
	l.tail = s
}
