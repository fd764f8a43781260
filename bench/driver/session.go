package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

const (
	// receiverSettle is how long receivers without a ready line get to
	// start listening before the sender starts.
	receiverSettle = 500 * time.Millisecond
	// pollEvery is the completion poll period; it bounds the time
	// resolution of the results.
	pollEvery = 5 * time.Millisecond
	// exitGrace is how long receivers get to exit by themselves after the
	// transfer completed (udp-receiver waits 500 ms for a lost final ack)
	// before they are stopped (uftpd never exits by itself).
	exitGrace = 3 * time.Second
)

// result is one JSON line of the output.
type result struct {
	Time        string   `json:"time"`
	Mode        string   `json:"mode"`
	Scenario    scenario `json:"scenario"`
	Tool        string   `json:"tool"`
	Repeat      int      `json:"repeat"`
	OK          bool     `json:"ok"`
	Skipped     string   `json:"skipped,omitempty"`
	Error       string   `json:"error,omitempty"`
	Seconds     float64  `json:"seconds"`
	GoodputMbit float64  `json:"goodput_mbit"`
	CeilingMbit float64  `json:"ceiling_mbit,omitempty"`
	OfCeiling   float64  `json:"fraction_of_ceiling,omitempty"`
	// Delivered is, for the raw blaster, the smallest fraction of datagrams
	// any receiver got.
	Delivered       float64   `json:"delivered,omitempty"`
	WireTxBytes     uint64    `json:"wire_tx_bytes"`
	WireOverhead    float64   `json:"wire_overhead"` // sender tx bytes / file bytes
	FeedbackBytes   uint64    `json:"feedback_tx_bytes"`
	SenderCPU       float64   `json:"sender_cpu_s"`
	SenderRSSKiB    int64     `json:"sender_maxrss_kib"`
	ReceiverCPUMax  float64   `json:"receiver_cpu_s_max"`
	ReceiverRSSKiB  int64     `json:"receiver_maxrss_kib_max"`
	GuardDrops      uint64    `json:"guard_drops"`
	ReceiverSeconds []float64 `json:"receiver_seconds,omitempty"`
	// DeafUnicastBytes is the unicast UDP bytes that reached the scenario's
	// Deaf receiver (deaf.go): its wire, as served by unicast.
	DeafUnicastBytes uint64 `json:"deaf_unicast_rx_bytes,omitempty"`
	DeafUnicastErr   string `json:"deaf_unicast_error,omitempty"`
	Logs             string `json:"logs,omitempty"`
}

