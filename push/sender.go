package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Sender timers and limits (SPEC.md §6.7).
const (
	announceEvery   = 250 * time.Millisecond
	settleAfterJoin = 500 * time.Millisecond
	interleave      = 32 // blocks whose shards are interleaved
	batchLen        = 32
	maxReceivers    = 1024
	defaultRate     = 100e6 // bits/s when neither --rate nor auto says otherwise
	repairGuard     = 60 * time.Millisecond
	silentAfter     = 5 * time.Second
	manifestWait    = 3 * time.Second
)

// ErrNoReceivers means nobody registered before --wait ran out.
var ErrNoReceivers = errors.New("push: no receiver answered")

// SendConfig describes one push.
type SendConfig struct {
	Node   *node.Node
	Source *Source

	// Key policy: Recipients (seal to each), else Channel (non-open), else
	// the open channel, where NoEncrypt must be set explicitly.
	Recipients []identity.Peer
	Channel    identity.Channel
	NoEncrypt  bool

	K           int     // data shards per block (fec.DefaultK)
	ShardSize   int     // bytes per shard (fec.DefaultShardSize)
	Parity      int     // proactive parity shards per block, with FixedParity
	FixedParity bool    // false: parity adapts to the loss receivers report
	Rate        float64 // bits/s; 0 = auto
	MaxRate     float64 // auto ceiling (default 1 Gbit/s)

	MinReceivers int           // receivers that must complete
	Wait         time.Duration // how long to wait for them to register
	Carousel     time.Duration // keep sending for late joiners this long after the first pass
	GiveUp       time.Duration // drop a receiver that makes no progress this long

	OnEvent func(Event)
}

func (c *SendConfig) defaults() error {
	if c.K == 0 {
		c.K = fec.DefaultK
	}
	if c.ShardSize == 0 {
		c.ShardSize = fec.DefaultShardSize
	}
	if c.K < 1 || c.K > protocol.MaxK || c.ShardSize < protocol.MinShardSize || c.ShardSize > protocol.MaxShardSize {
		return fmt.Errorf("push: k must be 1..%d and shard size %d..%d", protocol.MaxK, protocol.MinShardSize, protocol.MaxShardSize)
	}
	if c.MaxRate == 0 {
		c.MaxRate = 1e9
	}
	if c.Wait == 0 {
		c.Wait = 10 * time.Second
	}
	if c.GiveUp == 0 {
		c.GiveUp = 20 * time.Second
	}
	if c.OnEvent == nil {
		c.OnEvent = func(Event) {}
	}
	return nil
}

func (c *SendConfig) policy() (keyPolicy, error) {
	switch {
	case len(c.Recipients) > 0:
		if len(c.Recipients) > protocol.MaxGrants*protocol.MaxGrantEntries {
			return keyPolicy{}, fmt.Errorf("push: at most %d recipients", protocol.MaxGrants*protocol.MaxGrantEntries)
		}
		return keyPolicy{mode: protocol.KeyModeRecipients, recipients: c.Recipients}, nil
	case !c.Channel.IsOpen():
		return keyPolicy{mode: protocol.KeyModeChannel, channel: c.Channel}, nil
	case c.NoEncrypt:
		return keyPolicy{mode: protocol.KeyModePublic}, nil
	}
	return keyPolicy{}, ErrOpenChannel
}

// ErrOpenChannel refuses to push in clear without being asked.
var ErrOpenChannel = errors.New("push: on the open channel a push is readable by anyone")

// Send runs one push to completion and returns the per-receiver report.
func Send(ctx context.Context, cfg SendConfig) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s, err := newSender(cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.run(ctx)
}

