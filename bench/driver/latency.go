package main

// The message latency benchmark: listeners on every receiver host run
// `herald listen --json`, the sender host sends timestamped messages, and
// each listener's receipt time (the JSON "time" field: when the message was
// complete at that listener) minus the timestamp in the text is one
// latency. Namespaces share the machine's clock, so no clock sync is
// needed. Every series runs idle and again while a herald push fills the
// sender's link.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
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

// latencyEnv is what runLatency needs from the driver.
type latencyEnv struct {
	herald, heraldSkip string
	blast              string // bench/cmd/blast, for the raw series
	work, logRoot      string
	jsonl              io.Writer
	mode               string
}

// latencyAvailable says why herald cannot run the benchmark, or "".
func latencyAvailable(ctx context.Context, e latencyEnv) string {
	if e.heraldSkip != "" {
		return e.heraldSkip
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, args := range [][]string{{"announce", "--help"}, {"listen", "--help"}, {"chat", "--help"}} {
		out, err := exec.CommandContext(ctx, e.herald, args...).CombinedOutput()
		if err != nil {
			return fmt.Sprintf("`herald %s` fails (%v): %s", strings.Join(args, " "), err, firstLine(string(out)))
		}
		if args[0] == "listen" && !strings.Contains(string(out), "--json") {
			return "`herald listen` has no --json yet"
		}
	}
	return ""
}

// runLatency runs every method idle and during a push, writes each series
// to e.jsonl and returns them.
func runLatency(ctx context.Context, e latencyEnv) ([]latencyResult, error) {
	base := latencyResult{Kind: latencyKind, Mode: e.mode, Listeners: latencyListeners, RateMbit: latencyRateMbit}
	var out []latencyResult
	emit := func(r latencyResult) error {
		r.Time = time.Now().UTC().Format(time.RFC3339)
		out = append(out, r)
		status := "ok"
		switch {
		case r.Skipped != "":
			status = "skipped: " + r.Skipped
		case r.Error != "":
			status = "FAILED: " + r.Error
		}
		fmt.Fprintf(os.Stderr, "latency %s/%s: %d of %d delivered, p50 %s p99 %s %s\n", r.Method, r.Phase,
			len(r.LatenciesMS), r.Expected, formatMS(r.percentile(0.5)), formatMS(r.percentile(0.99)), status)
		return writeJSONLine(e.jsonl, r)
	}
	if why := latencyAvailable(ctx, e); why != "" {
		r := base
		r.Skipped = why
		return out, emit(r)
	}
	lab, err := netlab.New(ctx, netlab.Config{Receivers: latencyListeners, RateMbit: latencyRateMbit, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return out, err
	}
	defer lab.Close()
	work := filepath.Join(e.work, "latency")
	defer os.RemoveAll(work)
	logDir := filepath.Join(e.logRoot, fmt.Sprintf("latency-%drx-%dM", latencyListeners, latencyRateMbit))
	s := &latencySession{lab: lab, env: e, work: work, logDir: logDir}
	defer s.stopAll()
	if err := s.start(ctx); err != nil {
		r := base
		r.Error, r.Logs = err.Error(), logDir
		return out, errors.Join(emit(r), err)
	}
	for _, method := range latencyMethods {
		for _, phase := range []string{phaseIdle, phasePush} {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			r := base
			r.Method, r.Phase, r.Logs = method.name, phase, logDir
			r.IntervalMS = float64(method.interval) / float64(time.Millisecond)
			extra := s.series(ctx, method, &r)
			for _, x := range append([]latencyResult{r}, extra...) {
				if err := emit(x); err != nil {
					return out, err
				}
			}
		}
	}
	return out, nil
}

// latencySession is one latency lab with its listeners running. It is used
// by one goroutine.
type latencySession struct {
	lab       *netlab.Lab
	env       latencyEnv
	work      string
	logDir    string
	renv      runEnv
	listeners []*proc
	senderDir string
}

// home is a host's HOME for one role: listeners and push receivers on the
// same host are separate herald nodes, as two users' programs would be.
func (s *latencySession) home(role string) string { return filepath.Join(s.work, role) }

// joinAs creates the identity of a herald node in home under name, then
// joins it to the bench channel. Names must differ: listeners refuse a
// known name presented with another key.
func (s *latencySession) joinAs(home, name string) error {
	heraldHome := filepath.Join(home, ".config", "herald")
	if out, err := exec.Command(s.env.herald, "--home", heraldHome, "--name", name, "id").CombinedOutput(); err != nil {
		return fmt.Errorf("herald id: %v: %s", err, firstLine(string(out)))
	}
	return heraldJoin(s.renv, home)
}

// start joins every host to the channel, starts the listeners and waits
// until each has heard the sender.
func (s *latencySession) start(ctx context.Context) error {
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return err
	}
	s.renv = runEnv{sc: scenario{Receivers: latencyListeners, RateMbit: latencyRateMbit, FileMB: latencyPushFileMB},
		lab: s.lab, herald: s.env.herald}
	s.senderDir = s.home("sender")
	if err := s.joinAs(s.senderDir, "sender"); err != nil {
		return err
	}
	for i, h := range s.lab.Receivers {
		role := fmt.Sprintf("listen%d", i+1)
		if err := s.joinAs(s.home(role), role); err != nil {
			return err
		}
		p, err := startProc(ctx, s.lab, h, role, s.logDir, s.home(role),
			[]string{s.env.herald, "listen", "--json", "--channel", latencyChannel})
		if err != nil {
			return err
		}
		s.listeners = append(s.listeners, p)
	}
	// Warm-up: listeners need a moment to join the group, and the first
	// message from an unknown sender waits for its beacon.
	for try := range latencyWarmups {
		text := fmt.Sprintf("%s warmup %d", latencyTag, try)
		if _, err := s.announce(ctx, text); err != nil {
			return fmt.Errorf("warm-up announce: %w", err)
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if s.allHeard(text) {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return fmt.Errorf("listeners did not all hear %d warm-up announcements (see %s)", latencyWarmups, s.logDir)
}

// allHeard reports whether every listener printed text.
func (s *latencySession) allHeard(text string) bool {
	for _, p := range s.listeners {
		heard := false
		for _, e := range readListenLog(p.outPath) {
			if e.Text == text {
				heard = true
				break
			}
		}
		if !heard {
			return false
		}
	}
	return true
}

func (s *latencySession) stopAll() {
	for _, p := range s.listeners {
		p.stop()
	}
	_ = s.lab.KillProcesses(context.Background())
}

// announce runs one `herald announce --json` on the sender host and
// returns when, by its own report, the message first left the host.
func (s *latencySession) announce(ctx context.Context, text string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, latencySendTimeout)
	defer cancel()
	cmd := s.lab.Command(ctx, s.lab.Sender, s.env.herald, "--json", "announce", "--channel", latencyChannel, text)
	cmd.Env = hostEnv(s.senderDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("%v: %s", err, firstLine(stderr.String()))
	}
	var ev struct {
		Event string    `json:"event"`
		Sent  time.Time `json:"sent"`
	}
	if err := json.Unmarshal(out, &ev); err != nil || ev.Event != "announced" || ev.Sent.IsZero() {
		return time.Time{}, fmt.Errorf("announce printed %q, want an announced event with its sent time", firstLine(string(out)))
	}
	return ev.Sent, nil
}

// hostEnv is the environment of a herald process whose HOME is home (as
// startProc sets it).
func hostEnv(home string) []string {
	return append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home+"/.config",
		"XDG_DATA_HOME="+home+"/.local/share", "XDG_STATE_HOME="+home+"/.local/state", "XDG_CACHE_HOME="+home+"/.cache")
}

// series sends m's messages, under a push if r.Phase says so, and fills r
// with what the listeners got. The announce method also returns its
// deliveries timed from process start (methodAnnounceStart).
func (s *latencySession) series(ctx context.Context, m latencyMethod, r *latencyResult) (extra []latencyResult) {
	tag := fmt.Sprintf("%s %s %s", latencyTag, r.Method, r.Phase)
	var push *pushLoad
	if r.Phase == phasePush {
		var err error
		if push, err = s.startPush(ctx, r.Method); err != nil {
			r.Error = err.Error()
			return
		}
		defer push.stop()
	}
	var sent, started map[int]time.Time
	var failed int
	var err error
	switch m.name {
	case methodRaw:
		var got []float64
		got, sent, err = s.sendRaw(ctx, m, r.Phase)
		if push != nil {
			r.PushMbit, r.PushRunning = push.measure()
		}
		r.Messages, r.Expected, r.LatenciesMS = len(sent), len(sent)*len(s.listeners), got
		if err != nil {
			r.Error = err.Error()
		}
		return
	case methodAnnounce:
		sent, started, failed = s.sendAnnounces(ctx, m, tag)
	case methodChat:
		sent, err = s.sendChat(ctx, m, tag, r.Phase)
	}
	if push != nil {
		r.PushMbit, r.PushRunning = push.measure()
	}
	r.Messages, r.SendFailed = len(sent), failed
	r.Expected = len(sent) * len(s.listeners)
	if err != nil {
		r.Error = err.Error()
	}
	// Wait for stragglers: until every delivery is in, or the drain ends.
	deadline := time.Now().Add(latencyDrain)
	for {
		r.LatenciesMS = s.collect(tag, sent, started)
		if len(r.LatenciesMS) >= r.Expected || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.Error == "" && failed > 0 {
		r.Error = fmt.Sprintf("%d of %d sends failed (see %s)", failed, m.messages, s.logDir)
	}
	if started != nil {
		x := *r
		x.Method = methodAnnounceStart
		x.LatenciesMS = s.collect(tag, started, nil)
		extra = append(extra, x)
	}
	return extra
}

// latencyText is a measured message: tag, sequence number, send time.
func latencyText(tag string, seq int, at time.Time) string {
	return fmt.Sprintf("%s %d %d", tag, seq, at.UnixNano())
}

// parseLatencyText is the inverse of latencyText for texts with tag.
func parseLatencyText(tag, text string) (seq int, sentNanos int64, ok bool) {
	rest, found := strings.CutPrefix(text, tag+" ")
	if !found {
		return 0, 0, false
	}
	var err error
	fields := strings.Fields(rest)
	if len(fields) != 2 {
		return 0, 0, false
	}
	if seq, err = strconv.Atoi(fields[0]); err != nil {
		return 0, 0, false
	}
	if sentNanos, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
		return 0, 0, false
	}
	return seq, sentNanos, true
}

// sendAnnounces starts one `herald announce` every m.interval and returns,
// for every message whose process succeeded, when it left the host and
// when its process was started.
func (s *latencySession) sendAnnounces(ctx context.Context, m latencyMethod, tag string) (sent, started map[int]time.Time, failed int) {
	var mu sync.Mutex
	sent, started = map[int]time.Time{}, map[int]time.Time{}
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, latencyMaxInFlight)
	next := time.Now()
	for seq := range m.messages {
		time.Sleep(time.Until(next))
		next = next.Add(m.interval)
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return sent, started, failed
		}
		wg.Go(func() {
			defer func() { <-inFlight }()
			at := time.Now()
			left, err := s.announce(ctx, latencyText(tag, seq, at))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if failed == 1 {
					fmt.Fprintf(os.Stderr, "latency: announce failed: %v\n", err)
				}
				return
			}
			sent[seq], started[seq] = left, at
		})
	}
	wg.Wait()
	return sent, started, failed
}

