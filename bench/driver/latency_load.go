package main

// The push that loads the link during a latency series' push phase.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

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
