package push

import (
	"time"
)

// Event is progress a caller may show. A sender delivers its events on
// its run goroutine; a receiver delivers them from several goroutines
// (one per session, plus its announce reader), so a handler must be safe
// for concurrent use. Either way it must return quickly.
type Event struct {
	Kind    EventKind
	Session string // hex session id
	Sender  string // sender fingerprint (receiver side)
	Name    string // sender's name or receiver's (per context)
	Bytes   int64  // verified (receiver) or sent-once (sender) bytes
	Total   int64
	Rate    float64 // bits/s over the last interval
	Loss    float64 // 0..1, worst receiver (sender) or own (receiver)
	Repair  int64   // repair shards sent (sender)
	// Rejected counts data-group datagrams of the session a receiver
	// refused: bad tag, size or block number, a manifest chunk with a bad
	// signature, or a shard from an address the sender does not use.
	Rejected int64
	// Injected counts blocks a receiver rebuilt from shards with valid
	// tags whose hash did not match the signed manifest: someone holding
	// the session key forged shards. Such a block is never written.
	Injected int64
	Paths    []string
	// Missing names the expected receivers not registered yet
	// (EventWaiting; Bytes and Total then count registered and expected).
	Missing []string
	// Receivers is, on a sender's EventProgress, each receiver so far as
	// the final report would show it (herald ui's live table).
	Receivers []ReceiverReport
	Err       error
	Time      time.Time
}

// EventKind names an Event.
type EventKind int

// Event kinds.
const (
	EventOffered  EventKind = iota + 1 // receiver: an announce arrived
	EventRefused                       // receiver: push refused (Err says why)
	EventJoined                        // sender: a receiver registered; receiver: accepted
	EventProgress                      // periodic
	EventComplete                      // receiver: files in place (Paths)
	EventFailed                        // receiver: gave up (Err)
	EventWaiting                       // sender: still waiting for expected receivers (Missing)
)

func (k EventKind) String() string {
	return [...]string{"", "offered", "refused", "joined", "progress", "complete", "failed", "waiting"}[k]
}

// ReceiverReport is the sender's final word on one receiver.
type ReceiverReport struct {
	Name        string
	Fingerprint string
	Status      string        // "complete", "partial", "refused", "failed", "no answer"
	Percent     float64       // verified share of blocks
	Elapsed     time.Duration // from the first data shard to its completion
	// Loss is the share of first-pass shards the network lost on the way
	// to it; Overflow the share its own socket dropped because it did not
	// read fast enough (an overloaded receiver, not the network).
	Loss     float64
	Overflow float64
	Reason   string // why it refused, failed or is partial; notes overload
	// Path is "unicast" for a receiver served by unicast (SPEC §6.11),
	// else "multicast"; UnicastBytes is what went to it that way.
	Path         string
	UnicastBytes int64
}

// Report is the outcome of a push.
type Report struct {
	Session string
	Bytes   int64 // the push's size
	// Sent is the content bytes the first pass actually sent: less than
	// Bytes after an interrupt, or when resumed receivers had a prefix.
	Sent int64
	// Elapsed is the data phase, from the first data shard to the last
	// receiver settled (or the interrupt); Waited the time before it
	// (hashing, registration, --min-receivers).
	Elapsed   time.Duration
	Waited    time.Duration
	WireBytes int64 // UDP payload bytes the sender wrote
	Repair    int64 // repair shards sent
	Receivers []ReceiverReport
	Expected  int // receivers that had to complete (--to or --min-receivers)
	Feedback  FeedbackStats
	Completed int
}

// OK reports whether every expected receiver completed.
func (r *Report) OK() bool {
	return r.Completed >= r.Expected && r.Expected > 0 || (r.Expected == 0 && r.Completed > 0)
}

// FeedbackStats is what receivers' statuses cost the sender: how many it
// handled, how many of those asked for repair and the NACK entries in
// them, and the time spent verifying and handling them (wall time on its
// own goroutines, a close bound on CPU).
type FeedbackStats struct {
	Statuses int64
	// NackStatuses are the statuses with at least one NACK of a data
	// block, and Nacks those NACKs: repair, what suppression keeps down.
	NackStatuses int64
	Nacks        int64
	// ManifestNacks are NACKs of manifest chunks: a receiver asks for the
	// chunks it lacks when it registers, so they grow with the receivers,
	// not with the blocks.
	ManifestNacks int64
	Shed          int64 // statuses dropped unverified when the hand-off was busy (SPEC.md §6.7)
	Busy          time.Duration
}
