package message

import (
	"time"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/protocol"
)

// msgKey names one message: its sender's key and its id.
type msgKey struct {
	sender [protocol.SenderLen]byte
	id     protocol.MessageID
}

// partial is a message in reassembly. Every fragment of it must agree
// with the first on everything but the index (shape).
type partial struct {
	key     msgKey
	shape   shape
	started time.Time
	sent    uint64   // sender's clock on the first fragment, Unix ms
	shared  [32]byte // private: precomputed box key with the sender
	asm     *fec.Assembler
}

// shape is what every fragment of one message repeats.
type shape struct {
	frag    protocol.Fragment // Index zeroed
	typ     protocol.Type
	channel [8]byte  // group: channel id
	flags   byte     // group: flags
	boxKey  [32]byte // private: sender's box key
}

func (s shape) withoutIndex() shape { s.frag.Index = 0; return s }

// reassembly holds partial messages, bounded per sender and in total,
// and remembers which messages were completed. Not safe for concurrent
// use: the engine's receive goroutine owns it.
type reassembly struct {
	partials  map[msgKey]*partial
	perSender map[[protocol.SenderLen]byte]int
	done      doneSet
	maxSender int
	maxTotal  int
	timeout   time.Duration
}

func newReassembly() *reassembly {
	return &reassembly{
		partials:  make(map[msgKey]*partial),
		perSender: make(map[[protocol.SenderLen]byte]int),
		done:      newDoneSet(DoneMemory),
		maxSender: MaxPartialPerSender,
		maxTotal:  MaxPartialTotal,
		timeout:   ReassemblyTimeout,
	}
}

// start makes room for and creates a partial message. evicted reports
// that the sender's own oldest partial was dropped to make room; ok is
// false when the total bound leaves no room.
func (r *reassembly) start(key msgKey, s shape, now time.Time, sent uint64) (p *partial, evicted, ok bool) {
	if r.perSender[key.sender] >= r.maxSender {
		r.remove(r.oldestOf(key.sender))
		evicted = true
	}
	if len(r.partials) >= r.maxTotal {
		return nil, evicted, false
	}
	code, err := fec.New(int(s.frag.K), s.frag.Size())
	if err != nil { // the parser bounds K and Size inside fec's limits
		return nil, evicted, false
	}
	p = &partial{key: key, shape: s, started: now, sent: sent, asm: code.NewAssembler()}
	r.partials[key] = p
	r.perSender[key.sender]++
	return p, evicted, true
}

// oldestOf is the sender's partial started first. Linear in the
// partials, but only runs when a sender is at its bound.
func (r *reassembly) oldestOf(sender [protocol.SenderLen]byte) *partial {
	var oldest *partial
	for _, p := range r.partials {
		if p.key.sender == sender && (oldest == nil || p.started.Before(oldest.started)) {
			oldest = p
		}
	}
	return oldest
}

func (r *reassembly) remove(p *partial) {
	if p == nil {
		return
	}
	delete(r.partials, p.key)
	if r.perSender[p.key.sender]--; r.perSender[p.key.sender] <= 0 {
		delete(r.perSender, p.key.sender)
	}
}

// finish removes a complete message and remembers it as shown.
func (r *reassembly) finish(p *partial, now time.Time) {
	r.remove(p)
	r.done.add(p.key, now)
}

// expire drops partials older than the timeout and returns how many.
func (r *reassembly) expire(now time.Time) int {
	n := 0
	for _, p := range r.partials {
		if now.Sub(p.started) >= r.timeout {
			r.remove(p)
			n++
		}
	}
	return n
}

// doneSet remembers completed messages, oldest forgotten first, with the
// time a receipt was last sent for each (private messages).
type doneSet struct {
	last map[msgKey]time.Time
	ring []msgKey
	next int
	max  int
}

// newDoneSet remembers up to size keys; it grows as messages come rather
// than reserving all of it up front (megabytes a listener rarely needs).
func newDoneSet(size int) doneSet {
	return doneSet{last: make(map[msgKey]time.Time), max: size}
}

func (d *doneSet) has(k msgKey) bool { _, ok := d.last[k]; return ok }

func (d *doneSet) add(k msgKey, now time.Time) {
	if d.has(k) {
		return
	}
	if len(d.ring) < d.max {
		d.ring = append(d.ring, k)
	} else {
		delete(d.last, d.ring[d.next])
		d.ring[d.next] = k
		d.next = (d.next + 1) % len(d.ring)
	}
	d.last[k] = now
}

// receiptDue reports whether a receipt for k may be sent now (none in
// the last receiptGap) and, if so, notes it as sent.
func (d *doneSet) receiptDue(k msgKey, now time.Time) bool {
	last, ok := d.last[k]
	if !ok || now.Sub(last) < receiptGap {
		return false
	}
	d.last[k] = now
	return true
}
