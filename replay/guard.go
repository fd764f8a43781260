package replay

import (
	"math"
	"sync"
)

// Guard remembers which signed packets were accepted and refuses them a
// second time. Safe for concurrent use; one mutex covers all state, held
// for a map lookup and a few bit operations per packet.
type Guard struct {
	cfg    Config
	skewMs uint64

	mu      sync.Mutex
	senders map[[32]byte]*sender
	lru     senderList // head: most recently accepted
}

// sender is the replay state of one public key.
type sender struct {
	key    [32]byte
	epochs []*epochState // at most cfg.EpochsPerSender
	// newest is the highest timestamp accepted from this sender; once it
	// is older than now-MaxSkew every packet ever accepted is stale and
	// the sender can be forgotten safely.
	newest     uint64
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
	w     window
}

// NewGuard returns a Guard with cfg's zero fields set to the defaults.
func NewGuard(cfg Config) *Guard {
	cfg = cfg.withDefaults()
	return &Guard{
		cfg:     cfg,
		skewMs:  uint64(cfg.MaxSkew.Milliseconds()),
		senders: make(map[[32]byte]*sender),
	}
}

// Check accepts the packet (sender, epoch, counter, tsMillis) once and
// records it, or returns an error matching ErrReplay, ErrStale,
// ErrFuture or ErrTooManySenders and records nothing. It MUST only be
// called after the packet's signature was verified.
func (g *Guard) Check(senderKey [32]byte, epoch, counter, tsMillis uint64) error {
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
		if s, err = g.addSender(senderKey, nowMs); err != nil {
			return err
		}
	}
	e, err := g.epochFor(s, epoch, tsMillis)
	if err != nil {
		return err
	}
	if tsMillis <= e.floor {
		return errBelowFloor
	}
	if err := e.w.accept(counter); err != nil {
		return err
	}
	e.newest = max(e.newest, tsMillis)
	s.newest = max(s.newest, tsMillis)
	g.lru.moveToFront(s)
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

// addSender makes room for and inserts a new sender.
func (g *Guard) addSender(key [32]byte, nowMs uint64) (*sender, error) {
	if len(g.senders) >= g.cfg.MaxSenders {
		oldest := g.lru.tail
		if oldest == nil || oldest.newest+g.skewMs >= nowMs {
			return nil, ErrTooManySenders
		}
		g.lru.remove(oldest)
		delete(g.senders, oldest.key)
	}
	s := &sender{key: key, epochs: make([]*epochState, 0, g.cfg.EpochsPerSender)}
	g.senders[key] = s
	g.lru.pushFront(s)
	return s, nil
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
	victim.epoch, victim.floor, victim.newest = epoch, victim.newest, 0
	victim.w.reset() // reuse the bitmap: no allocation per restart
	return victim, nil
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