// sendChat feeds one `herald chat` a line every m.interval.
func (s *latencySession) sendChat(ctx context.Context, m latencyMethod, tag, phase string) (map[int]time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, latencySendTimeout+time.Duration(m.messages)*m.interval)
	defer cancel()
	cmd := s.lab.Command(ctx, s.lab.Sender, s.env.herald, "chat", "--channel", latencyChannel)
	cmd.Env = hostEnv(s.senderDir)
	logf, err := os.Create(filepath.Join(s.logDir, "chat-"+phase+".out"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// The chat node announces itself first; give listeners its beacon, as
	// a user's first line would come seconds later.
	time.Sleep(time.Second)
	sent := map[int]time.Time{}
	var writeErr error
	next := time.Now()
	for seq := range m.messages {
		time.Sleep(time.Until(next))
		next = next.Add(m.interval)
		at := time.Now()
		if _, writeErr = fmt.Fprintln(stdin, latencyText(tag, seq, at)); writeErr != nil {
			break
		}
		sent[seq] = at
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return sent, errors.Join(writeErr, fmt.Errorf("herald chat: %w (see %s)", err, logf.Name()))
	}
	return sent, writeErr
}

// sendRaw runs `blast listen` on every listener host and `blast ping` on
// the sender, and returns every delivery's latency in milliseconds and the
// sequence numbers sent.
func (s *latencySession) sendRaw(ctx context.Context, m latencyMethod, phase string) ([]float64, map[int]time.Time, error) {
	series := time.Duration(m.messages) * m.interval
	ctx, cancel := context.WithTimeout(ctx, series+latencyDrain+rawListenSlack)
	defer cancel()
	var listeners []*proc
	defer func() {
		for _, p := range listeners {
			p.stop()
		}
	}()
	for i, h := range s.lab.Receivers {
		role := fmt.Sprintf("raw-%s-listen%d", phase, i+1)
		p, err := startProc(ctx, s.lab, h, role, s.logDir, s.home(role),
			[]string{s.env.blast, "listen", "-group", rawGroup, "-iface", netlab.HostIface,
				"-count", fmt.Sprint(m.messages), "-timeout", (series + latencyDrain + rawListenSlack/2).String()})
		if err != nil {
			return nil, nil, err
		}
		listeners = append(listeners, p)
	}
	if err := waitReady(ctx, toolSpec{readyLine: "ready"}, listeners); err != nil {
		return nil, nil, err
	}
	cmd := s.lab.Command(ctx, s.lab.Sender, s.env.blast, "ping", "-group", rawGroup, "-iface", netlab.HostIface,
		"-count", fmt.Sprint(m.messages), "-interval", m.interval.String(), "-size", fmt.Sprint(rawSize))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, nil, fmt.Errorf("blast ping: %v: %s", err, firstLine(string(out)))
	}
	sent := map[int]time.Time{}
	for seq := range m.messages {
		sent[seq] = time.Time{} // the send time is in each datagram
	}
	// Listeners exit once they have every datagram; wait out the drain for
	// the rest.
	deadline := time.Now().Add(latencyDrain)
	for _, p := range listeners {
		select {
		case <-p.done:
		case <-time.After(time.Until(deadline)):
		}
	}
	var got []float64
	for _, p := range listeners {
		got = append(got, readPingLog(p.outPath, m.messages)...)
	}
	return got, sent, nil
}

