package push

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// firstPassGrace is how long after the first pass ended statuses still
// count toward a receiver's first-pass loss, in status periods (at least
// 150 ms), so the report covers the last blocks of the pass too.
const (
	firstPassGraceMin     = 150 * time.Millisecond
	firstPassGracePeriods = 1.5
)

// refusalSettle is how long every expected receiver must have kept
// refusing before the push gives up on them: a receiver that refused a
// forged announce of the same session id accepts the real one moments
// later, and must not end the push.
const refusalSettle = time.Second

// statusMsg is a verified Status copied out of the packet buffer.
type statusMsg struct {
	from       [32]byte
	arrived    time.Time // when the feedback reader took it (zero: now)
	state      byte
	reason     byte
	havePrefix uint32
	complete   uint32
	loss       uint16
	counts     shardCounts
	nacks      []protocol.Nack
}

// shardCounts are a receiver's cumulative Received, Lost and Overflow
// (SPEC.md §6.6).
type shardCounts struct {
	received, lost, overflow uint32
}

// since is the change from an earlier snapshot; the counters wrap at 2^32,
// which unsigned subtraction undoes.
func (c shardCounts) since(old shardCounts) shardCounts {
	return shardCounts{c.received - old.received, c.lost - old.lost, c.overflow - old.overflow}
}

// network is the shards the network lost: gaps in the index sequence less
// those the receiver's own socket dropped.
func (c shardCounts) network() uint32 { return c.lost - min(c.lost, c.overflow) }

func (c shardCounts) shares() (network, overflow float64) {
	total := float64(c.received) + float64(c.lost)
	if total == 0 {
		return 0, 0
	}
	return float64(c.network()) / total, float64(min(c.overflow, c.lost)) / total
}

// peerState is what the sender knows of one receiver.
type peerState struct {
	id         int // small and stable: the rate controller's key
	key        [32]byte
	name       string
	state      byte
	reason     byte
	havePrefix uint32
	complete   uint32
	lastLoss   uint16
	counts     shardCounts // latest
	ticked     shardCounts // at the last rate tick
	firstPass  shardCounts // at the end of the first pass
	accounted  uint64      // shards it accounted for (received, lost, overflow), unwrapped
	arrivals   counterLog  // accounted over time, by status arrival
	joined     time.Time
	heard      time.Time
	progressed time.Time
	done       time.Time
	refused    time.Time // since when it refuses; zero when it does not
	dropped    bool
	dropReason string
	unicast    bool  // served by unicast (unicast_switch.go): not a rate voter
	states     uint8 // bit n set once state n was reported
}

func (p *peerState) active() bool {
	return !p.dropped && p.state != protocol.StateComplete && p.state != protocol.StateRefused && p.state != protocol.StateFailed
}

// receiverTable is the sender's view of every receiver that answered:
// admission of statuses, progress, completion and the final report.
// Owned by the sender's run goroutine; not safe for concurrent use.
type receiverTable struct {
	peers      map[[32]byte]*peerState
	order      []*peerState // by id
	recipients []identity.Peer
	policy     keyPolicy
	trust      *identity.TrustStore
	nameOf     func(ed25519.PublicKey) string // SendConfig.NameOf
	blocks     int
	giveUp     time.Duration
	group      int       // the group size the latest Announce told receivers (their timers scale by it)
	alive      *liveness // when the feedback reader last verified each receiver (sender_feedback.go)

	firstPassEnd time.Time // zero while the first pass runs
}

func newReceiverTable(cfg SendConfig, pol keyPolicy, blocks int) *receiverTable {
	return &receiverTable{peers: map[[32]byte]*peerState{}, recipients: cfg.Recipients, policy: pol,
		trust: cfg.Node.Trust, nameOf: cfg.NameOf, blocks: blocks, giveUp: cfg.GiveUp, alive: newLiveness()}
}

// label is how a receiver is shown: the name it claims (a --to
// recipient's, else its presence beacon's through NameOf), as the trust
// store labels it (identity.Label); its fingerprint when it claims none.
func (t *receiverTable) label(key [32]byte) string {
	name, _ := t.recipient(key)
	if name == "" && t.nameOf != nil {
		name = t.nameOf(key[:])
	}
	return t.trust.Label(key[:], name)
}

