package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// jsonLines appends results to w, one object a line.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// summary groups repeats of one tool in one scenario.
type summary struct {
	sc                                    scenario
	tool                                  string
	runs, ok                              int
	skipped                               string
	seconds, goodput, ofCeiling, overhead float64
	senderCPU, recvCPU                    float64
	senderRSS, recvRSS                    int64
	delivered                             float64
	guard                                 uint64
	errors                                []string
}

// markdown renders a table of means over the successful repeats.
func markdown(results []result, notes []string) string {
	var order []string
	groups := map[string]*summary{}
	for _, r := range results {
		key := r.Scenario.String() + "|" + r.Tool
		s, ok := groups[key]
		if !ok {
			s = &summary{sc: r.Scenario, tool: r.Tool}
			groups[key] = s
			order = append(order, key)
		}
		if r.Skipped != "" {
			s.skipped = r.Skipped
			continue
		}
		s.runs++
		s.guard += r.GuardDrops
		if !r.OK {
			s.errors = append(s.errors, r.Error)
			continue
		}
		s.ok++
		s.seconds += r.Seconds
		s.goodput += r.GoodputMbit
		s.ofCeiling += r.OfCeiling
		s.overhead += r.WireOverhead
		s.senderCPU += r.SenderCPU
		s.recvCPU += r.ReceiverCPUMax
		s.senderRSS = max(s.senderRSS, r.SenderRSSKiB)
		s.recvRSS = max(s.recvRSS, r.ReceiverRSSKiB)
		s.delivered += r.Delivered
	}
	var b strings.Builder
	b.WriteString("| scenario | tool | ok | seconds | goodput Mbit/s | of ceiling | wire / file | sender CPU s | receiver CPU s (max) | sender RSS MiB | receiver RSS MiB (max) |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, key := range order {
		s := groups[key]
		if s.skipped != "" {
			fmt.Fprintf(&b, "| %s | %s | skipped | | | | | | | | |\n", s.sc, s.tool)
			continue
		}
		if s.ok == 0 {
			fmt.Fprintf(&b, "| %s | %s | 0/%d | | | | | | | | |\n", s.sc, s.tool, s.runs)
			continue
		}
		n := float64(s.ok)
		tool := s.tool
		if s.tool == "raw" {
			tool = fmt.Sprintf("raw (%.1f%% delivered)", 100*s.delivered/n)
		}
		fmt.Fprintf(&b, "| %s | %s | %d/%d | %.2f | %.0f | %.0f%% | %.3f | %.2f | %.2f | %.1f | %.1f |\n",
			s.sc, tool, s.ok, s.runs, s.seconds/n, s.goodput/n, 100*s.ofCeiling/n, s.overhead/n,
			s.senderCPU/n, s.recvCPU/n, float64(s.senderRSS)/1024, float64(s.recvRSS)/1024)
	}
	var failures []string
	for _, key := range order {
		s := groups[key]
		for _, e := range s.errors {
			failures = append(failures, fmt.Sprintf("- %s / %s: %s", s.sc, s.tool, e))
		}
		if s.guard > 0 {
			failures = append(failures, fmt.Sprintf("- %s / %s: the output guard dropped %d packets to foreign addresses", s.sc, s.tool, s.guard))
		}
	}
	if len(failures) > 0 {
		b.WriteString("\nFailures:\n" + strings.Join(failures, "\n") + "\n")
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}