// sender is the state of one push. Owned by its run goroutine, except
// that the feedback reader hands statuses over through a bounded channel.
type sender struct {
	nonce    [12]byte // the shard being sealed; a field, since a local passed to the AEAD escapes (one allocation a datagram)
	cfg      SendConfig
	n        *node.Node
	src      *Source
	policy   keyPolicy
	sid      protocol.SessionID
	key      [32]byte
	keys     sessionKeys
	announce protocol.Announce
	manifest [][]byte // signed manifest chunk packets
	blocks   int
	bsize    int
	full     *fec.Code
	last     *fec.Code
	data     netip.AddrPort
	conn     multicast.Conn
	pacer    *multicast.Pacer
	rate     *rateControl

	statuses     chan statusMsg
	peers        map[[32]byte]*peerState
	nextIdx      []uint16 // next shard index to send, per block
	lastSent     []int64  // unix nanos of the last send, per block
	repairs      *repairQueue
	manifestNeed []uint32 // manifest chunks asked for again
	cache        *blockCache
	out          *batch

	start     time.Time
	sentBytes int64 // content bytes sent in the first pass
	wire      int64
	repairN   int64
	parity    int // proactive parity per block now
	lastAdapt time.Time
}

func newSender(cfg SendConfig) (*sender, error) {
	pol, err := cfg.policy()
	if err != nil {
		return nil, err
	}
	s := &sender{cfg: cfg, n: cfg.Node, src: cfg.Source, policy: pol, key: randomKey(),
		statuses: make(chan statusMsg, 1024), peers: map[[32]byte]*peerState{}}
	if _, err := rand.Read(s.sid[:]); err != nil {
		return nil, err
	}
	s.keys = newSessionKeys(s.key)
	s.bsize = cfg.K * cfg.ShardSize
	hashStart := time.Now()
	m, err := s.src.Manifest(s.bsize)
	if err != nil {
		return nil, err
	}
	if s.n.Logger != nil {
		s.n.Logger.Debug("push: manifest hashed", "blocks", len(m.Hashes), "took", time.Since(hashStart).Round(time.Millisecond))
	}
	s.blocks = len(m.Hashes)
	if s.full, err = fec.New(cfg.K, cfg.ShardSize); err != nil {
		return nil, err
	}
	s.last = s.full
	if s.blocks > 0 {
		if bk := fec.BlockK(s.src.Size(), cfg.K, cfg.ShardSize, int64(s.blocks-1)); bk != cfg.K {
			if s.last, err = fec.New(bk, cfg.ShardSize); err != nil {
				return nil, err
			}
		}
	}
	plain := m.AppendBinary(nil)
	s.manifest = sealManifest(s.n.Signer, s.sid, s.keys, plain)
	grants := (pol.grantEntries() + protocol.MaxGrantEntries - 1) / protocol.MaxGrantEntries
	s.announce = protocol.Announce{Session: s.sid, KeyMode: pol.mode, K: byte(cfg.K), ShardSize: uint16(cfg.ShardSize),
		Blocks: uint32(s.blocks), TotalSize: uint64(s.src.Size()), ManifestLen: uint32(len(plain)),
		ManifestParts: uint32(len(s.manifest)), Grants: uint16(grants)}
	if pol.mode == protocol.KeyModeChannel {
		s.announce.Channel = pol.channel.ID()
	}
	if cfg.Carousel > 0 {
		s.announce.Flags |= protocol.AnnounceCarousel
	}
	dataGroup, fbGroup := protocol.SessionGroups(s.n.Control.Addr(), s.sid)
	s.data = netip.AddrPortFrom(dataGroup, s.n.Control.Port())
	if s.conn, err = s.n.Listen(netip.AddrPortFrom(fbGroup, s.n.Control.Port())); err != nil {
		return nil, err
	}
	s.nextIdx = make([]uint16, s.blocks)
	s.lastSent = make([]int64, s.blocks)
	s.repairs = newRepairQueue(s.blocks)
	s.cache = newBlockCache(interleave*4, s.bsize)
	s.out = newBatch(batchLen)
	s.rate = newRateControl(cfg.Rate, cfg.MaxRate)
	s.pacer = multicast.NewPacer(s.rate.current())
	if cfg.FixedParity {
		s.parity = min(max(cfg.Parity, 0), 255-cfg.K)
	}
	return s, nil
}

func (s *sender) close() {
	s.conn.Close()
	s.src.Close()
}