// reportLabels labels every receiver afresh (a beacon may have come
// since it joined), with a short fingerprint wherever two receivers of
// this push would otherwise read alike (cloned lab machines share one
// default name).
func (t *receiverTable) reportLabels() map[[32]byte]string {
	labels := make(map[[32]byte]string, len(t.order))
	seen := map[string]int{}
	for _, p := range t.order {
		l := t.label(p.key)
		labels[p.key] = l
		seen[strings.ToLower(l)]++
	}
	for _, p := range t.order {
		if l := labels[p.key]; seen[strings.ToLower(l)] > 1 {
			labels[p.key] = identity.Label(l, identity.Fingerprint(p.key[:]), true)
		}
	}
	return labels
}

// recipient reports whether key is a --to recipient, and its name.
func (t *receiverTable) recipient(key [32]byte) (string, bool) {
	for _, r := range t.recipients {
		if bytes.Equal(r.SignPub, key[:]) {
			return r.Name, true
		}
	}
	return "", false
}

// mayReport says whether a status counts. With --to, a key that is not a
// recipient cannot hold the session key, so all it may say is that it
// refused: its NACKs and progress would only let an outsider drive
// repair traffic or keep the push from ending. Its refusal is not shown
// either (see expected): it was never asked.
func (t *receiverTable) mayReport(m statusMsg) bool {
	if t.policy.mode != protocol.KeyModeRecipients {
		return true
	}
	_, ok := t.recipient(m.from)
	return ok
}

// apply records one status; it returns the receiver, whether it is new,
// and whether its NACKs should be served.
func (t *receiverTable) apply(now time.Time, m statusMsg) (p *peerState, isNew, serve bool) {
	if !t.mayReport(m) {
		return nil, false, false
	}
	// Progress is bounded: a receiver cannot claim more blocks than exist,
	// nor keep a push alive by flipping between states it already reported.
	m.complete, m.havePrefix = min(m.complete, uint32(t.blocks)), min(m.havePrefix, uint32(t.blocks))
	p, ok := t.peers[m.from]
	if !ok {
		if len(t.peers) >= maxReceivers {
			return nil, false, false
		}
		p = &peerState{id: len(t.order), key: m.from, joined: now, progressed: now}
		// Trust hook (identity helper): every printer shows a key by
		// identity.Label, disambiguated when several keys share a name.
		p.name = t.label(m.from)
		t.peers[m.from] = p
		t.order = append(t.order, p)
		isNew = true
	}
	// Heard when it arrived, not when the sending loop got to it: a loop
	// busy writing must not count a receiver silent that was not.
	p.heard = now
	if !m.arrived.IsZero() && m.arrived.Before(now) {
		p.heard = m.arrived
	}
	if m.complete > p.complete || p.states&(1<<m.state) == 0 {
		p.progressed = now
	}
	joinedBefore := p.states&(1<<protocol.StateJoined|1<<protocol.StateReceiving) != 0
	p.states |= 1 << m.state
	// A refusal after the receiver joined answers another announce of the
	// same session id (a forger's), not this push: it does not undo the join.
	if p.state != protocol.StateComplete && (m.state != protocol.StateRefused || !joinedBefore) {
		p.state, p.reason = m.state, m.reason
	}
	switch {
	case p.state != protocol.StateRefused:
		p.refused = time.Time{}
	case p.refused.IsZero():
		p.refused = now
	}
	if m.state == protocol.StateComplete && p.done.IsZero() {
		p.done = now
	}
	p.havePrefix, p.complete, p.lastLoss = m.havePrefix, max(p.complete, m.complete), m.loss
	d := m.counts.since(p.counts)
	p.accounted += uint64(d.received) + uint64(d.lost) + uint64(d.overflow)
	p.arrivals.add(now, p.accounted, 0)
	p.counts = m.counts
	if t.firstPassEnd.IsZero() || now.Sub(t.firstPassEnd) <= t.firstPassGrace() {
		p.firstPass = m.counts
	}
	return p, isNew, !p.dropped
}

// lastHeard is when p was last heard: its last status applied, or later
// verified by the feedback reader and not handed over (the hand-off was
// full while the sending loop was busy).
func (t *receiverTable) lastHeard(p *peerState) time.Time {
	if at := t.alive.get(p.key); at.After(p.heard) {
		return at
	}
	return p.heard
}

