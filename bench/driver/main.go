// Command driver runs the side-by-side multicast file transfer benchmark in
// network namespace labs (internal/netlab): a raw blaster for the ceiling,
// udpcast (plain and FEC), uftp (plain and encrypted) and herald once it can
// push. Run it as root from the repository root:
//
//	go run ./bench/driver                 # quick: 3 receivers, 0 and 50 ‰, 1000 Mbit, 50 MB
//	go run ./bench/driver -mode full      # the full matrix (200 MB, 3 repeats), memory, latency
//	go run ./bench/driver -mode matrix    # the full matrix alone, e.g. -rates 100 -file-mb 100
//	go run ./bench/driver -mode memory    # herald alone with a 2 GB file: max RSS
//	go run ./bench/driver -latency        # announcement latency, idle and during a push
//	go run ./bench/driver -tools raw,uftp # a subset
//	go run ./bench/driver -results bench/out/results-A.jsonl,bench/out/results-B.jsonl
//
// Results go to bench/out/results-<time>.jsonl and .md; logs of every
// process to bench/out/logs/<time>/. A full run, and -results, also write
// bench/RESULTS.md with the charts bench/goodput-vs-loss.svg and
// bench/time-vs-receivers.svg.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	mode, toolList, out, herald, work string
	results, page                     string
	repeat, fileMB                    int
	rates, only                       string
	latency                           bool
	prefix                            string // starts the lab namespaces' names
}

