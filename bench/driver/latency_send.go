package main

// The senders of a latency series (announce, chat, raw datagrams) and the
// matching of what each listener logged to what was sent.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

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