// runOnce runs tool once in lab and measures it. The loss of the scenario
// must already be set; bursty loss is driven here for the run's duration.
func runOnce(ctx context.Context, env runEnv, tool toolSpec, work, logDir string) (res result) {
	res = result{Tool: tool.name, Scenario: env.sc, Logs: logDir}
	fail := func(err error) result {
		res.OK, res.Error = false, err.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, env.sc.timeout())
	defer cancel()
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fail(err)
	}
	lab := env.lab
	before, err := snapshot(ctx, lab)
	if err != nil {
		return fail(err)
	}

	// The sender's home is readied first: receivers may need something from
	// it (herald's receivers join the channel the sender made).
	senderHome := filepath.Join(work, "sender-home")
	defer os.RemoveAll(senderHome)
	fromSender := ""
	if tool.prepareSender != nil {
		if fromSender, err = tool.prepareSender(env, senderHome); err != nil {
			return fail(err)
		}
	}

	dirs := make([]string, env.sc.Receivers)
	receivers := make([]*proc, 0, env.sc.Receivers)
	defer func() {
		for _, p := range receivers {
			p.stop()
		}
		for _, d := range dirs {
			if d != "" {
				os.RemoveAll(filepath.Dir(d))
			}
		}
	}()
	for i, h := range lab.Receivers {
		base := filepath.Join(work, fmt.Sprintf("r%d", i+1))
		dirs[i] = filepath.Join(base, "dest")
		scratch := filepath.Join(base, "scratch")
		for _, d := range []string{dirs[i], scratch} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fail(err)
			}
		}
		home := filepath.Join(base, "home")
		if tool.prepareReceiver != nil {
			if err := tool.prepareReceiver(env, home, fromSender); err != nil {
				return fail(err)
			}
		}
		p, err := startProc(ctx, lab, h, fmt.Sprintf("r%d", i+1), logDir, home, tool.receiver(env, i, dirs[i], scratch))
		if err != nil {
			return fail(err)
		}
		receivers = append(receivers, p)
		if env.sc.Starved && i == 0 {
			if err := starve(p.cmd.Process.Pid); err != nil {
				return fail(err)
			}
		}
	}
	if err := waitReady(ctx, tool, receivers); err != nil {
		return fail(err)
	}

	burstCtx, stopBursts := context.WithCancel(ctx)
	var bursts sync.WaitGroup
	if env.sc.Burst {
		for _, h := range lab.Receivers {
			bursts.Go(func() {
				_ = lab.RunBurstLoss(burstCtx, h, netlab.Burst{Permille: env.sc.LossPermille, MeanOutage: burstMeanOutage})
			})
		}
	}
	start := time.Now()
	sender, err := startProc(ctx, lab, lab.Sender, "sender", logDir, senderHome, tool.sender(env))
	if err != nil {
		stopBursts()
		bursts.Wait()
		return fail(err)
	}
	doneAt, waitErr := waitComplete(ctx, tool, env, sender, receivers, dirs)
	waitEnd := time.Now()
	stopBursts()
	bursts.Wait()
	sender.stop()
	stopReceivers(receivers)
	// Anything a tool forked and left behind would hold ports in the next run.
	if err := lab.KillProcesses(context.Background()); err != nil {
		return fail(err)
	}

	after, err := snapshot(context.Background(), lab)
	if err != nil {
		return fail(err)
	}
	res.WireTxBytes = after.senderTx - before.senderTx
	res.WireOverhead = float64(res.WireTxBytes) / float64(env.sc.fileBytes())
	res.FeedbackBytes = after.receiversTx - before.receiversTx
	res.GuardDrops = after.guard - before.guard
	res.SenderCPU, res.SenderRSSKiB = sender.usage()
	for _, p := range receivers {
		c, rss := p.usage()
		res.ReceiverCPUMax = max(res.ReceiverCPUMax, c)
		res.ReceiverRSSKiB = max(res.ReceiverRSSKiB, rss)
	}
	// A receiver that never completed counts until the wait gave up.
	last := start
	for _, t := range doneAt {
		if t.IsZero() {
			t = waitEnd
		}
		res.ReceiverSeconds = append(res.ReceiverSeconds, t.Sub(start).Seconds())
		if t.After(last) {
			last = t
		}
	}
	res.Seconds = last.Sub(start).Seconds()
	if waitErr != nil {
		return fail(waitErr)
	}
	if sender.err != nil {
		return fail(fmt.Errorf("sender: %v (see %s)", sender.err, sender.errPath))
	}
	if tool.blast {
		return blastOutcome(res, receivers)
	}
	for i, d := range dirs {
		if err := sameContent(env.src, outputPath(d, env.src)); err != nil {
			return fail(fmt.Errorf("receiver %d: %w", i+1, err))
		}
	}
	res.OK = true
	res.GoodputMbit = float64(env.sc.fileBytes()) * 8 / res.Seconds / 1e6
	return res
}

// waitReady waits until every receiver printed tool.readyLine, or sleeps
// receiverSettle for tools without one.
func waitReady(ctx context.Context, tool toolSpec, receivers []*proc) error {
	if tool.readyLine == "" {
		select {
		case <-time.After(receiverSettle):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	deadline := time.Now().Add(readyWaitLimit * time.Second)
	for _, p := range receivers {
		for !printed(p, tool.readyLine) {
			if p.exited() {
				return fmt.Errorf("%s exited before ready: %v (see %s)", p.role, p.err, p.errPath)
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("%s not ready after %ds", p.role, readyWaitLimit)
			}
			time.Sleep(pollEvery)
		}
	}
	return nil
}

func printed(p *proc, line string) bool {
	for _, path := range []string{p.outPath, p.errPath} {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), line) {
			return true
		}
	}
	return false
}