// firstPassGrace is firstPassGracePeriods status periods of the group.
func (t *receiverTable) firstPassGrace() time.Duration {
	return max(firstPassGraceMin, time.Duration(firstPassGracePeriods*float64(statusPeriod(defaultStatusEvery, t.group))))
}

// room is the receivers the rate controller should count as the room
// in one tick: every one that joined while statuses come every tick;
// in a group whose status period is longer, those of them expected to
// report within a tick, so a majority still means a majority of the
// fresh reports (SPEC.md §6.7, rate).
func (t *receiverTable) room() int {
	n := t.joined()
	p := statusPeriod(defaultStatusEvery, t.group)
	return min(n, (n*int(rateTick)+int(p)-1)/int(p))
}

// samples is each active receiver's counts since the previous call, for
// the rate controller.
func (t *receiverTable) samples(now time.Time, dst []rateSample) []rateSample {
	dst = dst[:0]
	for _, p := range t.order {
		d := p.counts.since(p.ticked)
		p.ticked = p.counts
		if !p.active() || p.unicast {
			continue // a unicast receiver's loss says nothing of the group's path
		}
		overflow := min(d.overflow, d.lost)
		dst = append(dst, rateSample{peer: p.id, received: d.received, lost: d.lost - overflow, overflow: overflow,
			arrivalRate: p.arrivals.rate(now)})
	}
	return dst
}

// pathLosses returns the active receivers' path losses (0..1) that are
// known, sorted, in scratch, and how many active receivers have none yet.
func (t *receiverTable) pathLosses(rc rateController, scratch []float64) (losses []float64, unknown int) {
	scratch = scratch[:0]
	for _, p := range t.order {
		if !p.active() {
			continue
		}
		if b, ok := rc.baseline(p.id); ok {
			scratch = append(scratch, b)
		} else {
			unknown++
		}
	}
	slices.Sort(scratch)
	return scratch, unknown
}

// parityLoss is the loss proactive parity covers: the path loss of the
// median active receiver. Receivers above it are a minority, served by
// repair: sizing parity for the worst would make everyone pay for it.
func parityLoss(losses []float64) float64 {
	if len(losses) == 0 {
		return 0
	}
	return losses[(len(losses)-1)/2]
}

// worstLoss is the highest interval loss (per mille) an active receiver
// reported last: what the progress line shows.
func (t *receiverTable) worstLoss() uint16 {
	var w uint16
	for _, p := range t.order {
		if p.active() {
			w = max(w, p.lastLoss)
		}
	}
	return w
}

// settled reports whether nothing more is owed to anyone: each receiver
// is complete, refused, failed, silent or given up on. It drops (with a
// reason) receivers that went silent or stopped making progress.
func (t *receiverTable) settled(now time.Time) bool {
	done := true
	for _, p := range t.order {
		if !p.active() {
			continue
		}
		switch {
		case now.Sub(t.lastHeard(p)) > silentAfter(t.group):
			p.dropped, p.dropReason = true, fmt.Sprintf("not heard for %v", silentAfter(t.group))
		case now.Sub(p.progressed) > t.giveUp:
			p.dropped, p.dropReason = true, fmt.Sprintf("no progress for %v: too slow or too lossy to catch up; push again to resume", t.giveUp)
		default:
			done = false
		}
	}
	return done
}

// joined counts receivers that registered and did not refuse.
func (t *receiverTable) joined() int {
	n := 0
	for _, p := range t.order {
		if p.state != protocol.StateRefused {
			n++
		}
	}
	return n
}

// refusedAll reports whether every receiver that was expected (every
// --to recipient, or every one that answered) has refused for
// refusalSettle: waiting longer cannot help. Once waitOver (the --wait
// deadline passed) an "untrusted" refusal counts as final too.
func (t *receiverTable) refusedAll(now time.Time, waitOver bool) bool {
	// "untrusted" is not final: the receiver's user may trust the sender
	// while it waits (herald ui's Inbox, `herald trust` beside a running
	// receive), so such a push waits out --wait like one nobody answered.
	settled := func(p *peerState) bool {
		return p.state == protocol.StateRefused && (waitOver || p.reason != protocol.ReasonUntrusted) &&
			now.Sub(p.refused) >= refusalSettle
	}
	if len(t.recipients) > 0 {
		for _, r := range t.recipients {
			if p, ok := t.peers[keyOf(r)]; !ok || !settled(p) {
				return false
			}
		}
		return true
	}
	for _, p := range t.order {
		if !settled(p) {
			return false
		}
	}
	return len(t.order) > 0
}

