package main

// The message latency benchmark: listeners on every receiver host run
// `herald listen --json`, the sender host sends timestamped messages, and
// each listener's receipt time (the JSON "time" field: when the message was
// complete at that listener) minus the timestamp in the text is one
// latency. Namespaces share the machine's clock, so no clock sync is
// needed. Every series runs idle and again while a herald push fills the
// sender's link.

import (
	"math"
	"slices"
	"time"
)

const (
	// latencyKind marks latency lines in a results file.
	latencyKind = "latency"
	// latencyListeners is how many hosts listen.
	latencyListeners = 10
	// latencyRateMbit is the lab's link rate: slow enough that one herald
	// push fills it on a 2-core machine, so messages meet a full link
	// rather than a busy CPU only.
	latencyRateMbit = 100
	// latencyDrain is how long listeners get after the last message.
	latencyDrain = 2 * time.Second
	// latencySendTimeout bounds one `herald announce`.
	latencySendTimeout = 20 * time.Second
	// latencyMaxInFlight bounds concurrent announce processes; when it is
	// reached the schedule slips, and each message keeps its true send time.
	latencyMaxInFlight = 32
	// latencyWarmups bounds the announcements that wait for every listener
	// to hear the sender before any series starts.
	latencyWarmups = 10
	// latencyPushFileMB keeps a push at latencyRateMbit busy for about 17 s:
	// longer than a series (12 s) and its drain.
	latencyPushFileMB = 200
	// latencyPushReceivers receive the push (on the first listener hosts):
	// the sender's link fills the same for any number, and fewer receivers
	// leave the 2 cores to the listeners.
	latencyPushReceivers = 3
	// pushBusyFraction of the link rate on the sender's eth0 means the push
	// is moving data; the series under load starts then.
	pushBusyFraction = 0.5
	// pushStartLimit bounds the wait for the push's data phase.
	pushStartLimit = 30 * time.Second
	// latencyChannel is the channel every host joins (as the file benchmark).
	latencyChannel = "bench"
	// latencyTag starts every measured message's text.
	latencyTag = "bench-latency"
)

// Methods of sending.
const (
	// methodAnnounce runs `herald announce` once per message: what a user
	// or script does. Its latency runs from the moment the message left
	// the sender (`sent` in announce's JSON) to the listener showing it.
	methodAnnounce = "announce"
	// methodAnnounceStart is the same deliveries timed from before the
	// announce process was started: process start, identity load and
	// socket set-up included. It is what a script waits, shown beside the
	// target, not judged by it.
	methodAnnounceStart = "announce+start"
	// methodChat writes one line per message into one `herald chat`: the
	// message path alone.
	methodChat = "chat"
	// methodRaw is the lab's floor, not herald: `blast ping` multicasts one
	// small datagram per message carrying its send time, and `blast listen`
	// on every listener host prints its receipt time minus that. No crypto,
	// no framing, one process hop less (the send time is taken inside the
	// sending process, not before a pipe), so it is what the namespaces,
	// the bridge and the machine's scheduler cost on their own.
	methodRaw = "raw"
)

// rawGroup is the group of the raw series (239/8, apart from herald's
// 239.255.72.1 control group and the file benchmark's groups).
const rawGroup = "239.255.77.10:7710"

// rawSize is the raw datagram's UDP payload: about a chat message's sealed
// datagram.
const rawSize = 200

// rawListenSlack bounds a raw listener beyond its series and drain.
const rawListenSlack = 10 * time.Second

// latencyMethod is how many messages a method sends per series, and how
// far apart. Both series last 12 s.
type latencyMethod struct {
	name     string
	messages int
	interval time.Duration
}

// latencyMethods: chat sends 12.5 messages a second, under the listeners'
// per-sender limit (message.DefaultRate, 20 a second), so the figures
// measure delivery, not the rate limiter. Each announce process lives about
// 0.5 s (it sends three copies within a third of a second); one every
// 300 ms keeps about two alive, as a script announcing in a loop would,
// where 50 a second would pile 25 processes onto 2 cores and measure that.
var latencyMethods = []latencyMethod{
	{name: methodRaw, messages: chatMessages, interval: chatInterval},
	{name: methodAnnounce, messages: 40, interval: 300 * time.Millisecond},
	{name: methodChat, messages: chatMessages, interval: chatInterval},
}

// The chat series, which the raw series copies so the two compare.
const (
	chatMessages = 150
	chatInterval = 80 * time.Millisecond
)

// Phases of a series.
const (
	phaseIdle = "idle"
	phasePush = "push"
)

// latencyResult is one series: one method, one phase. It is a line of the
// results file.
type latencyResult struct {
	Kind       string  `json:"kind"` // latencyKind
	Time       string  `json:"time"`
	Mode       string  `json:"mode"`
	Method     string  `json:"method"`
	Phase      string  `json:"phase"`
	Listeners  int     `json:"listeners"`
	RateMbit   int     `json:"rate_mbit"`
	Messages   int     `json:"messages"` // sent successfully
	SendFailed int     `json:"send_failed,omitempty"`
	IntervalMS float64 `json:"interval_ms"`
	// LatenciesMS holds one figure per delivery (message × listener), in
	// milliseconds; Expected is messages × listeners, so the missing are
	// Expected - len(LatenciesMS).
	LatenciesMS []float64 `json:"latencies_ms,omitempty"`
	Expected    int       `json:"expected"`
	// PushMbit is the sender's mean eth0 rate while the series ran; with
	// PushRunning false the push had ended before the last message.
	PushMbit    float64 `json:"push_mbit,omitempty"`
	PushRunning bool    `json:"push_running,omitempty"`
	Skipped     string  `json:"skipped,omitempty"`
	Error       string  `json:"error,omitempty"`
	Logs        string  `json:"logs,omitempty"`
}

// percentile returns the nearest-rank p-quantile (0 < p <= 1) of the
// deliveries in milliseconds; missing deliveries rank as +Inf.
func (l latencyResult) percentile(p float64) float64 {
	n := max(l.Expected, len(l.LatenciesMS))
	if n == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p*float64(n))) - 1
	rank = min(max(rank, 0), n-1)
	if rank >= len(l.LatenciesMS) {
		return math.Inf(1)
	}
	sorted := slices.Sorted(slices.Values(l.LatenciesMS))
	return sorted[rank]
}
