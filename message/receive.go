package message

import (
	"bytes"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// handleGroup takes one verified group message fragment.
func (e *Engine) handleGroup(pkt node.Packet) {
	m, err := protocol.ParseGroupMsg(pkt.Body)
	if err != nil {
		e.stats.malformed.Add(1)
		return
	}
	ch, ok := e.channelFor(m.Channel)
	if !ok {
		e.stats.notForUs.Add(1)
		return
	}
	key := msgKey{pkt.Sender, m.Message}
	s := shape{frag: m.Fragment, typ: protocol.TypeGroupMsg, channel: m.Channel, flags: m.Flags}.withoutIndex()
	p, ok := e.admit(key, s)
	if !ok {
		return
	}
	plain := m.Payload
	if !ch.open {
		nonce := pkt.Nonce24(0)
		if plain, ok = secretbox.Open(e.scratch[:0], m.Payload, &nonce, &ch.key); !ok {
			e.stats.wrongKey.Add(1)
			return
		}
	}
	text, sent, done := e.accept(p, key, s, pkt.Time, m.Index, plain, nil)
	if !done {
		return
	}
	kind := KindChat
	if m.Flags&protocol.GroupAnnounce != 0 {
		kind = KindAnnounce
	}
	e.show(key, text, sent, Message{Kind: kind, Channel: ch.name,
		Priority: m.Flags&protocol.GroupPriorityHigh != 0, Retained: m.Flags&protocol.GroupRetained != 0}, m.Channel)
}

// handlePrivate takes one verified private fragment or receipt.
func (e *Engine) handlePrivate(pkt node.Packet) {
	m, err := protocol.ParsePrivate(pkt.Body)
	if err != nil {
		e.stats.malformed.Add(1)
		return
	}
	if m.Recipient != e.selfID {
		e.stats.notForUs.Add(1)
		return
	}
	if m.Kind == protocol.PrivateReceipt {
		e.handleReceipt(pkt, m)
		return
	}
	if e.cfg.IgnorePrivate {
		e.stats.notForUs.Add(1)
		return
	}
	key := msgKey{pkt.Sender, m.Message}
	now := e.node.Now()
	if e.asm.done.has(key) {
		// The sender re-sends until a receipt arrives: ours was lost.
		e.stats.repeats.Add(1)
		if e.asm.done.receiptDue(key, now) {
			e.sendReceipt(pkt.Sender, m.BoxKey, m.Message)
		}
		return
	}
	s := shape{frag: m.Fragment, typ: protocol.TypePrivate, boxKey: m.BoxKey}.withoutIndex()
	p, ok := e.admit(key, s)
	if !ok {
		return
	}
	var shared [32]byte
	if p != nil {
		shared = p.shared
	} else {
		box.Precompute(&shared, &m.BoxKey, &e.node.ID.BoxKey)
	}
	nonce := pkt.Nonce24(0)
	plain, ok := box.OpenAfterPrecomputation(e.scratch[:0], m.Sealed, &nonce, &shared)
	if !ok {
		e.stats.wrongKey.Add(1)
		return
	}
	text, sent, done := e.accept(p, key, s, pkt.Time, m.Index, plain, &shared)
	if !done {
		return
	}
	if e.show(key, text, sent, Message{Kind: KindPrivate, Private: true}, [8]byte{}) {
		e.sendReceipt(pkt.Sender, m.BoxKey, m.Message)
	}
}

// admit runs the checks a fragment passes before it is decrypted. It
// returns the message's partial, or nil for a new message (whose token
// it has taken), and false when the fragment is dropped.
func (e *Engine) admit(key msgKey, s shape) (*partial, bool) {
	if e.asm.done.has(key) {
		e.stats.repeats.Add(1)
		return nil, false
	}
	if p := e.asm.partials[key]; p != nil {
		if p.shape != s {
			e.stats.malformed.Add(1)
			return nil, false
		}
		return p, true
	}
	if !e.limiter.allow(key.sender, e.node.Now()) {
		e.stats.rateLimited.Add(1)
		return nil, false
	}
	return nil, true
}

// accept adds a decrypted fragment to its message, starting it if p is
// nil, and returns the text and the sender's clock on its first fragment
// once the message is complete.
func (e *Engine) accept(p *partial, key msgKey, s shape, sentMs uint64, index byte, plain []byte, shared *[32]byte) (string, uint64, bool) {
	now := e.node.Now()
	if p == nil {
		var evicted, ok bool
		p, evicted, ok = e.asm.start(key, s, now, sentMs)
		if evicted {
			e.stats.expired.Add(1)
		}
		if !ok {
			e.stats.overflow.Add(1)
			return "", 0, false
		}
		if shared != nil {
			p.shared = *shared
		}
	}
	if _, err := p.asm.Add(int(index), plain); err != nil || !p.asm.Done() {
		return "", 0, false
	}
	block, err := p.asm.Block()
	e.asm.finish(p, now)
	if err != nil {
		e.stats.malformed.Add(1)
		return "", 0, false
	}
	return string(block[:s.frag.Length]), p.sent, true
}

// show completes a message: it must be text. A message from a key that
// claims a trusted peer's name is shown as Changed (and counted), never
// dropped for its name (SPEC.md §8). It reports whether the message was
// delivered or counted as lost to a full queue.
func (e *Engine) show(key msgKey, text string, sentMs uint64, m Message, channel [8]byte) bool {
	if !utf8.ValidString(text) {
		e.stats.malformed.Add(1)
		return false
	}
	from := e.who(key.sender, channel)
	if from.trust == identity.Changed {
		e.stats.changedKey.Add(1)
	}
	m.Time = e.node.Now()
	m.Sent = time.UnixMilli(int64(sentMs))
	m.ID = key.id
	m.Sender, m.Fingerprint, m.Trust = from.name, from.fp, from.trust
	m.SenderKey = bytes.Clone(key.sender[:])
	m.Text = text
	e.deliver(m)
	return true
}
