package main

// Judging the latency results: their Markdown table and the checks
// against the latency targets.

import (
	"fmt"
	"math"
	"strings"
	"time"
)

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
