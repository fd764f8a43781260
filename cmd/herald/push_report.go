package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/internal/termui"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// showWaiting says what the push waits for and what --wait does; the
// engine then says every few seconds who is still missing
// (push.EventWaiting).
func showWaiting(events *eventPrinter, cfg push.SendConfig, wait time.Duration) {
	want := max(len(cfg.Recipients), cfg.MinReceivers)
	if want == 0 {
		events.note(fmt.Sprintf("waiting up to %v (--wait) for receivers to join", wait))
		return
	}
	events.note(fmt.Sprintf("waiting up to %v (--wait) for %d receiver(s); then the push starts with those that joined", wait, want))
}

// pushSummary is what the end of a push reports.
type pushSummary struct {
	r           *push.Report
	sent        int64         // content bytes sent at least once
	dataElapsed time.Duration // the data phase, from the first data to the end
	waited      time.Duration // before it: hashing, receivers registering
	interrupted bool
	refused     bool // every receiver that answered refused
}

func summarise(r *push.Report, err error, interrupted bool) pushSummary {
	return pushSummary{r: r, sent: r.Sent, dataElapsed: r.Elapsed, waited: r.Waited, interrupted: interrupted,
		refused: errors.Is(err, push.ErrRefusedByAll)}
}

// rate is the data phase's goodput in bit/s.
func (s pushSummary) rate() float64 {
	if s.dataElapsed <= 0 {
		return 0
	}
	return float64(s.sent) * 8 / s.dataElapsed.Seconds()
}

// pushOutcome prints the report and maps how the push ended to the
// documented exit code.
func pushOutcome(c *cli.Context, n *node.Node, o pushOptions, events *eventPrinter, r *push.Report, err error) error {
	interrupted := c.Context.Err() != nil && errors.Is(err, context.Canceled)
	if r != nil {
		s := summarise(r, err, interrupted)
		recordPushSent(n, c.App.ErrWriter, r, s.outcome(err))
		if o.JSON {
			printReportJSON(events.out, s, err)
		} else {
			printReport(events.out, s)
		}
	}
	switch {
	case interrupted:
		pct := int64(0)
		if r != nil && r.Bytes > 0 {
			pct = r.Sent * 100 / r.Bytes
		}
		return withExit(exitInterrupted, fmt.Errorf("interrupted: %d %% sent; push again to resume", pct))
	case errors.Is(err, push.ErrRefusedByAll):
		reasons := "no reason given"
		if r != nil {
			reasons = refusalReasons(r)
		}
		return withExit(exitRefused, fmt.Errorf("refused by every receiver that answered (%s)", reasons))
	case errors.Is(err, push.ErrNoReceivers):
		return withExit(exitTimeout, err)
	case err != nil:
		return err
	case !r.OK():
		return withExit(exitPartial, fmt.Errorf("%d of %d expected receivers completed", r.Completed, max(r.Expected, 1)))
	}
	return nil
}

// refusalReasons lists the distinct reasons receivers gave.
func refusalReasons(r *push.Report) string {
	var reasons []string
	for _, rr := range r.Receivers {
		if rr.Status == "refused" && rr.Reason != "" && !slices.Contains(reasons, rr.Reason) {
			reasons = append(reasons, rr.Reason)
		}
	}
	if len(reasons) == 0 {
		return "no reason given"
	}
	return strings.Join(reasons, "; ")
}

