package message

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/nacl/box"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Post is a message to a channel.
type Post struct {
	Channel  identity.Channel // identity.OpenChannel() for the open channel
	Text     string
	Announce bool // an announcement; otherwise chat
	Priority bool
	// Retain, when positive, keeps re-sending the message with the same
	// id (backoff RetainFirst doubling to RetainMax) for this long, so
	// listeners that start later still get it. Each is shown once.
	Retain time.Duration
}

func (p Post) flags() byte {
	var f byte
	if p.Announce {
		f |= protocol.GroupAnnounce
	}
	if p.Priority {
		f |= protocol.GroupPriorityHigh
	}
	if p.Retain > 0 {
		f |= protocol.GroupRetained
	}
	return f
}

// Post sends p to its channel: a first round at once, Repeats more
// rounds, then the retained re-sends. It returns once all are sent, or
// when ctx ends; a post whose first round went out is sent, so an ended
// ctx after that is not an error.
func (e *Engine) Post(ctx context.Context, p Post) (protocol.MessageID, error) {
	if err := CheckText(p.Text); err != nil {
		return protocol.MessageID{}, err
	}
	id := newMessageID()
	enc, err := encode(id, []byte(p.Text))
	if err != nil {
		return id, err
	}
	sealer := newGroupSealer(p.Channel, p.flags(), enc)
	round := func() error { return e.sendRound(enc, sealer.fragment) }
	if err := round(); err != nil {
		return id, err
	}
	e.stats.sent.Add(1)
	start := time.Now()
	gap := e.cfg.RepeatGap
	for range e.cfg.Repeats {
		if !sleep(ctx, gap) {
			return id, nil
		}
		if err := round(); err != nil {
			return id, err
		}
		gap *= 2
	}
	for gap = e.cfg.RetainFirst; time.Since(start)+gap <= p.Retain; gap = min(2*gap, RetainMax) {
		if !sleep(ctx, gap) {
			return id, nil
		}
		if err := round(); err != nil {
			return id, err
		}
	}
	return id, nil
}

// sendRound signs and sends every fragment once, each under a fresh
// envelope; body builds the packet body of fragment index under env.
func (e *Engine) sendRound(enc *encoded, body func(env protocol.Envelope, index int) protocol.Body) error {
	if e.cfg.BeforeRound != nil {
		e.cfg.BeforeRound()
	}
	buf := make([]byte, 0, protocol.MaxDatagram)
	signer := e.node.Signer
	for i := range enc.fragments {
		env := signer.Next()
		pkt := signer.AppendWith(buf[:0], env, body(env, i))
		if err := e.node.Send(pkt); err != nil {
			return fmt.Errorf("message: send fragment %d of %d: %w", i+1, len(enc.fragments), err)
		}
	}
	return nil
}

// sleep waits d or until ctx ends, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Recipient is whom a private message is for.
type Recipient struct {
	SignPub ed25519.PublicKey
	BoxPub  [32]byte // from the peer's beacon (trust store or presence)
}

// pendingPrivate is a private message waiting for its receipt.
type pendingPrivate struct {
	to   [protocol.SenderLen]byte
	got  chan struct{}
	once sync.Once
}

// SendPrivate sends text to one peer and waits for its receipt,
// re-sending (same id, backoff Config.ReceiptRetry doubling to
// ReceiptRetryMax) until it comes, Config.ReceiptTimeout passes
// (ErrNoReceipt) or ctx ends. Receipts are seen only while Run runs.
func (e *Engine) SendPrivate(ctx context.Context, to Recipient, text string) (protocol.MessageID, error) {
	if len(to.SignPub) != ed25519.PublicKeySize || to.BoxPub == [32]byte{} {
		return protocol.MessageID{}, ErrRecipient
	}
	if err := CheckText(text); err != nil {
		return protocol.MessageID{}, err
	}
	id := newMessageID()
	enc, err := encode(id, []byte(text))
	if err != nil {
		return id, err
	}
	pend := &pendingPrivate{to: [protocol.SenderLen]byte(to.SignPub), got: make(chan struct{})}
	if err := e.addPending(id, pend); err != nil {
		return id, err
	}
	defer e.removePending(id)

	sealer := newPrivateSealer(&e.node.ID.BoxKey, &e.node.ID.BoxPub, to, enc)
	round := func() error { return e.sendRound(enc, sealer.fragment) }
	ctx, cancel := context.WithTimeout(ctx, e.cfg.ReceiptTimeout)
	defer cancel()
	for gap := e.cfg.ReceiptRetry; ; gap = min(2*gap, ReceiptRetryMax) {
		if err := round(); err != nil {
			return id, err
		}
		t := time.NewTimer(gap)
		select {
		case <-pend.got:
			t.Stop()
			e.stats.sent.Add(1)
			return id, nil
		case <-ctx.Done():
			t.Stop()
			return id, fmt.Errorf("%w after %v: %w", ErrNoReceipt, e.cfg.ReceiptTimeout, ctx.Err())
		case <-t.C:
		}
	}
}

func (e *Engine) addPending(id protocol.MessageID, p *pendingPrivate) error {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	if len(e.pending) >= MaxPendingPrivate {
		return fmt.Errorf("%w: %d waiting", ErrBusy, len(e.pending))
	}
	e.pending[id] = p
	return nil
}

func (e *Engine) removePending(id protocol.MessageID) {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	delete(e.pending, id)
}

// handleReceipt completes a SendPrivate: the receipt must come from the
// peer the message went to and open with our box key.
func (e *Engine) handleReceipt(pkt node.Packet, m protocol.Private) {
	e.pendingMu.Lock()
	pend := e.pending[m.Message]
	e.pendingMu.Unlock()
	if pend == nil || pend.to != pkt.Sender {
		e.stats.repeats.Add(1) // a late receipt, or one for another process of ours
		return
	}
	nonce := pkt.Nonce24(0)
	plain, ok := box.Open(e.scratch[:0], m.Sealed, &nonce, &m.BoxKey, &e.node.ID.BoxKey)
	if !ok || len(plain) != protocol.ReceiptLen || protocol.MessageID(plain) != m.Message {
		e.stats.wrongKey.Add(1)
		return
	}
	pend.once.Do(func() {
		e.stats.receiptsGot.Add(1)
		close(pend.got)
	})
}

// sendReceipt acknowledges message id to its sender.
func (e *Engine) sendReceipt(to [protocol.SenderLen]byte, toBox [32]byte, id protocol.MessageID) {
	env := e.node.Signer.Next()
	body := receiptBody(env, to, &toBox, &e.node.ID.BoxKey, &e.node.ID.BoxPub, id)
	if err := e.node.Send(e.node.Signer.AppendWith(nil, env, body)); err != nil {
		e.log.Debug("message: receipt not sent", "err", err)
		return
	}
	e.stats.receiptsSent.Add(1)
}
