package push

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

func addrPort(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// Receive-side session phases.
const (
	phaseManifest = iota
	phaseData
	phaseDone
)

// rsession receives one push. The data reader goroutine and the status
// ticker share its state under mu.
type rsession struct {
	r        *receiver
	sender   [32]byte
	senderFP string
	a        protocol.Announce
	sid      protocol.SessionID
	keys     sessionKeys
	dataConn multicast.Conn
	fbConn   multicast.Conn
	fbGroup  netip.AddrPort
	start    time.Time

	kick chan struct{} // asks for a status now (state changed)

	mu          sync.Mutex
	phase       int
	manifest    []byte
	content     [32]byte // SHA-256 of the manifest: names the content
	chunkHave   []bool
	chunks      int
	hashes      [][protocol.HashLen]byte
	sink        *sink
	layout      layout // block count, codes and lengths (layout.go)
	asm         map[uint32]*blockAsm
	free        []*blockAsm
	highest     int
	lastData    time.Time
	lastHeard   time.Time
	endReason   byte
	err         error
	paths       []string
	suppress    map[uint32]suppressed
	recipients  map[identity.KeyID]bool // --to push: who the grants name (mayInfluence)
	hashFailed  map[uint32]hashFailure  // blocks whose rebuild failed its hash (repairbudget.go)
	failBudget  tokenBucket             // NACKs of such blocks
	scratch     []byte
	nonce       [12]byte              // the shard being opened; a field, since a local passed to the AEAD escapes (one allocation a datagram)
	lowest      int                   // every block below is verified
	sentThrough uint32                // the sender's first pass has sent blocks below this
	group       int                   // receivers the sender counts (its latest Announce): scales the timers
	asked       map[uint32]askMark    // when we last NACKed a block (or manifest chunk), and what we had
	marks       map[uint32]repairMark // what we last saw of each due block: is repair flowing?
	// servedAt is when the latest of our statuses went whose NACKs the
	// sender is known to have served: repair for a block it asked for
	// arrived (repairLostLocked).
	servedAt time.Time
	// servedAbove[b-servedFrom]: the latest ask of ours for a block above
	// b whose repair arrived (repairorder.go), for the blocks being scanned.
	servedAbove []time.Time
	servedFrom  int

	intervalRecv, intervalGaps int
	totalRecv, totalGaps       uint32 // since joining, for Status (§6.6)
	loss                       uint16
	badBlocks, dropped         int
	rejected                   int          // data-group datagrams refused as forged or malformed
	auth                       *shardBook   // signed shard hashes (shardauth.go)
	senderAddrs                []netip.Addr // where the sender's signed packets came from
	routeChecked               time.Time    // last look for the sender's unicast route (unicast_status.go)
	done                       bool
}

type blockAsm struct {
	a       *fec.Assembler
	k       int
	lastIdx int
}

type suppressed struct {
	at   time.Time
	have byte
}

// repairMark is what a receiver last saw of an incomplete block it may
// NACK; when the block's shards move, someone's repair is on the way.
type repairMark struct {
	have, maxIdx byte
	moved        time.Time // when they last changed (zero: not since first seen)
	since        time.Time // first seen due
}

// askMark is our last NACK of a block: when, and the highest shard
// index we held then. A higher index since is the sender's answer.
type askMark struct {
	at       time.Time
	maxIdx   byte
	repairAt time.Time // when repair above maxIdx first arrived (repairorder.go); zero: not yet
}

// maxNackState bounds the asked and marks maps (as suppress is bounded).
const maxNackState = 4096

// readBatch is how many datagrams a session reader takes per system call.
const readBatch = 64

// maxSenderAddrs bounds the source addresses a session accepts data from.
const maxSenderAddrs = 4

// maxRecipientIDs bounds the recipients a session remembers from grants
// (protocol.MaxGrants * MaxGrantEntries could be more).
const maxRecipientIDs = 4096

// newRSession starts receiving the push offered by o, whose grant came
// from src: data shards are accepted only from the addresses the sender's
// signed packets come from (src, and those of later announces).
func newRSession(r *receiver, o *offer, key [32]byte, src netip.Addr, g protocol.GrantView) (*rsession, error) {
	a := o.announce
	s := &rsession{r: r, sender: o.sender, senderFP: identity.Fingerprint(o.sender[:]), a: a, sid: a.Session,
		keys: newSessionKeys(key), start: r.n.Now(), manifest: make([]byte, a.ManifestLen),
		chunkHave: make([]bool, a.ManifestParts), asm: map[uint32]*blockAsm{}, suppress: map[uint32]suppressed{},
		asked: map[uint32]askMark{}, marks: map[uint32]repairMark{}, group: a.GroupSize(),
		auth: newShardBook(), scratch: make([]byte, a.ShardSize), kick: make(chan struct{}, 1), lastHeard: r.n.Now(), lastData: r.n.Now(), highest: -1}
	s.heardFrom(src)
	s.recipients = map[identity.KeyID]bool{}
	s.hashFailed = map[uint32]hashFailure{}
	s.failBudget = newTokenBucket(failNacksPerSec, failNacksBurst, r.n.Now())
	s.noteRecipients(g)
	dataGroup, fbGroup := protocol.SessionGroups(r.n.Control.Addr(), a.Session)
	port := r.n.Control.Port()
	s.fbGroup = addrPort(fbGroup, port)
	var err error
	if s.dataConn, err = r.n.Listen(addrPort(dataGroup, port)); err != nil {
		return nil, err
	}
	if s.fbConn, err = r.n.Listen(s.fbGroup); err != nil {
		s.dataConn.Close()
		return nil, err
	}
	// The announce's Blocks was checked against TotalSize, K and ShardSize
	// when parsed (protocol.ParseAnnounce), so layout.blocks == a.Blocks.
	if s.layout, err = newLayout(int64(a.TotalSize), int(a.K), int(a.ShardSize)); err != nil {
		s.dataConn.Close()
		s.fbConn.Close()
		return nil, err
	}
	return s, nil
}

func (s *rsession) emit(e Event) {
	e.Session = s.sid.String()
	e.Sender = s.senderFP
	e.Time = s.r.n.Now()
	s.r.cfg.OnEvent(e)
}

// poke asks the run loop for a status now; it never blocks.
func (s *rsession) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// heardFrom notes the source address of a signed packet of the sender.
// Shards carry only a MAC that every receiver can make, so a shard from
// any other address is a key holder's injection (or a spoof) and is
// refused before it can spoil a block (SPEC.md §6.5).
func (s *rsession) heardFrom(src netip.Addr) {
	src = src.Unmap()
	if !src.IsValid() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.senderAddrs) < maxSenderAddrs && !slices.Contains(s.senderAddrs, src) {
		s.senderAddrs = append(s.senderAddrs, src)
	}
}