// missing names the --to recipients that have not registered.
func (t *receiverTable) missing() []string {
	var out []string
	for _, r := range t.recipients {
		if _, ok := t.peers[keyOf(r)]; !ok {
			out = append(out, orName(r.Name, r.Fingerprint))
		}
	}
	return out
}

// expectedJoined reports whether every --to recipient (or enough
// receivers for --min-receivers) has registered.
func (t *receiverTable) expectedJoined(minReceivers int) bool {
	for _, r := range t.recipients {
		if p, ok := t.peers[keyOf(r)]; !ok || p.state == protocol.StateRefused {
			return false
		}
	}
	return t.joined() >= minReceivers
}

// resumedPrefix is the number of leading blocks every registered
// receiver already holds (a resumed push skips them in the first pass).
func (t *receiverTable) resumedPrefix() int {
	prefix := -1
	for _, p := range t.order {
		if p.state == protocol.StateRefused {
			continue
		}
		if prefix < 0 || int(p.havePrefix) < prefix {
			prefix = int(p.havePrefix)
		}
	}
	return max(0, min(prefix, t.blocks))
}

// manifestPending reports whether a registered receiver still lacks the
// manifest.
func (t *receiverTable) manifestPending() bool {
	for _, p := range t.order {
		if p.state == protocol.StateJoined {
			return true
		}
	}
	return false
}

// receiverReports is the per-receiver part of the report. Loss is the
// network loss the receiver saw in the first pass (its own socket's drops
// apart); an overloaded receiver says so in Reason.
func (t *receiverTable) receiverReports(now, start time.Time) (rs []ReceiverReport, completed int) {
	labels := t.reportLabels()
	for _, p := range t.order {
		network, overflow := p.firstPass.shares()
		rr := ReceiverReport{Name: labels[p.key], Fingerprint: identity.Fingerprint(p.key[:]), Loss: network, Overflow: overflow}
		if t.blocks > 0 {
			rr.Percent = 100 * float64(p.complete) / float64(t.blocks)
		}
		switch {
		case p.state == protocol.StateComplete:
			rr.Status, rr.Percent, rr.Elapsed = "complete", 100, max(p.done.Sub(start), 0) // 0: it had everything (resume)
			completed++
		case p.state == protocol.StateRefused:
			rr.Status, rr.Reason = "refused", reasonText(p.reason)
		case p.state == protocol.StateFailed:
			rr.Status, rr.Reason = "failed", reasonText(p.reason)
		case now.Sub(t.lastHeard(p)) > silentAfter(t.group):
			rr.Status = "no answer"
		default:
			rr.Status, rr.Reason = "partial", p.dropReason
		}
		if overflow >= overflowMin {
			note := fmt.Sprintf("receiver overloaded: %.0f %% dropped by its own socket", 100*overflow)
			rr.Reason = joinReason(rr.Reason, note)
		}
		rs = append(rs, rr)
	}
	for _, want := range t.recipients {
		if _, ok := t.peers[keyOf(want)]; !ok {
			rs = append(rs, ReceiverReport{Name: want.Name, Fingerprint: want.Fingerprint, Status: "no answer"})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	return rs, completed
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func orName(name, fingerprint string) string {
	if name != "" {
		return name
	}
	return fingerprint
}

func keyOf(p identity.Peer) [32]byte {
	var k [32]byte
	copy(k[:], p.SignPub)
	return k
}

// socketOverflow is the data socket's drop count for Status.Overflow, 0
// where the platform cannot tell (SPEC.md §6.6).
func socketOverflow(c multicast.Conn) uint32 {
	n, _ := multicast.Dropped(c)
	return uint32(n)
}

func reasonText(r byte) string {
	switch r {
	case protocol.ReasonUntrusted:
		return "does not trust this sender"
	case protocol.ReasonNoKey:
		return "cannot decrypt (not a recipient / channel not joined)"
	case protocol.ReasonDiskFull:
		return "not enough disk space"
	case protocol.ReasonWrite:
		return "write error"
	case protocol.ReasonTooLarge:
		return "exceeds receiver limits"
	case protocol.ReasonBusy:
		return "too many pushes at once"
	}
	return ""
}