// pingLine is what `blast listen` prints per datagram (bench/cmd/blast).
type pingLine struct {
	Seq       *int     `json:"seq"`
	LatencyMS *float64 `json:"latency_ms"`
}

// readPingLog returns the latencies in one `blast listen` output, in
// milliseconds rounded to the microsecond as herald's are, of sequence
// numbers below count, each once.
func readPingLog(path string, count int) []float64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []float64
	seen := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l pingLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Seq == nil || l.LatencyMS == nil {
			continue
		}
		if seq := *l.Seq; seq >= 0 && seq < count && !seen[seq] {
			seen[seq] = true
			out = append(out, math.Round(*l.LatencyMS*1000)/1000)
		}
	}
	return out
}

// listenEntry is what the benchmark reads of a `herald listen --json` line.
type listenEntry struct {
	Time time.Time `json:"time"` // when the message was complete at the listener
	Kind string    `json:"kind"`
	Text string    `json:"text"`
}

// maxListenLine bounds one line of listen's output (a message is at most
// a few KiB; a longer line is not a message).
const maxListenLine = 1 << 20

// readListenLog parses a listener's stdout; lines that are not JSON are
// skipped.
func readListenLog(path string) []listenEntry {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []listenEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), maxListenLine)
	for sc.Scan() {
		var e listenEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && !e.Time.IsZero() {
			out = append(out, e)
		}
	}
	return out
}