// printReport prints the per-receiver table and a summary line.
func printReport(out io.Writer, s pushSummary) {
	r := s.r
	if len(r.Receivers) == 0 {
		fmt.Fprintf(out, "nothing sent of %s: no receiver joined in %v\n", termui.HumanBytes(r.Bytes), s.waited.Round(10*time.Millisecond))
		return
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RECEIVER\tFINGERPRINT\tSTATUS\tTIME\tLOSS")
	for _, rr := range r.Receivers {
		status := rr.Status
		if rr.Status == "partial" {
			status = fmt.Sprintf("partial %.0f%%", rr.Percent)
		}
		if rr.Reason != "" {
			status += " (" + rr.Reason + ")"
		}
		if rr.Path == "unicast" {
			status += " by unicast" // it does not hear multicast (SPEC §6.11)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.1f%%\n", termui.OrDash(safeName(rr.Name)), rr.Fingerprint, safeLine(status), receiverTime(rr), rr.Loss*100)
	}
	w.Flush()
	var b strings.Builder
	switch {
	case s.sent == 0:
		fmt.Fprintf(&b, "nothing sent of %s", termui.HumanBytes(r.Bytes))
	case s.sent < r.Bytes:
		fmt.Fprintf(&b, "%s of %s sent in %v (%s)", termui.HumanBytes(s.sent), termui.HumanBytes(r.Bytes), s.dataElapsed.Round(10*time.Millisecond), termui.HumanRate(s.rate()))
	default:
		fmt.Fprintf(&b, "%s in %v (%s)", termui.HumanBytes(r.Bytes), s.dataElapsed.Round(10*time.Millisecond), termui.HumanRate(s.rate()))
	}
	if s.waited > 0 {
		fmt.Fprintf(&b, " after %v waiting for receivers", s.waited.Round(10*time.Millisecond))
	}
	switch {
	case s.refused:
		fmt.Fprintf(&b, ", refused by every receiver (%d)", len(r.Receivers))
	case r.Expected > 0:
		fmt.Fprintf(&b, ", %d of %d expected receivers complete", r.Completed, r.Expected)
	default:
		fmt.Fprintf(&b, ", %d of %d receivers complete", r.Completed, len(r.Receivers))
	}
	if s.sent > 0 {
		fmt.Fprintf(&b, ", wire %.2fx, %d repair shards", float64(r.WireBytes)/float64(s.sent), r.Repair)
	}
	if s.interrupted {
		b.WriteString(", interrupted")
	}
	fmt.Fprintln(out, b.String())
}

// receiverTime is how long the receiver took once the data started.
func receiverTime(rr push.ReceiverReport) string {
	if rr.Elapsed <= 0 {
		return "-"
	}
	return rr.Elapsed.Round(10 * time.Millisecond).String()
}

// receiverJSON is one receiver of `herald push --json`'s final report.
type receiverJSON struct {
	Event       string  `json:"event"`
	Time        string  `json:"time"`
	Session     string  `json:"session"`
	Name        string  `json:"name"`
	Fingerprint string  `json:"fingerprint"`
	Status      string  `json:"status"`
	Percent     float64 `json:"percent"`
	Seconds     float64 `json:"seconds"`
	Loss        float64 `json:"loss"`
	Reason      string  `json:"reason"`
	Path        string  `json:"path"` // "multicast", or "unicast" (SPEC §6.11)
}

// reportJSON is the last line of `herald push --json`.
type reportJSON struct {
	Event       string  `json:"event"`
	Time        string  `json:"time"`
	Session     string  `json:"session"`
	Outcome     string  `json:"outcome"`
	Bytes       int64   `json:"bytes"`
	SentBytes   int64   `json:"sent_bytes"`
	Seconds     float64 `json:"seconds"`
	DataSeconds float64 `json:"data_seconds"`
	RateBps     float64 `json:"rate_bps"`
	WireBytes   int64   `json:"wire_bytes"`
	Repair      int64   `json:"repair_shards"`
	Expected    int     `json:"expected"`
	Completed   int     `json:"completed"`
	OK          bool    `json:"ok"`
}

// outcome names how a push ended, for scripts (docs/json.md).
func (s pushSummary) outcome(err error) string {
	switch {
	case s.interrupted:
		return "interrupted"
	case s.refused:
		return "refused"
	case errors.Is(err, push.ErrNoReceivers):
		return "no receivers"
	case err != nil:
		return "failed"
	case !s.r.OK():
		return "partial"
	}
	return "complete"
}

func printReportJSON(out io.Writer, s pushSummary, err error) {
	r := s.r
	now := jsonTime(time.Now())
	for _, rr := range r.Receivers {
		writeJSON(out, receiverJSON{Event: "receiver", Time: now, Session: r.Session, Name: rr.Name, Fingerprint: rr.Fingerprint,
			Status: rr.Status, Percent: rr.Percent, Seconds: rr.Elapsed.Seconds(), Loss: rr.Loss, Reason: rr.Reason, Path: rr.Path})
	}
	writeJSON(out, reportJSON{Event: "report", Time: now, Session: r.Session, Outcome: s.outcome(err), Bytes: r.Bytes, SentBytes: s.sent,
		Seconds: (r.Waited + r.Elapsed).Seconds(), DataSeconds: s.dataElapsed.Seconds(), RateBps: s.rate(), WireBytes: r.WireBytes,
		Repair: r.Repair, Expected: r.Expected, Completed: r.Completed, OK: err == nil && r.OK()})
}
