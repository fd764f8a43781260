package main

// herald's targets (the benchmark's issue) and the checks of results
// against them.

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Targets of herald that the page checks (the benchmark's issue).
const (
	targetLossless      = 1.5  // goodput over udpcast and over uftp at 0 ‰
	targetOfCeiling     = 0.85 // fraction of the raw ceiling at 0 ‰
	targetOverUftpEnc   = 2.0  // goodput over uftp-enc at 50 ‰
	targetOverFECcast   = 2.5  // goodput over udpcast-fec at 50 ‰
	targetWireOverhead  = 1.15 // wire bytes / file bytes at 50 ‰
	targetReceiverScale = 1.15 // 10-receiver time over 1-receiver time at 50 ‰
	targetMaxRSSMiB     = 64   // sender and receivers, 2 GB file
	// Announcement latency to 10 listeners (the messaging issue): p50 and
	// p99 on an idle lab, p99 while a push saturates the link.
	latencyIdleP50Target = 1 * time.Millisecond
	latencyIdleP99Target = 5 * time.Millisecond
	latencyPushP99Target = 20 * time.Millisecond
)

// targetStatus is the verdict of one target.
type targetStatus string

const (
	targetMet         targetStatus = "met"
	targetNotMet      targetStatus = "**not met**"
	targetNotMeasured targetStatus = "not measured"
	// targetInformative: the figure is shown beside a target set for
	// other conditions (another link rate) and decides nothing.
	targetInformative targetStatus = "informative"
)

// targetRateMbit is the link rate the issues set herald's push targets
// at; scenarios at other rates are measured and shown, not judged.
const targetRateMbit = 1000

// targetCheck is one line of the Targets section.
type targetCheck struct {
	target, where, figure string
	status                targetStatus
}

func verdict(ok bool) targetStatus {
	if ok {
		return targetMet
	}
	return targetNotMet
}

// checkTargets evaluates herald's targets on every scenario that has the
// figures, and says which were not measured.
func checkTargets(set scenarioSet, latency []latencyResult) []targetCheck {
	var out []targetCheck
	atTargetRate := func(sc scenario) bool { return sc.RateMbit == targetRateMbit }
	lossless := func(sc scenario) bool {
		return atTargetRate(sc) && sc.Receivers == 3 && sc.LossPermille == 0 && !sc.Burst
	}
	lossy := func(sc scenario) bool {
		return atTargetRate(sc) && sc.Receivers == 3 && sc.LossPermille == 50 && !sc.Burst
	}
	out = append(out, goodputTargets(set, lossless, "0 ‰", []ratioTarget{
		{"udpcast", targetLossless}, {"uftp", targetLossless}})...)
	out = append(out, ceilingTargets(set, lossless)...)
	out = append(out, goodputTargets(set, lossy, "50 ‰", []ratioTarget{
		{"uftp-enc", targetOverUftpEnc}, {"udpcast-fec", targetOverFECcast}})...)
	out = append(out, wireTargets(set, lossy)...)
	out = append(out, scaleTargets(set)...)
	out = append(out, memoryTarget(set))
	out = append(out, latencyTargets(latency)...)
	return out
}

// ratioTarget: herald's goodput at least factor times tool's.
type ratioTarget struct {
	tool   string
	factor float64
}

func matching(set scenarioSet, want func(scenario) bool) []scenario {
	var out []scenario
	for _, sc := range set.order {
		if want(sc) && sc.FileMB < memoryFileMB {
			out = append(out, sc)
		}
	}
	return out
}

func goodputTargets(set scenarioSet, want func(scenario) bool, loss string, targets []ratioTarget) []targetCheck {
	var out []targetCheck
	scs := matching(set, want)
	for _, t := range targets {
		name := fmt.Sprintf("goodput ≥ %.1f× %s at %s", t.factor, t.tool, loss)
		if len(scs) == 0 {
			out = append(out, targetCheck{target: name, where: "3 rx, " + loss, status: targetNotMeasured})
		}
		for _, sc := range scs {
			out = append(out, goodputRatio(set, sc, name, t))
		}
	}
	return out
}

func goodputRatio(set scenarioSet, sc scenario, name string, t ratioTarget) targetCheck {
	c := targetCheck{target: name, where: sc.String()}
	h, other := set.group(sc, "herald"), set.group(sc, t.tool)
	if h == nil || len(h.runs) == 0 || other == nil || len(other.runs) == 0 {
		c.status, c.figure = targetNotMeasured, "herald or "+t.tool+" did not run"
		return c
	}
	goodput := func(r result) float64 { return r.GoodputMbit }
	hg, og := h.metric(goodput, true), other.metric(goodput, true)
	switch {
	case hg.failed():
		c.status, c.figure = targetNotMet, "herald failed"
	case og.failed():
		c.status, c.figure = targetMet, fmt.Sprintf("herald %.0f Mbit/s, %s failed", hg.med, t.tool)
	default:
		ratio := hg.med / og.med
		c.status = verdict(ratio >= t.factor)
		c.figure = fmt.Sprintf("%.2f× (herald %.0f / %s %.0f Mbit/s)", ratio, hg.med, t.tool, og.med)
	}
	return c
}

func ceilingTargets(set scenarioSet, want func(scenario) bool) []targetCheck {
	name := fmt.Sprintf("goodput ≥ %.0f %% of the raw ceiling at 0 ‰", 100*targetOfCeiling)
	scs := matching(set, want)
	if len(scs) == 0 {
		return []targetCheck{{target: name, where: "3 rx, 0 ‰", status: targetNotMeasured}}
	}
	var out []targetCheck
	for _, sc := range scs {
		c := targetCheck{target: name, where: sc.String()}
		h := set.group(sc, "herald")
		switch {
		case h == nil || len(h.runs) == 0 || !slices.ContainsFunc(h.runs, func(r pairedResult) bool { return r.CeilingMbit > 0 || !r.OK }):
			c.status, c.figure = targetNotMeasured, "no herald run with a ceiling"
		default:
			s := h.metric(func(r result) float64 { return r.OfCeiling }, true)
			if s.failed() {
				c.status, c.figure = targetNotMet, "herald failed"
			} else {
				c.status = verdict(s.med >= targetOfCeiling)
				c.figure = fmt.Sprintf("%.0f %%", 100*s.med)
			}
		}
		out = append(out, c)
	}
	return out
}

func wireTargets(set scenarioSet, want func(scenario) bool) []targetCheck {
	name := fmt.Sprintf("wire bytes ≤ %.2f× file at 50 ‰", targetWireOverhead)
	scs := matching(set, want)
	if len(scs) == 0 {
		return []targetCheck{{target: name, where: "3 rx, 50 ‰", status: targetNotMeasured}}
	}
	var out []targetCheck
	for _, sc := range scs {
		c := targetCheck{target: name, where: sc.String()}
		h := set.group(sc, "herald")
		switch {
		case h == nil || len(h.runs) == 0:
			c.status, c.figure = targetNotMeasured, "herald did not run"
		case len(h.ok()) == 0:
			c.status, c.figure = targetNotMet, "herald failed"
		default:
			s := h.resource(func(r result) float64 { return r.WireOverhead })
			c.status = verdict(s.med <= targetWireOverhead)
			c.figure = fmt.Sprintf("%.3f×", s.med)
		}
		out = append(out, c)
	}
	return out
}

// scaleTargets compares herald's 10-receiver time with its 1-receiver time
// in the same conditions.
func scaleTargets(set scenarioSet) []targetCheck {
	name := fmt.Sprintf("10 receivers at 50 ‰ take ≤ %.2f× the 1-receiver time", targetReceiverScale)
	var out []targetCheck
	for _, ten := range matching(set, func(sc scenario) bool { return sc.Receivers == 10 && sc.LossPermille == 50 && !sc.Burst }) {
		one := ten
		one.Receivers = 1
		c := targetCheck{target: name, where: fmt.Sprintf("%d Mbit, %d MB", ten.RateMbit, ten.FileMB)}
		h10, h1 := set.group(ten, "herald"), set.group(one, "herald")
		if h10 == nil || h1 == nil || len(h10.runs) == 0 || len(h1.runs) == 0 {
			c.status, c.figure = targetNotMeasured, "needs herald at 1 and 10 receivers"
			out = append(out, c)
			continue
		}
		seconds := func(r result) float64 { return r.Seconds }
		s10, s1 := h10.metric(seconds, false), h1.metric(seconds, false)
		if s10.failed() || s1.failed() {
			c.status, c.figure = targetNotMet, "herald failed"
		} else {
			ratio := s10.med / s1.med
			c.status = verdict(ratio <= targetReceiverScale)
			c.figure = fmt.Sprintf("%.2f× (%.2f s / %.2f s)", ratio, s10.med, s1.med)
			if c10, c1 := bestCeiling(h10), bestCeiling(h1); c10 > 0 && c1 > 0 {
				// On a small machine the lab itself slows with more receivers.
				c.figure += fmt.Sprintf("; raw ceiling %.0f → %.0f Mbit/s in the same lab", c1, c10)
			}
			if ten.RateMbit != targetRateMbit {
				c.figure += fmt.Sprintf(" (%s at %d Mbit; the target is set at %d Mbit)",
					strings.Trim(string(c.status), "*"), ten.RateMbit, targetRateMbit)
				c.status = targetInformative
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		out = append(out, targetCheck{target: name, where: "1 and 10 rx, 50 ‰", status: targetNotMeasured,
			figure: "not in this run (full mode has both)"})
	}
	return out
}

// bestCeiling is the raw ceiling recorded beside a group's runs, 0 when none.
func bestCeiling(g *group) float64 {
	var best float64
	for _, r := range g.runs {
		best = max(best, r.CeilingMbit)
	}
	return best
}

// memoryTarget checks herald's peak RSS over every run with the memory
// mode's file; smaller runs are quoted but decide nothing.
func memoryTarget(set scenarioSet) targetCheck {
	name := fmt.Sprintf("max RSS < %d MiB, sender and receivers, 2 GB file", targetMaxRSSMiB)
	var bigMiB, smallMiB float64
	bigFile, smallFile, failed := 0, 0, 0
	for _, sc := range set.order {
		h := set.group(sc, "herald")
		if h == nil || len(h.runs) == 0 {
			continue
		}
		peak := h.maxOf(func(r result) float64 { return float64(max(r.SenderRSSKiB, r.ReceiverRSSKiB)) / 1024 })
		if sc.FileMB >= memoryFileMB {
			bigMiB, bigFile = max(bigMiB, peak), max(bigFile, sc.FileMB)
			failed += len(h.runs) - len(h.ok())
		} else if peak > smallMiB {
			smallMiB, smallFile = peak, sc.FileMB
		}
	}
	c := targetCheck{target: name, where: fmt.Sprintf("herald, %d MB file", bigFile)}
	switch {
	case bigFile == 0 && smallFile == 0:
		c.where, c.status = "herald, 2 GB file", targetNotMeasured
	case bigFile == 0:
		c.where, c.status = "herald, 2 GB file", targetNotMeasured
		c.figure = fmt.Sprintf("needs -mode memory; %.1f MiB with %d MB", smallMiB, smallFile)
	default:
		c.status = verdict(bigMiB < targetMaxRSSMiB)
		c.figure = fmt.Sprintf("%.1f MiB", bigMiB)
		if failed > 0 {
			c.figure += fmt.Sprintf(" (%d failed runs)", failed)
		}
	}
	return c
}