// fromSender reports whether a datagram from src may carry the sender's
// data: only the addresses its signed packets came from may.
func (s *rsession) fromSender(src netip.AddrPort) bool {
	return slices.Contains(s.senderAddrs, src.Addr().Unmap())
}

// heard notes an announce from the sender: how far its first pass has
// come (Sent), and how many receivers it counts. When the pass is over,
// every missing block is due at once (after the NACK backoff) instead of
// at the next periodic status.
func (s *rsession) heard(a protocol.Announce) {
	s.mu.Lock()
	s.lastHeard = s.r.n.Now()
	passOver := a.Sent == s.a.Blocks && s.sentThrough < a.Sent
	s.sentThrough = max(s.sentThrough, a.Sent)
	s.group = a.GroupSize()
	s.mu.Unlock()
	if passOver {
		s.poke()
	}
}

func (s *rsession) ended(reason byte) {
	s.mu.Lock()
	s.endReason = reason
	s.mu.Unlock()
	s.poke() // finish now: the sender has heard our last status
}

func (s *rsession) finished() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.done }

// failure is the error that ended the session, if it failed.
func (s *rsession) failure() error { s.mu.Lock(); defer s.mu.Unlock(); return s.err }

// run drives the session: readers on the data and feedback groups, and a
// status every StatusEvery until complete, failed, ended or silent.
func (s *rsession) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		s.dataConn.Close()
		s.fbConn.Close()
		wg.Wait()
		s.mu.Lock()
		if s.sink != nil {
			s.sink.SaveState()
			s.sink.Close()
		}
		s.done = true
		s.mu.Unlock()
	}()
	wg.Add(2)
	go func() { defer wg.Done(); s.read(ctx, "data group", s.dataConn, s.onData, true) }()
	go func() { defer wg.Done(); s.read(ctx, "feedback group", s.fbConn, s.onFeedback, true) }()
	if uc, err := s.r.n.ListenUnicastData(s.sid); err == nil { // unicast fallback, SPEC §6.11
		defer uc.Close() // runs before the cleanup above waits for the readers
		wg.Add(1)
		go func() { defer wg.Done(); s.read(ctx, "unicast fallback", uc, s.onUnicastData, false) }()
	}
	s.emit(Event{Kind: EventJoined, Total: int64(s.a.TotalSize)})
	return s.statusLoop(ctx)
}