// collect returns the latency of every delivery of the messages sent, in
// milliseconds, timed from sent; a listener that shows a message twice
// counts once. A message counts only if its text carries the time stamped
// in it (stamped; nil: sent), so a stray line is never taken for ours.
func (s *latencySession) collect(tag string, sent, stamped map[int]time.Time) []float64 {
	if stamped == nil {
		stamped = sent
	}
	var out []float64
	for _, p := range s.listeners {
		seen := map[int]bool{}
		for _, e := range readListenLog(p.outPath) {
			seq, nanos, ok := parseLatencyText(tag, e.Text)
			at, wasSent := sent[seq]
			if !ok || !wasSent || seen[seq] || stamped[seq].UnixNano() != nanos {
				continue
			}
			seen[seq] = true
			out = append(out, math.Round(float64(e.Time.Sub(at))/float64(time.Microsecond))/1000)
		}
	}
	return out
}

// pushLoad is a herald push running to receivers on every listener host.
type pushLoad struct {
	sender    *proc
	receivers []*proc
	lab       *netlab.Lab
	homes     []string // receivers' homes with what they received, removed by stop
	startTx   uint64
	startAt   time.Time
}

// startPush starts receivers and a push of latencyPushFileMB, and returns
// once the push moves data at pushBusyFraction of the link.
func (s *latencySession) startPush(ctx context.Context, method string) (*pushLoad, error) {
	src := filepath.Join(s.env.work, fmt.Sprintf("file-%dMB.bin", latencyPushFileMB))
	if err := ensureFile(src, int64(latencyPushFileMB)<<20); err != nil {
		return nil, err
	}
	load := &pushLoad{lab: s.lab}
	fail := func(err error) (*pushLoad, error) {
		load.stop()
		return nil, err
	}
	for i, h := range s.lab.Receivers[:latencyPushReceivers] {
		role := fmt.Sprintf("push-%s-rx%d", method, i+1)
		home := s.home(role)
		load.homes = append(load.homes, home)
		dir := filepath.Join(home, "in")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail(err)
		}
		if err := s.joinAs(home, role); err != nil {
			return fail(err)
		}
		p, err := startProc(ctx, s.lab, h, role, s.logDir, home,
			[]string{s.env.herald, "receive", "--once", "--accept-any", "--dir", dir})
		if err != nil {
			return fail(err)
		}
		load.receivers = append(load.receivers, p)
	}
	time.Sleep(receiverSettle)
	sender, err := startProc(ctx, s.lab, s.lab.Sender, "push-"+method, s.logDir, s.senderDir,
		[]string{s.env.herald, "push", "--channel", latencyChannel, "--rate", heraldRate(s.renv.sc),
			"--min-receivers", fmt.Sprint(latencyPushReceivers), src})
	if err != nil {
		return fail(err)
	}
	load.sender = sender
	// Wait for the data phase: the sender's eth0 busy for one poll period.
	const poll = 200 * time.Millisecond
	busyBytes := uint64(pushBusyFraction * latencyRateMbit * 1e6 / 8 * poll.Seconds())
	deadline := time.Now().Add(pushStartLimit)
	last, err := s.lab.Counters(ctx, s.lab.Sender)
	if err != nil {
		return fail(err)
	}
	for {
		time.Sleep(poll)
		now, err := s.lab.Counters(ctx, s.lab.Sender)
		if err != nil {
			return fail(err)
		}
		if now.TxBytes-last.TxBytes >= busyBytes {
			load.startTx, load.startAt = now.TxBytes, time.Now()
			return load, nil
		}
		last = now
		if sender.exited() {
			return fail(fmt.Errorf("push exited before sending data: %v (see %s)", sender.err, sender.errPath))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(fmt.Errorf("push not sending after %v (see %s)", pushStartLimit, sender.errPath))
		}
	}
}

