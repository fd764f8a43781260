package push

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Sender timers and limits (SPEC.md §6.7). The rate controller's are in
// rate.go.
const (
	announceEvery   = 250 * time.Millisecond
	settleAfterJoin = 500 * time.Millisecond
	waitingEvery    = time.Second // how often "still waiting for ..." is said
	interleave      = 32          // blocks whose shards are interleaved
	batchLen        = 32
	maxReceivers    = 1024
	// repairGuard: a NACK for a block whose shards left less than this
	// ago may predate them (its repair counts as in flight). A receiver
	// behind in its reading NACKs blocks whose shards wait in its socket,
	// and in a room of ten other receivers' NACKs come in for tens of
	// milliseconds after a repair went (at 25 ms the wire rose from 1.21x
	// to 1.29x there). A receiver that asks again for a repair lost whole
	// waits this long after its data went quiet (repairLostQuiet).
	repairGuard = 60 * time.Millisecond
	// registerAnnounceFirst is the gap between a push's announces (with
	// their grants) for its first registerFastFor, times the grant packets
	// each carries (a large room's grants cost the sender a box each);
	// then it doubles up to announceEvery. A receiver needs both the
	// announce and its grant: behind a 20 % path that pair gets through
	// only two times in three, and a doubling gap from the start left
	// such a receiver registering 0.2-0.6 s after the rest.
	registerAnnounceFirst = 50 * time.Millisecond
	registerFastFor       = time.Second
	// firstPassDoneCopies: the announce that says the first pass is over
	// goes this many times (the first with the grants). A receiver that
	// loses it would wait announceEvery before asking for the repair of
	// its last window.
	firstPassDoneCopies = 3
	manifestWait        = 3 * time.Second
	// manifestTwiceMax: a manifest up to this size goes out twice at
	// first (manifestCopies): some 30 000 blocks (a 2.7 GB push) or
	// 20 000 files.
	manifestTwiceMax = 1 << 20
	endCopies        = 3
	endSpacing       = 10 * time.Millisecond
	// During the first pass repair may take at most this share of the
	// shards sent, so receivers behind a bad path do not hold back the
	// rest; what it leaves waits until the first pass is over (§6.7).
	// At 0.1 four clean receivers beside one at 20 % took a median 1.22x
	// their time without it (7 alternating runs), at 0.05 1.08x, and the
	// whole push was no longer (1.81x against 1.84x).
	repairShareFirstPass = 0.05
	// repairPerRound bounds the repair shards sent between two looks at
	// the feedback and two announces after the first pass.
	repairPerRound = 4 * interleave * 8
)

// ErrNoReceivers means nobody registered before --wait ran out.
var ErrNoReceivers = errors.New("push: no receiver answered")

// ErrRefusedByAll means every expected receiver refused the push (not
// trusted, cannot decrypt, no space): waiting longer cannot help.
var ErrRefusedByAll = errors.New("push: refused by every receiver")

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
	// GiveUp drops a receiver that makes no progress this long: the others
	// never wait for it beyond that, and it is reported as partial with
	// the reason (it can resume with the same push later).
	GiveUp time.Duration

	OnEvent func(Event)
	// NameOf is the name a receiver's key claims in its presence beacon
	// ("" when none was heard), for the events and the report; nil shows
	// only --to recipients' names, others by fingerprint.
	NameOf func(ed25519.PublicKey) string

	// hashGate, when set, holds the manifest's hashing until it is closed
	// (tests of what the sender does meanwhile).
	hashGate chan struct{}
}

