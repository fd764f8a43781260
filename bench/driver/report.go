package main

// The report: the results .jsonl (one header line, then one line per run),
// the per-run .md, and bench/RESULTS.md with its Targets section.

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// ceilingTool names the result lines that hold a scenario's ceiling.
const ceilingTool = "ceiling"

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

// maxResultLine bounds one line of a results file: a result is a few
// hundred bytes; a longer line is not ours.
const maxResultLine = 1 << 20

// writeJSONLine appends v to w as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// runHeader is the first line of a results file: what produced it.
type runHeader struct {
	Time     string            `json:"time"`
	Mode     string            `json:"mode"`
	Command  string            `json:"command,omitempty"`
	Commit   string            `json:"commit,omitempty"`
	Machine  *machine          `json:"machine,omitempty"`
	Versions map[string]string `json:"versions"`
}

// machine is the hardware the figures come from.
type machine struct {
	Cores    int    `json:"cores"`
	CPU      string `json:"cpu"`
	Kernel   string `json:"kernel"`
	MemoryMB int64  `json:"memory_mb,omitempty"`
}

func currentMachine() *machine {
	m := &machine{Cores: runtime.NumCPU(), CPU: "unknown", Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = procField(string(b), "model name")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(procField(string(b), "MemTotal"), "%d kB", &kib); err == nil {
			m.MemoryMB = kib / 1024
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	return m
}

// procField returns the value of the first "key : value" line of a /proc
// file, or "unknown".
func procField(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// reproduceCommand is the command line that repeats this run.
func reproduceCommand(args []string) string {
	parts := []string{"go", "run", "./bench/driver"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// repoCommit is the checked-out commit, with "+changes" when the tree
// differs from it; empty outside a git checkout.
func repoCommit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(out))
	if status, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(status) > 0 {
		commit += "+changes"
	}
	return commit
}

// heraldVersion is `herald version` on one line.
func heraldVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// runRecord is one results file: its header and every line after it.
type runRecord struct {
	path    string
	header  runHeader
	results []result // ceilings and tool runs
	latency []latencyResult
}

// readRun reads a results .jsonl.
func readRun(path string) (runRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return runRecord{}, err
	}
	defer f.Close()
	rec := runRecord{path: path}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), maxResultLine)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var kind struct {
			Kind     string          `json:"kind"`
			Versions json.RawMessage `json:"versions"`
		}
		if err := json.Unmarshal(b, &kind); err != nil {
			return rec, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		switch {
		case line == 1 && kind.Versions != nil:
			err = json.Unmarshal(b, &rec.header)
		case line == 1:
			err = errors.New("no header line (time, mode, versions)")
		case kind.Kind == latencyKind:
			var l latencyResult
			err = json.Unmarshal(b, &l)
			rec.latency = append(rec.latency, l)
		default:
			var r result
			err = json.Unmarshal(b, &r)
			rec.results = append(rec.results, r)
		}
		if err != nil {
			return rec, fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	return rec, sc.Err()
}

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

// pageOptions shapes resultsPage.
type pageOptions struct {
	// charts are image paths, relative to the page, shown first.
	charts []string
	// regenerate is the command that rewrites the page from its files.
	regenerate string
	notes      []string
}

// resultsPage renders the Markdown page for runs: what ran where, one table
// per scenario, latency, then the Targets.
func resultsPage(runs []runRecord, o pageOptions) string {
	var b strings.Builder
	b.WriteString("# herald benchmark results\n\n")
	if anyQuick(runs) {
		fmt.Fprintf(&b, "> **%s.** The figures below vary by ±30 %% between runs on this shared machine; quote only a full run (`-mode full`, 3 repeats).\n\n", quickNote)
	}
	for _, c := range o.charts {
		fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(filepath.Base(c), ".svg"), c)
	}
	writeRunInfo(&b, runs, o)
	set := collect(runs)
	for _, sc := range set.order {
		writeScenario(&b, set, sc)
	}
	var latency []latencyResult
	for _, rec := range runs {
		latency = append(latency, rec.latency...)
	}
	if len(latency) > 0 {
		writeLatency(&b, latency)
	}
	writeTargets(&b, checkTargets(set, latency))
	writeFailures(&b, set, latency)
	b.WriteString(readingNotes)
	if len(o.notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range o.notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

// quickNote marks pages and charts whose matrix was a quick run.
const quickNote = "Quick run (1 repeat, 50 MB), not the full matrix"

func anyQuick(runs []runRecord) bool {
	return slices.ContainsFunc(runs, func(r runRecord) bool { return r.header.Mode == "quick" })
}

// readingNotes explains the tables once.
const readingNotes = `
## How to read the tables

Each cell is the median over the repeats, with min–max in brackets when the
repeats differ. A failed repeat (timeout, missing or differing file) counts as
the worst value: infinitely slow, zero goodput; it shows as "failed" and can
never make a tool look fast. Seconds run from the sender's start until every
receiver holds the complete, verified file, set-up included. Goodput is file
bits over those seconds; "of ceiling" divides by the best raw blast without
loss in the same lab. "× herald" is the tool's seconds over herald's in the
same repeat: above 1, herald was faster. Wire / file is the sender's eth0
bytes (headers, repairs, control) over the file size. CPU is user+system
seconds; RSS is GNU time's maximum resident set, the receiver columns the
largest of all receivers. Wire, CPU and RSS come from successful repeats only.
`

func writeRunInfo(b *strings.Builder, runs []runRecord, o pageOptions) {
	var shown *runHeader // the last header whose machine and versions were listed
	for _, rec := range runs {
		h := rec.header
		fmt.Fprintf(b, "## Run %s (%s mode)\n\n", h.Time, h.Mode)
		fmt.Fprintf(b, "- Date: %s\n", runDate(h.Time))
		if h.Commit != "" {
			fmt.Fprintf(b, "- herald commit: %s\n", h.Commit)
		}
		fmt.Fprintf(b, "- Results: `%s`\n", filepath.ToSlash(rec.path))
		if shown != nil && sameSetup(*shown, h) {
			b.WriteString("- Machine and versions: as above\n")
		} else {
			writeSetup(b, h)
			shown = &rec.header
		}
		command := h.Command
		if command == "" {
			command = reproduceCommand([]string{"-mode", h.Mode})
		}
		fmt.Fprintf(b, "\nReproduce (as root, from the repository root, after `bash bench/setup.sh`):\n\n    %s\n\n", command)
	}
	if o.regenerate != "" {
		fmt.Fprintf(b, "This page and its charts were generated by the command below from raw results (one JSON object "+
			"a line); a run writes them to bench/out/, which git ignores, and those behind this page are kept in "+
			"bench/results/:\n\n    %s\n\n", o.regenerate)
	}
}

// sameSetup reports whether two runs had the same machine and versions.
func sameSetup(a, b runHeader) bool {
	sameMachine := a.Machine == nil && b.Machine == nil || a.Machine != nil && b.Machine != nil && *a.Machine == *b.Machine
	return sameMachine && maps.Equal(a.Versions, b.Versions)
}

// writeSetup lists a run's machine and tool versions.
func writeSetup(b *strings.Builder, h runHeader) {
	if m := h.Machine; m != nil {
		fmt.Fprintf(b, "- Machine: %d cores, %s, kernel %s", m.Cores, m.CPU, m.Kernel)
		if m.MemoryMB > 0 {
			fmt.Fprintf(b, ", %d MiB RAM", m.MemoryMB)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("- Machine: not recorded in the results file\n")
	}
	b.WriteString("- Versions:\n\n  | tool | version |\n  |---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(h.Versions)) {
		fmt.Fprintf(b, "  | %s | %s |\n", k, h.Versions[k])
	}
}

// runDate turns a 20060102T150405Z stamp into a readable date.
func runDate(stamp string) string {
	t, err := time.Parse("20060102T150405Z", stamp)
	if err != nil {
		return stamp
	}
	return t.Format("2006-01-02 15:04:05 UTC")
}

// Table verbs of the figures.
const (
	verbSeconds = "%.2f"
	verbMbit    = "%.0f"
	verbPercent = "%.0f%%"
	verbRatio   = "%.2f"
	verbWire    = "%.3f"
	verbCPU     = "%.2f"
	verbMiB     = "%.1f"
)

func writeScenario(b *strings.Builder, set scenarioSet, sc scenario) {
	fmt.Fprintf(b, "## %s\n\n", sc)
	if cs := set.ceilings[sc]; len(cs) > 0 {
		var values []float64
		failed := 0
		for _, c := range cs {
			if c.OK {
				values = append(values, c.GoodputMbit)
			} else {
				failed++
			}
		}
		fmt.Fprintf(b, "Raw ceiling (best of %d blasts without loss): %s Mbit/s.\n\n", ceilingRuns, summarize(values, failed, true).format(verbMbit))
	}
	b.WriteString("| tool | ok | seconds | goodput Mbit/s | of ceiling | × herald | wire / file | sender CPU s | receiver CPU s | sender RSS MiB | receiver RSS MiB |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	herald := set.group(sc, "herald")
	if herald != nil && len(herald.runs) == 0 {
		herald = nil
	}
	for _, g := range set.groups[sc] {
		if g.skipped != "" && len(g.runs) == 0 {
			fmt.Fprintf(b, "| %s | skipped | | | | | | | | | |\n", g.tool)
			continue
		}
		ok := len(g.ok())
		tool := g.tool
		if g.tool == "raw" {
			tool = "raw (" + g.resource(func(r result) float64 { return 100 * r.Delivered }).format("%.1f%%") + " delivered)"
		}
		ofCeiling := "–"
		if slices.ContainsFunc(g.runs, func(r pairedResult) bool { return r.CeilingMbit > 0 }) {
			ofCeiling = g.metric(func(r result) float64 { return 100 * r.OfCeiling }, true).format(verbPercent)
		}
		ratio := "–"
		if s, ok := ratioToHerald(g, herald); ok {
			ratio = s.format(verbRatio)
		} else if herald != nil && g != herald {
			ratio = "herald failed"
		}
		fmt.Fprintf(b, "| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", tool, ok, len(g.runs),
			g.metric(func(r result) float64 { return r.Seconds }, false).format(verbSeconds),
			g.metric(func(r result) float64 { return r.GoodputMbit }, true).format(verbMbit),
			ofCeiling, ratio,
			g.resource(func(r result) float64 { return r.WireOverhead }).format(verbWire),
			g.resource(func(r result) float64 { return r.SenderCPU }).format(verbCPU),
			g.resource(func(r result) float64 { return r.ReceiverCPUMax }).format(verbCPU),
			g.resource(func(r result) float64 { return float64(r.SenderRSSKiB) / 1024 }).format(verbMiB),
			g.resource(func(r result) float64 { return float64(r.ReceiverRSSKiB) / 1024 }).format(verbMiB))
	}
	b.WriteString("\n")
}

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

func writeTargets(b *strings.Builder, checks []targetCheck) {
	b.WriteString("## Targets\n\n| target | where | figure | status |\n|---|---|---|---|\n")
	for _, c := range checks {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", c.target, c.where, cmp.Or(c.figure, "–"), c.status)
	}
	b.WriteString("\nRatios compare medians; a failed repeat counts as the slowest. " +
		"Latency targets are the messaging issue's: idle p50 < 1 ms and p99 < 5 ms, p99 < 20 ms during a push. " +
		"Push targets are set at 1000 Mbit; other rates are shown as informative.\n\n")
}

func writeFailures(b *strings.Builder, set scenarioSet, latency []latencyResult) {
	var lines []string
	for _, sc := range set.order {
		for _, c := range set.ceilings[sc] {
			if !c.OK {
				lines = append(lines, fmt.Sprintf("- %s / ceiling: %s", sc, c.Error))
			}
		}
		for _, g := range set.groups[sc] {
			var guard uint64
			for _, r := range g.runs {
				guard += r.GuardDrops
				if !r.OK {
					lines = append(lines, fmt.Sprintf("- %s / %s #%d: %s", sc, g.tool, r.Repeat, r.Error))
				}
			}
			if g.skipped != "" {
				lines = append(lines, fmt.Sprintf("- %s / %s skipped: %s", sc, g.tool, g.skipped))
			}
			if guard > 0 {
				lines = append(lines, fmt.Sprintf("- %s / %s: the output guard dropped %d packets to foreign addresses", sc, g.tool, guard))
			}
		}
	}
	for _, l := range latency {
		if l.Error != "" {
			lines = append(lines, fmt.Sprintf("- latency %s/%s: %s", l.Method, l.Phase, l.Error))
		}
	}
	if len(lines) > 0 {
		b.WriteString("## Failures\n\n" + strings.Join(lines, "\n") + "\n\n")
	}
}

// Chart and page file names, in the page directory.
const (
	defaultPageDir    = "bench"
	pageFile          = "RESULTS.md"
	goodputChartFile  = "goodput-vs-loss.svg"
	receiverChartFile = "time-vs-receivers.svg"
)

// writeResultsPage reads results files and writes RESULTS.md and the
// charts into dir.
func writeResultsPage(paths []string, dir string) error {
	var runs []runRecord
	for _, p := range paths {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		rec, err := readRun(p)
		if err != nil {
			return err
		}
		runs = append(runs, rec)
	}
	if len(runs) == 0 {
		return errors.New("-results: no files")
	}
	set := collect(runs)
	note := ""
	if anyQuick(runs) {
		note = quickNote
	}
	charts := []struct {
		file string
		svg  string
	}{
		{goodputChartFile, goodputChart(set, note)},
		{receiverChartFile, receiversChart(set, note)},
	}
	var names []string
	for _, c := range charts {
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(c.svg), 0o644); err != nil {
			return err
		}
		names = append(names, c.file)
	}
	var cleaned []string
	for _, r := range runs {
		cleaned = append(cleaned, filepath.ToSlash(r.path))
	}
	args := []string{"-results", strings.Join(cleaned, ",")}
	if dir != defaultPageDir {
		args = append(args, "-page", filepath.ToSlash(dir))
	}
	page := resultsPage(runs, pageOptions{charts: names, regenerate: reproduceCommand(args)})
	if err := os.WriteFile(filepath.Join(dir, pageFile), []byte(page), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %v in %s\n", pageFile, names, dir)
	return nil
}