// statusLoop sends this receiver's statuses until the session is over
// (SPEC.md §6.6, feedback_timers.go): the first one within joinSpread, a
// periodic one every statusPeriod (jittered), one at once when the
// session completes or fails, and between them one whenever a NACK is
// due, after a random backoff in which another receiver's NACK or the
// repair it brings may make ours needless. Timers run on wall time; the
// NACK bookkeeping on the node's clock.
func (s *rsession) statusLoop(ctx context.Context) error {
	base := s.r.cfg.StatusEvery
	s.mu.Lock()
	group, phase := s.group, s.phase
	s.mu.Unlock()
	nextStatus := time.Now().Add(randomIn(joinSpread(base, group)))
	var nackAt, completeAt time.Time // zero: no NACK pending; not complete yet
	// Wall time: saving state and progress lines pace real disk and
	// terminal writes, whatever the node's clock says.
	lastProgress := time.Now()
	lastSave := time.Now()
	polling := false // looking for NACKs every nackCheckEvery: only once something can be missing
	// spread: the next status is the data phase's first; the periodic one
	// after it is drawn over a whole period (statusSpread).
	spread := false
	var dataAt time.Time // when the data phase began
	for {
		wake := nextStatus
		if !nackAt.IsZero() && nackAt.Before(wake) {
			wake = nackAt
		}
		if polling {
			wake = minTime(wake, time.Now().Add(nackCheckEvery))
		}
		t := time.NewTimer(max(0, time.Until(wake)))
		kicked := false
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.kick:
			kicked = true
		case <-t.C:
		}
		t.Stop()
		now := time.Now()
		if now.Sub(lastProgress) > 250*time.Millisecond {
			s.progress()
			lastProgress = now
		}
		s.mu.Lock()
		if now.Sub(lastSave) > time.Second && s.sink != nil {
			s.sink.SaveState()
			lastSave = now
		}
		group = s.group
		polling = s.phase == phaseData || s.phase == phaseManifest && (s.chunks > 0 || s.highest >= 0)
		// A state the sender waits for goes now: failure, completion, the
		// end; holding the manifest goes within the NACK backoff (a whole
		// group gets it at once).
		urgent := kicked && (s.err != nil || s.endReason != 0 || s.phase == phaseDone && completeAt.IsZero())
		if s.phase != phase {
			phase = s.phase
			spread = phase == phaseData
			if spread {
				dataAt = now
			}
			nextStatus = minTime(nextStatus, now.Add(randomIn(nackBackoff(group))))
		}
		due := urgent || !now.Before(nextStatus)
		switch {
		case due || s.phase == phaseDone:
		case !s.nackDueLocked(s.r.n.Now()):
			nackAt = time.Time{} // someone's repair (or NACK) made ours needless
		case nackAt.IsZero():
			nackAt = now.Add(nackDelay(group))
			due = !now.Before(nackAt)
		default:
			due = !now.Before(nackAt)
		}
		if !due {
			s.mu.Unlock()
			continue
		}
		st, err, finished := s.statusLocked()
		rejected, injected := int64(s.rejected), int64(s.badBlocks)
		ended := s.endReason != 0
		s.mu.Unlock()
		s.sendStatus(st)
		s.mu.Lock()
		s.noteAsked(st.Nacks, s.r.n.Now())
		s.mu.Unlock()
		nackAt = time.Time{}
		switch {
		case spread:
			nextStatus, spread = now.Add(statusSpread(base, group)), false
		case now.Sub(dataAt) < statusStartupFor:
			nextStatus = now.Add(jittered(statusPeriodStartup(base, group)))
		default:
			nextStatus = now.Add(jittered(statusPeriod(base, group)))
		}
		switch {
		case err != nil:
			s.emit(Event{Kind: EventFailed, Err: err, Rejected: rejected, Injected: injected})
			return fmt.Errorf("%w: %v", ErrSessionFailed, err)
		case finished:
			if completeAt.IsZero() {
				completeAt = now
			}
			// End means the sender has our completion.
			if ended || now.Sub(completeAt) >= completeLinger(base, group) {
				return nil
			}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// read feeds c's datagrams to handle, under mu, until ctx is done or c
// is closed (multicast.ReadLoop backs off on transient errors). A socket
// that keeps failing ends the session if it is one of the session's
// groups (no data or no suppression could come in); the unicast
// fallback only warns, since the groups may still deliver.
func (s *rsession) read(ctx context.Context, what string, c multicast.Conn, handle func([]byte, netip.AddrPort), vital bool) {
	// One lock per batch, not per datagram: the reader must keep up with
	// the socket, or its own queue overflows.
	err := multicast.ReadBatches(ctx, c, readBatch, protocol.MaxDatagram, func(ms []multicast.Message) {
		s.mu.Lock()
		for i := range ms {
			handle(ms[i].Buf[:ms[i].N], ms[i].Src)
		}
		s.mu.Unlock()
	})
	if err == nil {
		return
	}
	if !vital {
		s.r.n.Logger.Warn("push: unicast fallback reader stopped", "session", s.sid.String(), "err", err)
		return
	}
	s.mu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("reading the %s: %w", what, err)
	}
	s.mu.Unlock()
	s.poke()
}

// statusLocked builds the next status and says whether the session is
// over (complete) or failed.
func (s *rsession) statusLocked() (protocol.Status, error, bool) {
	st := protocol.Status{Session: s.sid, State: protocol.StateJoined}
	st.Received, st.Lost = s.totalRecv+uint32(s.intervalRecv), s.totalGaps+uint32(s.intervalGaps)
	st.Overflow = socketOverflow(s.dataConn)
	if s.err != nil {
		st.State, st.Reason = protocol.StateFailed, reasonFor(s.err)
		return st, s.err, false
	}
	if s.phase == phaseDone {
		st.State, st.Complete, st.HavePrefix = protocol.StateComplete, s.a.Blocks, s.a.Blocks
		return st, nil, true
	}
	if s.endReason == protocol.EndAborted || s.endReason == protocol.EndComplete {
		return st, errors.New("the sender stopped before this receiver had everything; verified blocks are kept, push again to resume"), false
	}
	if now := s.r.n.Now(); now.Sub(s.lastHeard) > s.r.cfg.SenderTimeout && now.Sub(s.lastData) > s.r.cfg.SenderTimeout {
		return st, fmt.Errorf("sender silent for %v; verified blocks are kept, push again to resume", s.r.cfg.SenderTimeout), false
	}
	if s.intervalRecv+s.intervalGaps > 0 {
		s.loss = uint16(1000 * s.intervalGaps / (s.intervalRecv + s.intervalGaps))
	}
	s.totalRecv += uint32(s.intervalRecv)
	s.totalGaps += uint32(s.intervalGaps)
	s.intervalRecv, s.intervalGaps = 0, 0
	st.Loss = s.loss
	if s.phase == phaseManifest {
		now := s.r.n.Now()
		for i, ok := range s.chunkHave {
			if !ok && len(st.Nacks) < protocol.MaxNacks && s.chunkDue(i, now) {
				st.Nacks = append(st.Nacks, protocol.Nack{Block: manifestNack | uint32(i)})
			}
		}
		return st, nil, false
	}
	st.State = protocol.StateReceiving
	for s.lowest < int(s.a.Blocks) && s.sink.Has(s.lowest) {
		s.lowest++
	}
	st.HavePrefix, st.Complete = uint32(s.lowest), uint32(s.sink.Count())
	s.nacksLocked(&st)
	return st, nil, false
}

// nacksLocked lists incomplete blocks the sender has clearly passed (far
// below the highest block seen, or below the Sent of its announces),
// lowest first, that are due (dueNack). Never a block the first pass
// has not sent: a receiver in an outage, or one fed only repairs of
// blocks it already holds, would otherwise ask for the rest of the file.
func (s *rsession) nacksLocked(st *protocol.Status) {
	now := s.r.n.Now()
	for b, limit := s.lowest, s.nackScanLimit(now); b < limit && len(st.Nacks) < protocol.MaxNacks; b++ {
		if n, ok := s.dueNack(uint32(b), now); ok && s.mayNackFailed(uint32(b), now) {
			st.Nacks = append(st.Nacks, n)
		}
	}
	for b, sup := range s.suppress {
		if now.Sub(sup.at) > time.Second {
			delete(s.suppress, b)
		}
	}
	for b := range s.marks {
		if int(b) < s.lowest || s.sink.Has(int(b)) {
			delete(s.marks, b)
		}
	}
}

// nackHoldLimit is how long a NACK is held at most while repair flows.
func (s *rsession) nackHoldLimit() time.Duration { return nackHoldLimit(s.r.cfg.StatusEvery, s.group) }

// nackLimit is the first block the sender has not clearly passed: 64
// blocks below the highest seen, or the announces' Sent once this
// receiver caught up with it (its highest block is in Sent's last
// window) or its data went quiet (repairQuiet). A receiver behind in its
// reading gets the announce, on its own socket, long before the shards
// queued in its data socket: asking for those had them sent twice (the
// 20 % receiver asked for 9728 shards it was about to read).
func (s *rsession) nackLimit() int {
	limit := s.highest - 2*interleave
	sent := int(s.sentThrough)
	if sent > limit && (s.highest >= sent-interleave || s.r.n.Now().Sub(s.lastData) >= repairQuiet) {
		limit = sent
	}
	return limit
}

// dueNack returns block b's NACK if it should be asked for now (mu
// held): it is incomplete; no NACK of ours for it, nor another
// receiver's asking at least as much, went out within the hold (its
// repair is plausibly on the way); its shards are not arriving right now
// (someone's repair is); and a block that failed its hash is past its
// back-off. It notes what it saw of the block (repairMark) but spends no
// budget: nacksLocked does.
func (s *rsession) dueNack(b uint32, now time.Time) (protocol.Nack, bool) {
	n := protocol.Nack{Block: b}
	if s.sink.Has(int(b)) {
		return n, false
	}
	if f, failed := s.hashFailed[b]; failed && (now.Before(f.next) || s.failBudget.tokens < 1) {
		return n, false
	}
	if ba := s.asm[b]; ba != nil {
		n.Have, n.MaxIndex = byte(ba.a.Have()), byte(max(ba.a.MaxIndex(), 0))
	}
	m, seen := s.marks[b]
	if !seen || m.have != n.Have || m.maxIdx != n.MaxIndex {
		if !seen && len(s.marks) >= maxNackState {
			return n, !s.heldLocked(b, n, now)
		}
		moved, since := time.Time{}, now // first sight: not known to be moving
		if seen {
			moved, since = now, m.since
			if a, ok := s.asked[b]; ok && n.MaxIndex > a.maxIdx {
				s.noteRepairArrived(b, now)
			}
		}
		m = repairMark{have: n.Have, maxIdx: n.MaxIndex, moved: moved, since: since}
		s.marks[b] = m
	}
	// After the first pass, shards of blocks we lack that keep arriving
	// are repair the sender is working through, lowest block first, on
	// someone's NACK: if this block was asked for (by us, or by another
	// receiver we heard), its repair may be among them, so wait until it
	// goes quiet (for at most nackHoldLimit since the block was first
	// due). A block nobody asked for is not: a receiver with more blocks
	// to ask for than one status carries asks for the rest at once.
	repairing := s.sentThrough >= s.a.Blocks && now.Sub(s.lastData) < repairQuiet && now.Sub(m.since) < s.nackHoldLimit() && s.askedBefore(b)
	if s.answeredLocked(b, m, now) {
		return n, !s.suppressedLocked(b, n, now)
	}
	if s.repairLostLocked(b, m, now) || s.overtakenLocked(b, m) {
		return n, true
	}
	return n, !repairing && !s.heldLocked(b, n, now) && now.Sub(m.moved) >= repairQuiet
}

// noteServed records that the repair asked for by our status of at
// arrived (mu held).
func (s *rsession) noteServed(at time.Time) {
	if at.After(s.servedAt) {
		s.servedAt = at
	}
}

// repairLostLocked reports whether the repair our last NACK of block b
// asked for was lost whole (mu held): after the first pass, the sender
// served a status of ours sent no earlier (repair for another block it
// asked for arrived), nothing of b came since we asked, and the data has
// been quiet for repairLostQuiet. The sender queues a status's NACKs
// together and drains its queue without pause, so the quiet means b's
// repair went by. Without this, a block whose few repair shards (or
// their hash lists) were all lost waited out the hold (250 ms and more)
// while nothing else was left to repair: one such block after another
// made the last 0.6 s of a push to a 20 % receiver.
func (s *rsession) repairLostLocked(b uint32, m repairMark, now time.Time) bool {
	a, ok := s.asked[b]
	return ok && s.sentThrough >= s.a.Blocks && !a.at.After(s.servedAt) && !m.moved.After(a.at) &&
		now.Sub(a.at) >= repairLostQuiet && now.Sub(s.lastData) >= repairLostQuiet
}

// askedBefore reports whether a NACK of block b, ours or one heard, is on
// record (mu held).
func (s *rsession) askedBefore(b uint32) bool {
	_, ours := s.asked[b]
	_, heard := s.suppress[b]
	return ours || heard
}

// answeredLocked reports whether the repair our last NACK of block b
// asked for came and went without completing it (mu held): shards above
// the index we held then arrived, and none for repairSettle since. The
// sender sends a block's repair as one run, so asking again now (rather
// than after the hold, or after everyone's repair went quiet) costs
// nothing twice: the sender counts what it sent after our highest index
// as on its way.
func (s *rsession) answeredLocked(b uint32, m repairMark, now time.Time) bool {
	a, ok := s.asked[b]
	return ok && m.maxIdx > a.maxIdx && m.moved.After(a.at) && now.Sub(m.moved) >= repairSettle
}

// heldLocked reports whether a NACK n for block b went out recently
// enough that its repair is plausibly on the way, ours or another
// receiver's that asked for at least as much: within nackHold (plus the
// backoff window), or within nackHoldLimit while shards keep arriving (the
// sender is still working through its repair queue, lowest block first,
// and asking again would not bring ours sooner).
func (s *rsession) heldLocked(b uint32, n protocol.Nack, now time.Time) bool {
	held := func(at time.Time) bool {
		since := now.Sub(at)
		return since < nackHold+nackBackoff(s.group) || since < s.nackHoldLimit() && now.Sub(s.lastData) < repairQuiet
	}
	if sup, ok := s.suppress[b]; ok && sup.have <= n.Have && held(sup.at) {
		return true
	}
	a, ok := s.asked[b]
	return ok && held(a.at)
}

// suppressedLocked reports whether another receiver's NACK of block b,
// asking at least as much as n, went out within the hold (mu held).
func (s *rsession) suppressedLocked(b uint32, n protocol.Nack, now time.Time) bool {
	sup, ok := s.suppress[b]
	return ok && sup.have <= n.Have && now.Sub(sup.at) < nackHold+nackBackoff(s.group)
}

// nackDueLocked reports whether a status would carry a NACK now (mu
// held): a block (or, before the manifest is whole, a manifest chunk
// once any of it or of the data arrived) is due.
func (s *rsession) nackDueLocked(now time.Time) bool {
	if s.phase == phaseManifest {
		if s.chunks == 0 && s.highest < 0 {
			return false // the sender has not sent the manifest yet
		}
		for i, ok := range s.chunkHave {
			if !ok && s.chunkDue(i, now) {
				return true
			}
		}
		return false
	}
	for b, limit := s.lowest, s.nackScanLimit(now); b < limit; b++ {
		if _, ok := s.dueNack(uint32(b), now); ok {
			return true
		}
	}
	return false
}

// chunkDue reports whether missing manifest chunk i may be asked for.
func (s *rsession) chunkDue(i int, now time.Time) bool {
	a, ok := s.asked[manifestNack|uint32(i)]
	return !ok || now.Sub(a.at) >= manifestNackHold+nackBackoff(s.group)
}

// noteAsked records the NACKs of a status that went out (mu held).
func (s *rsession) noteAsked(nacks []protocol.Nack, now time.Time) {
	if len(s.asked)+len(nacks) > maxNackState {
		for b, a := range s.asked {
			if now.Sub(a.at) >= s.nackHoldLimit() {
				delete(s.asked, b)
			}
		}
	}
	for _, n := range nacks {
		if _, ok := s.asked[n.Block]; ok || len(s.asked) < maxNackState {
			s.asked[n.Block] = askMark{at: now, maxIdx: n.MaxIndex}
		}
	}
}

func reasonFor(err error) byte {
	if errors.Is(err, syscall.ENOSPC) {
		return protocol.ReasonDiskFull
	}
	return protocol.ReasonWrite
}

func (s *rsession) sendStatus(st protocol.Status) {
	pkt, _ := s.r.n.Signer.Append(nil, st)
	s.fbConn.WriteBatch([][]byte{pkt}, s.fbGroup)
	s.sendStatusUnicast(pkt) // unicast_status.go
}

func (s *rsession) progress() {
	s.mu.Lock()
	var have int64
	if s.sink != nil {
		have = min(int64(s.sink.Count())*int64(s.layout.blockSize()), int64(s.a.TotalSize))
	}
	e := Event{Kind: EventProgress, Bytes: have, Total: int64(s.a.TotalSize), Loss: float64(s.loss) / 1000,
		Rejected: int64(s.rejected), Injected: int64(s.badBlocks)}
	s.mu.Unlock()
	s.emit(e)
}
