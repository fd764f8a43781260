package message

import "sync/atomic"

// Stats counts what the engine did with the packets the node handed it.
// Refusals a user asks about: WrongKey, ChangedKey, RateLimited, and
// BadSignature and Replayed, copied from the node's counters.
type Stats struct {
	Shown        uint64 // messages delivered on Messages
	Sent         uint64 // messages posted or sent privately by this engine
	Repeats      uint64 // fragments of messages already shown (repeat rounds, retained re-sends)
	Malformed    uint64 // body does not parse, not UTF-8, or fragments of one message disagree
	NotForUs     uint64 // another channel or another recipient
	WrongKey     uint64 // decryption failed: not sealed with the key it claims
	ChangedKey   uint64 // sender's key is marked changed (possible impostor)
	RateLimited  uint64 // new message over the sender's token bucket
	Overflow     uint64 // no room in reassembly, or Messages queue full
	Expired      uint64 // messages dropped incomplete (timeout or evicted by the same sender)
	ReceiptsSent uint64
	ReceiptsGot  uint64 // receipts that completed a SendPrivate
	BadSignature uint64 // node: signature did not verify (all packet types)
	Replayed     uint64 // node: refused by the replay guard as an old or retired packet (all packet types; herald's own copies are not counted)
	Duplicates   uint64 // node: a copy of a packet accepted moments ago (herald's own repeats; not a threat)
	Stale        uint64 // node: refused as outside the allowed clock skew (all packet types)
	QueueDropped uint64 // node: message packets lost to a full subscription
}

type counters struct {
	shown, sent, repeats, malformed, notForUs, wrongKey, changedKey atomic.Uint64
	rateLimited, overflow, expired, receiptsSent, receiptsGot       atomic.Uint64
}