func run() error {
	var o options
	flag.StringVar(&o.mode, "mode", "quick", "quick, full (matrix, memory and latency), matrix (the full matrix alone), rooms (per-receiver loss, 100 Mbit/s, a receiver on unicast), unicast (one receiver on unicast among multicast ones) or memory (herald alone, 2 GB file)")
	flag.StringVar(&o.toolList, "tools", "raw,udpcast,udpcast-fec,uftp,uftp-enc,herald", "comma-separated tools to run")
	flag.StringVar(&o.out, "out", "bench/out", "directory for results and logs")
	flag.StringVar(&o.herald, "herald", "", "herald binary (default: herald in PATH, else built from ./cmd/herald)")
	flag.StringVar(&o.work, "work", "/dev/shm", "where the files live during runs (tmpfs keeps disks out of the figures)")
	flag.IntVar(&o.repeat, "repeat", 0, "repeats per scenario (0 = the mode's default)")
	flag.IntVar(&o.fileMB, "file-mb", 0, "file size in MB of every scenario (0 = the mode's default)")
	flag.StringVar(&o.rates, "rates", "", "only these link rates in Mbit/s, comma-separated (empty = the mode's)")
	flag.StringVar(&o.only, "only", "", "only these scenarios of the mode, counted from 1 in its order, comma-separated (empty = all)")
	flag.StringVar(&o.prefix, "prefix", netlab.DefaultPrefix, "lab namespace name prefix, 1-6 lowercase letters (stale labs with it are removed first)")
	flag.BoolVar(&o.latency, "latency", false, "run only the message latency benchmark (herald announce and listen)")
	flag.StringVar(&o.results, "results", "", "write RESULTS.md and the charts from these results .jsonl files (comma-separated), running nothing")
	flag.StringVar(&o.page, "page", defaultPageDir, "directory for RESULTS.md and the charts")
	flag.Parse()

	if o.results != "" {
		return writeResultsPage(strings.Split(o.results, ","), o.page)
	}
	p, err := plan(o.mode)
	if err != nil {
		return err
	}
	p = p.withFileMB(o.fileMB)
	if p, err = p.withRates(o.rates); err != nil {
		return err
	}
	if p, err = p.withOnly(o.only); err != nil {
		return err
	}
	if o.repeat > 0 {
		p.repeat = o.repeat
	}
	if err := netlab.Available(); err != nil {
		return fmt.Errorf("%w (run as root; bench/setup.sh installs the tools)", err)
	}
	for _, tool := range []string{timeBin, "udp-sender", "udp-receiver", "uftp", "uftpd"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s missing: run bash bench/setup.sh as root", tool)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if removed, err := netlab.Sweep(ctx, o.prefix); err != nil {
		return err
	} else if len(removed) > 0 {
		fmt.Fprintf(os.Stderr, "removed stale lab namespaces %v\n", removed)
	}

	stamp := time.Now().UTC().Format("20060102T150405Z")
	binDir, err := filepath.Abs(filepath.Join(o.out, "bin"))
	if err != nil {
		return err
	}
	logRoot, err := filepath.Abs(filepath.Join(o.out, "logs", stamp))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	blastBin := filepath.Join(binDir, "blast")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", blastBin, "./bench/cmd/blast").CombinedOutput(); err != nil {
		return fmt.Errorf("build blast (run from the repository root): %v: %s", err, out)
	}
	heraldBin, heraldSkip := findHerald(ctx, o.herald, binDir)

	paths := toolPaths{blast: blastBin, herald: heraldBin, heraldSkip: heraldSkip}
	tools, notes, err := selectTools(o.toolList, heraldSkip)
	if err != nil {
		return err
	}
	if p.heraldOnly {
		tools = slices.DeleteFunc(tools, func(t toolSpec) bool { return t.name != "herald" })
	}
	sweepWorkDirs(o.work)
	work, err := os.MkdirTemp(o.work, fmt.Sprintf("%s%d-", workDirPrefix, os.Getpid()))
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	jsonlPath := filepath.Join(o.out, "results-"+stamp+".jsonl")
	jsonl, err := os.Create(jsonlPath)
	if err != nil {
		return err
	}
	defer jsonl.Close()
	versions := toolVersions(ctx)
	if heraldBin != "" {
		versions["herald"] = heraldVersion(ctx, heraldBin)
	}
	mode := o.mode
	if o.latency {
		mode = "latency"
	}
	header := runHeader{Time: stamp, Mode: mode, Command: reproduceCommand(os.Args[1:]), Commit: repoCommit(ctx),
		Machine: currentMachine(), Versions: versions}
	if err := writeJSONLine(jsonl, header); err != nil {
		return err
	}
	e := env{toolPaths: paths, work: work, logRoot: logRoot, jsonl: jsonl}
	rec := runRecord{path: jsonlPath, header: header}
	heraldSelected := slices.ContainsFunc(tools, func(t toolSpec) bool { return t.name == "herald" })

	runErr := func() error {
		if o.latency {
			return nil
		}
		rs, err := runScenarios(ctx, o, p, tools, e)
		rec.results = append(rec.results, rs...)
		if err != nil || o.mode != "full" || !heraldSelected || heraldSkip != "" {
			return err
		}
		memory, _ := plan("memory")
		memory = memory.withFileMB(o.fileMB)
		heraldTool := slices.DeleteFunc(slices.Clone(tools), func(t toolSpec) bool { return t.name != "herald" })
		rs, err = runScenarios(ctx, o, memory, heraldTool, e)
		rec.results = append(rec.results, rs...)
		return err
	}()
	if runErr == nil && ctx.Err() == nil && (o.latency || o.mode == "full" && heraldSelected) {
		var lat []latencyResult
		lat, runErr = runLatency(ctx, latencyEnv{toolPaths: paths, work: work,
			logRoot: logRoot, jsonl: jsonl, mode: mode})
		rec.latency = lat
	}
	md := resultsPage([]runRecord{rec}, pageOptions{notes: notes})
	mdPath := filepath.Join(o.out, "results-"+stamp+".md")
	if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Print(md)
	fmt.Fprintf(os.Stderr, "results: %s %s\n", jsonlPath, mdPath)
	if runErr == nil && ctx.Err() == nil && (o.mode == "full" || o.mode == "matrix") && !o.latency {
		if err := writeResultsPage([]string{jsonlPath}, o.page); err != nil {
			return err
		}
	}
	return errors.Join(runErr, ctx.Err())
}