// withDefaults returns c with its zero fields filled in; validate checks
// what the caller chose.
func (c SendConfig) withDefaults() SendConfig {
	if c.K == 0 {
		c.K = fec.DefaultK
	}
	if c.ShardSize == 0 {
		c.ShardSize = fec.DefaultShardSize
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
	return c
}

func (c SendConfig) validate() error {
	if c.K < 1 || c.K > protocol.MaxK || c.ShardSize < protocol.MinShardSize || c.ShardSize > protocol.MaxShardSize {
		return fmt.Errorf("push: k must be 1..%d and shard size %d..%d", protocol.MaxK, protocol.MinShardSize, protocol.MaxShardSize)
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
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s, err := newSender(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.run(ctx)
}

// sender is the state of one push. Owned by its run goroutine, except
// that the feedback reader hands statuses over through a bounded channel.
// Its parts: the session (keys, announce, manifest), the receiver table
// (receivers.go), the rate controller (rate.go), shard output (shards.go)
// and the transfer loop (sender_transfer.go).
type sender struct {
	cfg    SendConfig
	n      *node.Node
	src    *Source
	layout layout

	// The session: what receivers are told and how it is sealed.
	policy   keyPolicy
	sid      protocol.SessionID
	secret   [32]byte    // the session key, sealed to receivers in grants
	keys     sessionKeys // AEADs derived from secret
	announce protocol.Announce
	manifest [][]byte // signed manifest chunk packets (once hashed)
	hashing  manifestHashing

	table    *receiverTable
	statuses chan statusMsg // from the feedback reader

	rc       rateController
	pacer    *multicast.Pacer
	samples  []rateSample // scratch
	lossBufs []float64    // the active receivers' known path losses, sorted, as of the last adapt (repairPad reads them)
	lastTick time.Time

	out          *shardOutput
	lister       *shardLister // signs shard hash lists (shardauth.go)
	repairs      *repairQueue
	manifestNeed []uint32           // manifest chunks asked for again
	watches      map[int]*deafWatch // receivers watched for deafness to the data group (unicast_switch.go)

	feedback   FeedbackStats // run goroutine's share
	readerBusy time.Duration // the feedback reader's; read after it ended
	readerShed atomic.Int64  // statuses the feedback readers dropped (sender_feedback.go)

	start     time.Time // Send called
	dataStart time.Time // first data shard
	dataEnd   time.Time
	sentBytes int64 // content bytes sent in the first pass
	repairN   int64
	parity    int // proactive parity per block now
	// listCopies is how many times each shard hash list goes now
	// (shardauth_wire.go).
	listCopies int
}

func newSender(ctx context.Context, cfg SendConfig) (*sender, error) {
	pol, err := cfg.policy()
	if err != nil {
		return nil, err
	}
	s := &sender{cfg: cfg, n: cfg.Node, src: cfg.Source, policy: pol, secret: randomKey(),
		statuses: make(chan statusMsg, 1024), listCopies: listCopiesTwice}
	s.start = s.n.Now()
	if _, err := rand.Read(s.sid[:]); err != nil {
		return nil, err
	}
	s.keys = newSessionKeys(s.secret)
	s.lister = newShardLister(s.n.Signer, s.sid, cfg.ShardSize)
	if s.layout, err = newLayout(s.src.Size(), cfg.K, cfg.ShardSize); err != nil {
		return nil, err
	}
	m, err := s.src.newManifest(s.layout)
	if err != nil {
		return nil, err
	}
	s.startHashing(ctx, m) // manifest_hash.go: receivers register meanwhile
	grants := (pol.grantEntries() + protocol.MaxGrantEntries - 1) / protocol.MaxGrantEntries
	s.announce = protocol.Announce{Session: s.sid, KeyMode: pol.mode, K: byte(cfg.K), ShardSize: uint16(cfg.ShardSize),
		Blocks: uint32(s.layout.blocks), TotalSize: uint64(s.src.Size()), ManifestLen: uint32(m.Len()),
		ManifestParts: uint32(manifestParts(m.Len())), Grants: uint16(grants)}
	if pol.mode == protocol.KeyModeChannel {
		s.announce.Channel = pol.channel.ID()
	}
	if cfg.Carousel > 0 {
		s.announce.Flags |= protocol.AnnounceCarousel
	}
	dataGroup, fbGroup := protocol.SessionGroups(s.n.Control.Addr(), s.sid)
	conn, err := s.n.Listen(netip.AddrPortFrom(fbGroup, s.n.Control.Port()))
	if err != nil {
		s.stopHashing()
		return nil, err
	}
	data := netip.AddrPortFrom(dataGroup, s.n.Control.Port())
	s.out = newShardOutput(newUnicastMirror(conn, s.n, data), data, s.layout) // unicast fallback, unicast.go
	s.table = newReceiverTable(cfg, pol, s.layout.blocks)
	s.repairs = newRepairQueue()
	s.rc = newRateController(cfg.Rate, cfg.MaxRate)
	s.pacer = multicast.NewPacer(s.rc.rate())
	if cfg.FixedParity {
		s.parity = min(max(cfg.Parity, 0), 255-cfg.K)
	}
	return s, nil
}

func (s *sender) close() {
	s.stopHashing()
	s.out.conn.Close()
	s.src.Close()
}

func (s *sender) emit(e Event) {
	e.Session = s.sid.String()
	e.Time = s.n.Now()
	s.cfg.OnEvent(e)
}

// run registers receivers, transfers, and says End. The feedback reader
// runs beside it and is waited for before run returns.
func (s *sender) run(ctx context.Context) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	readerDone := make(chan error, 1)
	go func() { readerDone <- s.readFeedback(ctx) }()
	err := s.register(ctx)
	if err == nil {
		s.debug("registered", "receivers", s.table.joined())
		err = s.awaitManifest(ctx) // manifest_hash.go
	}
	if err == nil {
		err = s.transfer(ctx)
		s.debug("finished", "err", err, "wire", s.out.wire, "repair", s.repairN)
	}
	if s.dataEnd.IsZero() {
		s.dataEnd = s.n.Now()
	}
	reason := byte(protocol.EndComplete)
	if err != nil {
		reason = protocol.EndAborted
	}
	s.sendEnd(ctx, reason)
	cancel()
	if rerr := <-readerDone; err == nil && rerr != nil {
		err = fmt.Errorf("push: reading feedback: %w", rerr)
	}
	s.feedback.Busy += s.readerBusy
	s.feedback.Shed += s.readerShed.Load()
	return s.report(), err
}

// expected is how many receivers must complete.
func (s *sender) expected() int {
	return max(len(s.cfg.Recipients), s.cfg.MinReceivers)
}

// register announces until the expected receivers joined or Wait ran out.
// While it waits for expected receivers it says who is missing, and it
// stops at once when every expected receiver refused.
func (s *sender) register(ctx context.Context) error {
	now := s.n.Now()
	deadline := now.Add(s.cfg.Wait)
	lastJoin, nextAnnounce, nextWaiting := time.Time{}, now, now.Add(waitingEvery)
	fastUntil := now.Add(registerFastFor)
	gap := min(registerAnnounceFirst*time.Duration(max(1, s.grantPacketCount())), announceEvery)
	for {
		if now = s.n.Now(); !now.Before(nextAnnounce) {
			if err := s.sendAnnounce(); err != nil {
				return err
			}
			nextAnnounce = now.Add(gap)
			if !now.Before(fastUntil) {
				gap = min(2*gap, announceEvery)
			}
		}
		t := time.NewTimer(nextAnnounce.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case m := <-s.statuses:
			if s.handleStatus(m) {
				lastJoin = s.n.Now()
			}
		case err := <-s.hashing.pending(): // manifest_hash.go: an unreadable file ends the push now
			if err := s.hashing.finished(err); err != nil {
				t.Stop()
				return err
			}
		case <-t.C:
		}
		t.Stop()
		now = s.n.Now()
		joined := s.table.joined()
		switch {
		case s.table.refusedAll(now, now.After(deadline)):
			return ErrRefusedByAll
		case s.expected() > 0 && s.table.expectedJoined(s.cfg.MinReceivers):
			return nil
		case s.expected() == 0 && joined > 0 && now.Sub(lastJoin) >= settleAfterJoin:
			return nil
		case now.After(deadline):
			if joined == 0 && s.cfg.Carousel == 0 {
				return fmt.Errorf("%w within %v", ErrNoReceivers, s.cfg.Wait)
			}
			return nil
		case s.expected() > 0 && !now.Before(nextWaiting):
			nextWaiting = now.Add(waitingEvery)
			s.emit(Event{Kind: EventWaiting, Bytes: int64(joined), Total: int64(s.expected()), Missing: s.table.missing()})
		}
	}
}

// debug logs a phase of the push with the time since it started.
func (s *sender) debug(msg string, args ...any) {
	if s.n.Logger != nil {
		s.n.Logger.Debug("push: "+msg, append(args, "after", s.n.Now().Sub(s.start).Round(time.Millisecond))...)
	}
}

func (s *sender) sendAnnounce() error {
	// The group size receivers scale their timers by: those that joined,
	// or the expected number while they register (so a large room's first
	// statuses are spread already).
	s.announce = s.announce.WithGroupSize(max(s.table.joined(), s.expected()))
	s.table.group = s.announce.GroupSize() // what receivers read: a power of two
	if err := s.sendAnnounceAlone(); err != nil {
		return err
	}
	for _, p := range s.grantPackets() {
		if err := s.n.Send(p); err != nil {
			return err
		}
		s.out.wire += int64(len(p))
	}
	return nil
}

// sendAnnounceAlone signs the announce afresh (a copy must pass the
// replay check) and sends it without the grants.
func (s *sender) sendAnnounceAlone() error {
	b, _ := s.n.Signer.Append(nil, s.announce)
	s.out.wire += int64(len(b))
	return s.n.Send(b)
}

// grantPacketCount is how many grant packets each announce carries.
func (s *sender) grantPacketCount() int {
	return (s.policy.grantEntries() + protocol.MaxGrantEntries - 1) / protocol.MaxGrantEntries
}

// grantPackets signs the grants afresh: nonces come from the envelope.
func (s *sender) grantPackets() [][]byte {
	var pkts [][]byte
	total := s.policy.grantEntries()
	for g := range s.grantPacketCount() {
		env := s.n.Signer.Next()
		body := protocol.Grant{Session: s.sid, BoxKey: s.n.ID.BoxPub, Index: uint16(g)}
		for i := g * protocol.MaxGrantEntries; i < min(total, (g+1)*protocol.MaxGrantEntries); i++ {
			sub := i - g*protocol.MaxGrantEntries
			body.Entries = append(body.Entries, s.policy.sealEntry(s.secret, i, byte(sub), env, &s.n.ID.BoxKey))
		}
		pkts = append(pkts, s.n.Signer.AppendWith(nil, env, body))
	}
	return pkts
}

// sendEnd says End endCopies times, endSpacing apart (one lost datagram
// must not leave receivers waiting for the sender-silent timeout). When
// ctx is already done (Ctrl-C) the copies go back to back: nobody should
// wait on a push that was interrupted.
func (s *sender) sendEnd(ctx context.Context, reason byte) {
	b, _ := s.n.Signer.Append(nil, protocol.End{Session: s.sid, Reason: reason})
	for i := range endCopies {
		s.n.Send(b)
		s.out.wire += int64(len(b))
		if i < endCopies-1 && ctx.Err() == nil {
			t := time.NewTimer(endSpacing)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// report builds the outcome: figures of the data phase, per receiver.
func (s *sender) report() *Report {
	now := s.n.Now()
	r := &Report{Session: s.sid.String(), Bytes: s.src.Size(), Sent: s.sentBytes, WireBytes: s.out.wire,
		Repair: s.repairN, Expected: s.expected(), Feedback: s.feedback}
	if !s.dataStart.IsZero() {
		r.Elapsed = s.dataEnd.Sub(s.dataStart)
		r.Waited = s.dataStart.Sub(s.start)
	} else {
		r.Waited = now.Sub(s.start)
	}
	r.Receivers, r.Completed = s.table.receiverReports(now, s.dataStartOr(now))
	r.WireBytes -= annotatePaths(s.out.conn, r.Receivers)
	return r
}

func (s *sender) dataStartOr(t time.Time) time.Time {
	if s.dataStart.IsZero() {
		return t
	}
	return s.dataStart
}