// measure returns the sender's mean rate since the data phase began and
// whether the push is still running.
func (l *pushLoad) measure() (mbit float64, running bool) {
	c, err := l.lab.Counters(context.Background(), l.lab.Sender)
	if err != nil {
		return 0, !l.sender.exited()
	}
	secs := time.Since(l.startAt).Seconds()
	return float64(c.TxBytes-l.startTx) * 8 / secs / 1e6, !l.sender.exited()
}

func (l *pushLoad) stop() {
	if l.sender != nil {
		l.sender.stop()
	}
	for _, p := range l.receivers {
		p.stop()
	}
	for _, h := range l.homes {
		os.RemoveAll(h)
	}
}

// formatMS prints a latency in milliseconds; lost deliveries read "lost".
func formatMS(ms float64) string {
	switch {
	case math.IsNaN(ms):
		return "–"
	case math.IsInf(ms, 1):
		return "lost"
	}
	return fmt.Sprintf("%.1f", ms)
}

// writeLatency renders the latency section of the page.
func writeLatency(b *strings.Builder, results []latencyResult) {
	b.WriteString("## Message latency\n\n")
	fmt.Fprintf(b, "%d listeners run `herald listen --json`; the sender host sends messages on an encrypted channel, "+
		"each carrying its send time. Latency is the listener's receipt time (the JSON `time` field, set when the message is complete) "+
		"minus the send time, over every message × listener; a message a listener never showed counts as lost (slowest). "+
		"`announce` starts one `herald announce --json` per message and times it from the `sent` time it reports (the first copy leaving the sender); "+
		"`announce+start` is the same deliveries timed from before the process was started (exec, Go start-up, identity and socket set-up included: what a script waits; shown, not judged); "+
		"`chat` writes a line per message into one running `herald chat` (the message path alone). "+
		"`raw` is the lab's floor, not herald: `blast ping` multicasts a %d-byte datagram per message with its send time "+
		"as chat's schedule does, and `blast listen` on every listener host takes the receipt time (no crypto, no framing, no pipe). "+
		"`push` repeats the series while a `herald push` to %d of the listener hosts fills the sender's %d Mbit/s link "+
		"(push Mbit/s: the sender's mean rate during the series).\n\n",
		latencyListeners, rawSize, latencyPushReceivers, latencyRateMbit)
	b.WriteString("| method | phase | sent | every ms | delivered | p50 ms | p90 ms | p99 ms | max ms | push Mbit/s |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range results {
		if l.Skipped != "" {
			fmt.Fprintf(b, "| skipped: %s | | | | | | | | | |\n", l.Skipped)
			continue
		}
		push := "–"
		if l.Phase == phasePush {
			push = fmt.Sprintf("%.0f", l.PushMbit)
			if !l.PushRunning {
				push += " (ended early)"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %d | %.0f | %d/%d | %s | %s | %s | %s | %s |\n", l.Method, l.Phase, l.Messages, l.IntervalMS,
			len(l.LatenciesMS), l.Expected, formatMS(l.percentile(0.5)), formatMS(l.percentile(0.9)),
			formatMS(l.percentile(0.99)), formatMS(l.percentile(1)), push)
	}
	b.WriteString("\n")
}

// latencyTargets checks every series against the messaging issue's
// figures: idle p50 and p99, and p99 during a push.
//
// The raw series (the lab's floor) and announce+start (process start
// included) are judged by no target; the chat and announce checks of the
// same phase quote them.
func latencyTargets(results []latencyResult) []targetCheck {
	var out []targetCheck
	floor, started := map[string]latencyResult{}, map[string]latencyResult{}
	for _, l := range results {
		if l.Skipped != "" || l.Error != "" || l.Expected == 0 {
			continue
		}
		switch l.Method {
		case methodRaw:
			floor[l.Phase] = l
		case methodAnnounceStart:
			started[l.Phase] = l
		}
	}
	for _, l := range results {
		if l.Skipped != "" || l.Method == "" || l.Method == methodRaw || l.Method == methodAnnounceStart {
			continue
		}
		c := latencyCheck(l)
		if f, ok := floor[l.Phase]; ok && l.Method == methodChat {
			c.figure += fmt.Sprintf("; lab floor (raw) p50 %s ms, p99 %s ms", formatMS(f.percentile(0.5)), formatMS(f.percentile(0.99)))
		}
		if st, ok := started[l.Phase]; ok && l.Method == methodAnnounce {
			c.figure += fmt.Sprintf("; from process start p50 %s ms, p99 %s ms", formatMS(st.percentile(0.5)), formatMS(st.percentile(0.99)))
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		out = append(out, targetCheck{target: "message latency, idle and during a push", where: fmt.Sprintf("%d listeners", latencyListeners),
			status: targetNotMeasured, figure: "run -latency (or -mode full)"})
	}
	return out
}

// latencyCheck judges one series: idle needs p50 and p99 under their
// targets, a series during a push only its p99.
func latencyCheck(l latencyResult) targetCheck {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	name := fmt.Sprintf("message p50 < %g ms and p99 < %g ms, idle", ms(latencyIdleP50Target), ms(latencyIdleP99Target))
	if l.Phase != "idle" {
		name = fmt.Sprintf("message p99 < %g ms during a push", ms(latencyPushP99Target))
	}
	c := targetCheck{target: name, where: fmt.Sprintf("%s, %s, %d listeners", l.Method, l.Phase, l.Listeners)}
	p50, p99 := l.percentile(0.5), l.percentile(0.99)
	switch {
	case l.Expected == 0:
		c.status, c.figure = targetNotMet, "nothing sent: "+l.Error
	case math.IsInf(p99, 1):
		c.status, c.figure = targetNotMet, fmt.Sprintf("p99 lost (%d of %d delivered)", len(l.LatenciesMS), l.Expected)
	case l.Phase == "idle":
		c.status = verdict(p50 < ms(latencyIdleP50Target) && p99 < ms(latencyIdleP99Target))
		c.figure = fmt.Sprintf("p50 %.1f ms, p99 %.1f ms", p50, p99)
	default:
		c.status = verdict(p99 < ms(latencyPushP99Target))
		c.figure = fmt.Sprintf("p99 %.1f ms, p50 %.1f ms", p99, p50)
	}
	return c
}