// waitComplete polls until the sender has exited and every receiver is
// complete: exited (raw, herald) or holding a file of the full size. It
// returns each receiver's completion time.
func waitComplete(ctx context.Context, tool toolSpec, env runEnv, sender *proc, receivers []*proc, dirs []string) ([]time.Time, error) {
	doneAt := make([]time.Time, len(receivers))
	want := env.sc.fileBytes()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		pending := 0
		for i, p := range receivers {
			if !doneAt[i].IsZero() {
				continue
			}
			switch {
			case p.exited():
				doneAt[i] = p.exitAt
			case !tool.blast && fileSize(outputPath(dirs[i], env.src)) == want:
				doneAt[i] = time.Now()
			default:
				pending++
			}
		}
		if pending == 0 && sender.exited() {
			for i, p := range receivers {
				if p.exited() && p.err != nil && (tool.blast || fileSize(outputPath(dirs[i], env.src)) != want) {
					return doneAt, fmt.Errorf("%s: %v (see %s)", p.role, p.err, p.errPath)
				}
			}
			return doneAt, nil
		}
		if sender.exited() && sender.err != nil {
			return doneAt, fmt.Errorf("sender: %v (see %s)", sender.err, sender.errPath)
		}
		select {
		case <-ctx.Done():
			return doneAt, fmt.Errorf("timeout after %v: %d receivers incomplete, sender exited=%v", env.sc.timeout(), pending, sender.exited())
		case <-tick.C:
		}
	}
}

// stopReceivers lets receivers exit by themselves for exitGrace, then stops
// the rest.
func stopReceivers(receivers []*proc) {
	grace, cancel := context.WithTimeout(context.Background(), exitGrace)
	defer cancel()
	for _, p := range receivers {
		select {
		case <-p.done:
		case <-grace.Done():
		}
	}
	for _, p := range receivers {
		p.stop()
	}
}

// blastReport is what `blast recv` prints.
type blastReport struct {
	Bytes     int64   `json:"bytes"`
	Datagrams int64   `json:"datagrams"`
	Expected  int64   `json:"expected"`
	Seconds   float64 `json:"seconds"`
	End       string  `json:"end"`
}

// blastOutcome: goodput is what the worst receiver got over the wall time.
func blastOutcome(res result, receivers []*proc) result {
	minBytes, minDelivered := int64(-1), 1.0
	for _, p := range receivers {
		rep, err := readBlastReport(p.outPath)
		if err != nil {
			res.Error = fmt.Sprintf("%s: %v", p.role, err)
			return res
		}
		if minBytes < 0 || rep.Bytes < minBytes {
			minBytes = rep.Bytes
		}
		if rep.Expected > 0 {
			minDelivered = min(minDelivered, float64(rep.Datagrams)/float64(rep.Expected))
		} else {
			minDelivered = 0
		}
	}
	res.OK = true
	res.Delivered = minDelivered
	if res.Seconds > 0 {
		res.GoodputMbit = float64(minBytes) * 8 / res.Seconds / 1e6
	}
	return res
}

func readBlastReport(path string) (blastReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return blastReport{}, err
	}
	defer f.Close()
	var rep blastReport
	sc := bufio.NewScanner(f)
	found := false
	for sc.Scan() {
		if json.Unmarshal(sc.Bytes(), &rep) == nil {
			found = true
		}
	}
	if !found {
		return rep, errors.New("no JSON report")
	}
	return rep, nil
}

// counters is a snapshot of the lab's byte and guard counters.
type counters struct {
	senderTx, receiversTx, guard uint64
}

func snapshot(ctx context.Context, lab *netlab.Lab) (counters, error) {
	var c counters
	for i, h := range lab.Hosts() {
		ifc, err := lab.Counters(ctx, h)
		if err != nil {
			return c, err
		}
		g, err := lab.GuardDrops(ctx, h)
		if err != nil {
			return c, err
		}
		c.guard += g
		if i == 0 {
			c.senderTx = ifc.TxBytes
		} else {
			c.receiversTx += ifc.TxBytes
		}
	}
	return c, nil
}