// runScenarios runs every scenario of p with tools.
func runScenarios(ctx context.Context, o options, p runPlan, tools []toolSpec, e env) ([]result, error) {
	var results []result
	for _, sc := range p.scenarios {
		if ctx.Err() != nil {
			break
		}
		rs, err := runScenario(ctx, o, sc, p, tools, e)
		results = append(results, rs...)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// ceilingRuns raw blasts per scenario give the ceiling.
const ceilingRuns = 2

// env is what stays the same across scenarios.
type env struct {
	toolPaths
	work, logRoot string
	jsonl         io.Writer
}

// runScenario builds one lab, measures the ceiling if p says so, then runs
// every tool p.repeat times with the scenario's loss.
func runScenario(ctx context.Context, o options, sc scenario, p runPlan, tools []toolSpec, e env) ([]result, error) {
	lab, err := netlab.New(ctx, netlab.Config{Receivers: sc.Receivers, RateMbit: sc.RateMbit, Prefix: o.prefix, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer lab.Close()
	src := filepath.Join(e.work, fmt.Sprintf("file-%dMB.bin", sc.FileMB))
	if err := ensureFile(src, sc.fileBytes()); err != nil {
		return nil, err
	}
	renv := runEnv{toolPaths: e.toolPaths, sc: sc, lab: lab, src: src, timeout: int(sc.timeout() / time.Second)}
	scDir := fmt.Sprintf("%drx-%spm%s%s-%dM-%dMB", sc.Receivers, strings.ReplaceAll(strings.TrimSuffix(sc.lossLabel(), "‰"), "/", "-"),
		map[bool]string{true: "burst"}[sc.Burst], map[bool]string{true: "-starved"}[sc.Starved], sc.RateMbit, sc.FileMB)
	if sc.Deaf > 0 {
		scDir += fmt.Sprintf("-deaf%d", sc.Deaf)
	}
	label := func(r *result, repeat int) {
		r.Time = time.Now().UTC().Format(time.RFC3339)
		r.Mode = o.mode
		r.Repeat = repeat
	}
	var results []result

	// The ceiling: the best of ceilingRuns raw blasts without loss, in this
	// very lab; the best, because a run can only be slowed by noise.
	var ceiling result
	if p.ceiling {
		if err := setLoss(lab, scenario{}); err != nil {
			return nil, err
		}
		for i := range ceilingRuns {
			c := runOnce(ctx, renv, allTools("")[0], filepath.Join(e.work, "run"), filepath.Join(e.logRoot, scDir, fmt.Sprintf("ceiling-%d", i+1)))
			if c.OK && (!ceiling.OK || c.GoodputMbit > ceiling.GoodputMbit) || i == 0 {
				ceiling = c
			}
		}
		ceiling.Tool = ceilingTool
		label(&ceiling, 0)
		if err := writeJSONLine(e.jsonl, ceiling); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "%s: ceiling %.0f Mbit/s\n", sc, ceiling.GoodputMbit)
	}

	for rep := 1; rep <= p.repeat; rep++ {
		for _, t := range tools {
			if ctx.Err() != nil {
				return results, nil
			}
			var r result
			if t.skip != "" {
				r = result{Tool: t.name, Scenario: sc, Skipped: t.skip}
			} else {
				if err := setLoss(lab, sc); err != nil {
					return results, err
				}
				logDir := filepath.Join(e.logRoot, scDir, fmt.Sprintf("%s-%d", t.name, rep))
				r = runOnce(ctx, renv, t, filepath.Join(e.work, "run"), logDir)
				if sc.Deaf > 0 { // deaf.go
					r.DeafUnicastBytes, r.DeafUnicastErr = deafUnicastBytes(ctx, lab, sc)
				}
				if err := setLoss(lab, scenario{}); err != nil {
					return results, err
				}
			}
			label(&r, rep)
			if ceiling.OK && ceiling.GoodputMbit > 0 && r.OK {
				r.CeilingMbit = ceiling.GoodputMbit
				r.OfCeiling = r.GoodputMbit / ceiling.GoodputMbit
			}
			if err := writeJSONLine(e.jsonl, r); err != nil {
				return results, err
			}
			status := "ok"
			if r.Skipped != "" {
				status = "skipped: " + r.Skipped
			} else if !r.OK {
				status = "FAILED: " + r.Error
			}
			fmt.Fprintf(os.Stderr, "%s: %s #%d %.2fs %.0f Mbit/s %s\n", sc, t.name, rep, r.Seconds, r.GoodputMbit, status)
			if sc.Deaf > 0 && r.Skipped == "" {
				fmt.Fprintf(os.Stderr, "  receivers %.2f s; r%d got %.3fx the file by unicast %s\n", r.ReceiverSeconds, sc.Deaf,
					float64(r.DeafUnicastBytes)/float64(sc.fileBytes()), r.DeafUnicastErr)
			}
			results = append(results, r)
		}
	}
	return results, nil
}

// setLoss applies sc's random loss to each receiver (its own, with a
// LossList); bursty scenarios start clean and get their outages from
// runOnce. The zero scenario clears every rule.
func setLoss(lab *netlab.Lab, sc scenario) error {
	for i, h := range lab.Receivers {
		permille := sc.lossOf(i)
		if sc.Burst {
			permille = 0
		}
		if err := lab.SetLoss(h, permille); err != nil {
			return err
		}
	}
	return makeDeaf(lab, sc) // deaf.go
}

func selectTools(list, heraldSkip string) ([]toolSpec, []string, error) {
	all := allTools(heraldSkip)
	var picked []toolSpec
	var notes []string
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(all, func(t toolSpec) bool { return t.name == name })
		if i < 0 {
			return nil, nil, fmt.Errorf("unknown tool %q", name)
		}
		picked = append(picked, all[i])
		if all[i].skip != "" {
			notes = append(notes, name+" skipped: "+all[i].skip)
		}
	}
	return picked, notes, nil
}

// findHerald returns the herald binary, or a reason to skip it: herald takes
// part once `herald push --help` succeeds.
func findHerald(ctx context.Context, flagPath, binDir string) (string, string) {
	path := flagPath
	if path == "" {
		if p, err := exec.LookPath("herald"); err == nil {
			path = p
		} else {
			path = filepath.Join(binDir, "herald")
			if out, err := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/herald").CombinedOutput(); err != nil {
				return "", "cannot build ./cmd/herald yet: " + firstLine(string(out))
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, path, "push", "--help").CombinedOutput(); err != nil {
		return "", fmt.Sprintf("`herald push --help` fails (%v): %s", err, firstLine(string(out)))
	}
	return path, ""
}

// firstLine returns the first line of tool output that is not a "# pkg"
// header from go build.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return strings.TrimSpace(s)
}

// ensureFile creates path with size pseudo-random bytes unless it exists
// with that size. Random content keeps compression out of the figures.
func ensureFile(path string, size int64) error {
	if fileSize(path) == size {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{'h', 'e', 'r', 'a', 'l', 'd'})
	_, err = io.CopyN(f, rng, size)
	return errors.Join(err, f.Close())
}

// toolVersions records the versions that produced the figures.
func toolVersions(ctx context.Context) map[string]string {
	v := map[string]string{}
	for _, pkg := range []string{"udpcast", "uftp", "iproute2", "nftables"} {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", pkg).Output()
		if err == nil {
			v[pkg] = string(out)
		} else {
			v[pkg] = "unknown"
		}
	}
	if out, err := exec.CommandContext(ctx, "uname", "-r").Output(); err == nil {
		v["kernel"] = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		v["go"] = strings.TrimSpace(string(out))
	}
	return v
}

// workDirPrefix starts work directories, followed by the owner's pid.
const workDirPrefix = "herald-bench-"

// sweepWorkDirs removes work directories of drivers that died without
// cleaning up (SIGKILL): those whose owner pid no longer exists.
func sweepWorkDirs(root string) {
	matches, _ := filepath.Glob(filepath.Join(root, workDirPrefix+"*-*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), workDirPrefix)
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid <= 0 {
			continue
		}
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			os.RemoveAll(m)
		}
	}
}
