package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	nonce       [12]byte // the shard being opened; a field, since a local passed to the AEAD escapes (one allocation a datagram)
	lowest      int      // every block below is verified
	sentThrough uint32   // the sender's first pass has sent blocks below this

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

// heard notes an announce from the sender; sent is how far its first
// pass has come. When the pass is over, every missing block is NACKed at
// once instead of after the idle timeout.
func (s *rsession) heard(sent uint32) {
	s.mu.Lock()
	s.lastHeard = s.r.n.Now()
	passOver := sent == s.a.Blocks && s.sentThrough < sent
	s.sentThrough = max(s.sentThrough, sent)
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
	every := s.r.cfg.StatusEvery
	completeSent := 0
	// Wall time: saving state and progress lines pace real disk and
	// terminal writes, whatever the node's clock says.
	lastProgress := time.Now()
	lastSave := time.Now()
	s.poke() // register at once
	for {
		jitter := time.Duration(rand.Int64N(int64(every) / 2))
		t := time.NewTimer(every*3/4 + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
		s.mu.Lock()
		st, err, finished := s.statusLocked()
		rejected, injected := int64(s.rejected), int64(s.badBlocks)
		if time.Since(lastSave) > time.Second && s.sink != nil {
			s.sink.SaveState()
			lastSave = time.Now()
		}
		s.mu.Unlock()
		s.sendStatus(st)
		if time.Since(lastProgress) > 250*time.Millisecond {
			s.progress()
			lastProgress = time.Now()
		}
		switch {
		case err != nil:
			s.emit(Event{Kind: EventFailed, Err: err, Rejected: rejected, Injected: injected})
			return fmt.Errorf("%w: %v", ErrSessionFailed, err)
		case finished:
			completeSent++
			s.mu.Lock()
			ended := s.endReason != 0
			s.mu.Unlock()
			if completeSent >= 30 || ended { // End means the sender has our completion
				return nil
			}
		}
	}
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
		for i, ok := range s.chunkHave {
			if !ok && len(st.Nacks) < protocol.MaxNacks {
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
// lowest first, skipping those another receiver asked for at least as
// much of very recently. Never a block the first pass has not sent: a
// receiver in an outage, or one fed only repairs of blocks it already
// holds, would otherwise ask for the rest of the file.
func (s *rsession) nacksLocked(st *protocol.Status) {
	limit := max(s.highest-2*interleave, int(s.sentThrough))
	now := s.r.n.Now()
	for b := s.lowest; b < limit && len(st.Nacks) < protocol.MaxNacks; b++ {
		if s.sink.Has(b) || !s.mayNackFailed(uint32(b), now) {
			continue
		}
		n := protocol.Nack{Block: uint32(b)}
		if ba := s.asm[uint32(b)]; ba != nil {
			n.Have, n.MaxIndex = byte(ba.a.Have()), byte(max(ba.a.MaxIndex(), 0))
		}
		if sup, ok := s.suppress[uint32(b)]; ok && now.Sub(sup.at) < s.r.cfg.StatusEvery && sup.have <= n.Have {
			continue
		}
		st.Nacks = append(st.Nacks, n)
	}
	for b, sup := range s.suppress {
		if now.Sub(sup.at) > time.Second {
			delete(s.suppress, b)
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