func (s *sender) blockK(b int) int {
	if b == s.blocks-1 {
		return s.last.K()
	}
	return s.full.K()
}

func (s *sender) code(b int) *fec.Code {
	if b == s.blocks-1 {
		return s.last
	}
	return s.full
}

func (s *sender) emit(e Event) {
	e.Session = hex.EncodeToString(s.sid[:])
	e.Time = time.Now()
	s.cfg.OnEvent(e)
}

func (s *sender) run(ctx context.Context) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.readFeedback(ctx)
	s.start = time.Now()
	if err := s.register(ctx); err != nil {
		s.sendEnd(protocol.EndAborted)
		return s.report(), err
	}
	s.debug("registered", "receivers", s.countJoined())
	err := s.transfer(ctx)
	s.debug("finished", "err", err, "wire", s.wire, "repair", s.repairN)
	if err != nil {
		s.sendEnd(protocol.EndAborted)
	} else {
		s.sendEnd(protocol.EndComplete)
	}
	return s.report(), err
}

// expected is how many receivers must complete.
func (s *sender) expected() int {
	return max(len(s.cfg.Recipients), s.cfg.MinReceivers)
}

// register announces until the expected receivers joined or Wait ran out.
func (s *sender) register(ctx context.Context) error {
	deadline := time.Now().Add(s.cfg.Wait)
	lastJoin := time.Time{}
	nextAnnounce := time.Now()
	for {
		if !time.Now().Before(nextAnnounce) {
			if err := s.sendAnnounce(); err != nil {
				return err
			}
			nextAnnounce = time.Now().Add(announceEvery)
		}
		t := time.NewTimer(time.Until(nextAnnounce))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case m := <-s.statuses:
			if s.handleStatus(m) {
				lastJoin = time.Now()
			}
		case <-t.C:
		}
		t.Stop()
		joined := s.countJoined()
		switch {
		case s.expected() > 0 && s.expectedJoined():
			return nil
		case s.expected() == 0 && joined > 0 && time.Since(lastJoin) >= settleAfterJoin:
			return nil
		case time.Now().After(deadline):
			if joined == 0 && s.cfg.Carousel == 0 {
				return fmt.Errorf("%w within %v", ErrNoReceivers, s.cfg.Wait)
			}
			return nil
		}
	}
}

// debug logs a phase of the push with the time since it started.
func (s *sender) debug(msg string, args ...any) {
	if s.n.Logger != nil {
		s.n.Logger.Debug("push: "+msg, append(args, "after", time.Since(s.start).Round(time.Millisecond))...)
	}
}

func (s *sender) sendAnnounce() error {
	pkts := [][]byte{}
	b, _ := s.n.Signer.Append(nil, s.announce)
	pkts = append(pkts, b)
	pkts = append(pkts, s.grantPackets()...)
	for _, p := range pkts {
		if err := s.n.Send(p); err != nil {
			return err
		}
		s.wire += int64(len(p))
	}
	return nil
}

// grantPackets signs the grants afresh: nonces come from the envelope.
func (s *sender) grantPackets() [][]byte {
	var pkts [][]byte
	total := s.policy.grantEntries()
	for g := 0; g*protocol.MaxGrantEntries < total; g++ {
		env := s.n.Signer.Next()
		body := protocol.Grant{Session: s.sid, BoxKey: s.n.ID.BoxPub, Index: uint16(g)}
		for i := g * protocol.MaxGrantEntries; i < min(total, (g+1)*protocol.MaxGrantEntries); i++ {
			sub := i - g*protocol.MaxGrantEntries
			body.Entries = append(body.Entries, s.policy.sealEntry(s.key, i, byte(sub), env, &s.n.ID.BoxKey))
		}
		pkts = append(pkts, s.n.Signer.AppendWith(nil, env, body))
	}
	return pkts
}

func (s *sender) sendEnd(reason byte) {
	b, _ := s.n.Signer.Append(nil, protocol.End{Session: s.sid, Reason: reason})
	for range 3 {
		s.n.Send(b)
		s.wire += int64(len(b))
		time.Sleep(10 * time.Millisecond)
	}
}
