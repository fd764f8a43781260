package main

// Statistics over results: medians and spreads per scenario and tool, and
// ratios against herald.

import (
	"fmt"
	"math"
	"slices"
)

// stat is the median, min and max of one figure over repeats. A failed
// repeat counts as the worst possible value (+Inf for times, -Inf for
// rates), so failures can only make a figure look worse.
type stat struct {
	med, lo, hi float64
	n           int
}

// summarize returns the stat of values, with failed failed runs added as
// the worst value.
func summarize(values []float64, failed int, higherIsBetter bool) stat {
	worst := math.Inf(1)
	if higherIsBetter {
		worst = math.Inf(-1)
	}
	all := slices.Clone(values)
	for range failed {
		all = append(all, worst)
	}
	if len(all) == 0 {
		return stat{}
	}
	slices.Sort(all)
	n := len(all)
	med := all[n/2]
	if n%2 == 0 {
		low, high := all[n/2-1], all[n/2]
		switch {
		case math.IsInf(low, 0) || math.IsInf(high, 0):
			// Between a failure and a figure, the failure: never flatter.
			med = high
			if higherIsBetter {
				med = low
			}
		default:
			med = (low + high) / 2
		}
	}
	return stat{med: med, lo: all[0], hi: all[n-1], n: n}
}

func (s stat) failed() bool { return s.n > 0 && math.IsInf(s.med, 0) }

// format renders "median (min–max)", or one value for one repeat; failed
// repeats read "failed", and no data "–".
func (s stat) format(verb string) string {
	if s.n == 0 {
		return "–"
	}
	one := func(v float64) string {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "failed"
		}
		return fmt.Sprintf(verb, v)
	}
	if s.lo == s.hi {
		return one(s.med)
	}
	return fmt.Sprintf("%s (%s–%s)", one(s.med), one(s.lo), one(s.hi))
}

// group is every repeat of one tool in one scenario, over all files read.
type group struct {
	sc      scenario
	tool    string
	runs    []pairedResult
	skipped string
}

// pairedResult is a result with the key that pairs it with herald's run
// of the same repeat in the same file.
type pairedResult struct {
	result
	key string
}

func (g *group) ok() []result {
	var out []result
	for _, r := range g.runs {
		if r.OK {
			out = append(out, r.result)
		}
	}
	return out
}

// metric summarizes one figure over the group: fig of each successful
// repeat, failures as the worst value.
func (g *group) metric(fig func(result) float64, higherIsBetter bool) stat {
	ok := g.ok()
	values := make([]float64, len(ok))
	for i, r := range ok {
		values[i] = fig(r)
	}
	return summarize(values, len(g.runs)-len(ok), higherIsBetter)
}

// resource summarizes a figure that only successful runs measure fully
// (bytes, CPU, RSS): failed runs are left out rather than ranked.
func (g *group) resource(fig func(result) float64) stat {
	var values []float64
	for _, r := range g.ok() {
		values = append(values, fig(r))
	}
	return summarize(values, 0, false)
}

// maxOf is the largest value of fig over every run, failed ones included
// (a failed run's peak memory is still a peak).
func (g *group) maxOf(fig func(result) float64) float64 {
	m := 0.0
	for _, r := range g.runs {
		m = max(m, fig(r.result))
	}
	return m
}

// ratioToHerald pairs each repeat of g with herald's same repeat: tool
// seconds / herald seconds (>1: herald is faster). Pairs where herald
// failed are left out; ok is false when none is left.
func ratioToHerald(g, herald *group) (stat, bool) {
	if herald == nil {
		return stat{}, false
	}
	heraldAt := map[string]result{}
	for _, r := range herald.runs {
		heraldAt[r.key] = r.result
	}
	var values []float64
	failed := 0
	for _, r := range g.runs {
		h, ok := heraldAt[r.key]
		if !ok || !h.OK || h.Seconds <= 0 {
			continue
		}
		if !r.OK {
			failed++
			continue
		}
		values = append(values, r.Seconds/h.Seconds)
	}
	if len(values)+failed == 0 {
		return stat{}, false
	}
	return summarize(values, failed, false), true
}

// scenarioSet holds the groups of every scenario in first-seen order.
type scenarioSet struct {
	order    []scenario
	groups   map[scenario][]*group // tools in first-seen order
	ceilings map[scenario][]result
}

func collect(runs []runRecord) scenarioSet {
	set := scenarioSet{groups: map[scenario][]*group{}, ceilings: map[scenario][]result{}}
	for fi, rec := range runs {
		for _, r := range rec.results {
			sc := r.Scenario
			if _, seen := set.groups[sc]; !seen {
				set.order = append(set.order, sc)
				set.groups[sc] = nil
			}
			if r.Tool == ceilingTool {
				set.ceilings[sc] = append(set.ceilings[sc], r)
				continue
			}
			g := set.group(sc, r.Tool)
			if g == nil {
				g = &group{sc: sc, tool: r.Tool}
				set.groups[sc] = append(set.groups[sc], g)
			}
			if r.Skipped != "" {
				g.skipped = r.Skipped
				continue
			}
			g.runs = append(g.runs, pairedResult{result: r, key: fmt.Sprintf("%d/%d", fi, r.Repeat)})
		}
	}
	return set
}

// group returns tool's group in sc, or nil.
func (set scenarioSet) group(sc scenario, tool string) *group {
	for _, g := range set.groups[sc] {
		if g.tool == tool {
			return g
		}
	}
	return nil
}
