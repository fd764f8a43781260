package main

// Running the latency experiment: the lab, its listeners, and one series
// per method and phase, written to the results file as it completes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// latencyEnv is what runLatency needs from the driver.
type latencyEnv struct {
	toolPaths
	work, logRoot string
	jsonl         io.Writer
	mode          string
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
	joinCode  string // of the channel the sender made
}

// home is a host's HOME for one role: listeners and push receivers on the
// same host are separate herald nodes, as two users' programs would be.
func (s *latencySession) home(role string) string { return filepath.Join(s.work, role) }

// nameAs creates the identity of a herald node in home under name. Names
// must differ: listeners refuse a known name presented with another key.
func (s *latencySession) nameAs(home, name string) error {
	if out, err := exec.Command(s.env.herald, "--home", heraldHome(home), "--name", name, "id").CombinedOutput(); err != nil {
		return fmt.Errorf("herald id: %v: %s", err, firstLine(string(out)))
	}
	return nil
}

// joinAs creates the identity of a herald node in home under name, then
// joins it to the channel the sender made.
func (s *latencySession) joinAs(home, name string) error {
	if err := s.nameAs(home, name); err != nil {
		return err
	}
	return heraldChannelJoin(s.env.herald, home, s.joinCode)
}

// start joins every host to the channel, starts the listeners and waits
// until each has heard the sender.
func (s *latencySession) start(ctx context.Context) error {
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return err
	}
	s.renv = runEnv{sc: scenario{Receivers: latencyListeners, RateMbit: latencyRateMbit, FileMB: latencyPushFileMB},
		lab: s.lab, toolPaths: s.env.toolPaths}
	s.senderDir = s.home("sender")
	if err := s.nameAs(s.senderDir, "sender"); err != nil {
		return err
	}
	code, err := heraldChannelNew(s.env.herald, s.senderDir, latencyChannel)
	if err != nil {
		return err
	}
	s.joinCode = code
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
