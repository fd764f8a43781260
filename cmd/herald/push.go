package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/push"
)

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "send files or folders to every receiver on the LAN at once",
		ArgsUsage: "FILE|DIR|- ...",
		Description: `Pushes files and folders over IP multicast with Reed-Solomon FEC and repair.
Receivers run 'herald receive'. Encrypted by default: with --to the session key is sealed
to each named peer; otherwise to the current channel. On the open channel pass --to,
--channel, or --no-encrypt (readable by anyone on the LAN).
Folders go as trees (modes and empty folders kept); symbolic links are refused.
'-' reads standard input (spooled to a temp file first) and needs --name.

Exit codes: 0 every expected receiver completed; 5 some did not; 6 nobody answered.

Examples:
  herald push --to alice,bob lesson/
  herald push --channel lab1 --min-receivers 30 --wait 60s image.iso
  herald push --rate 500M --fec 64/8 big.tar
  tar c dir | herald push --no-encrypt --name dir.tar -`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "to", EnvVars: []string{"HERALD_TO"}, Usage: "recipients (name or fingerprint), comma separated; only they can decrypt"},
			&cli.StringFlag{Name: "channel", EnvVars: []string{"HERALD_CHANNEL"}, Usage: "channel whose members can decrypt (default: your default channel)"},
			&cli.BoolFlag{Name: "no-encrypt", EnvVars: []string{"HERALD_NO_ENCRYPT"}, Usage: "on the open channel, push readable by anyone (still signed)"},
			&cli.IntFlag{Name: "min-receivers", EnvVars: []string{"HERALD_MIN_RECEIVERS"}, Usage: "wait for and require N receivers"},
			&cli.DurationFlag{Name: "wait", EnvVars: []string{"HERALD_WAIT"}, Value: 10 * time.Second, Usage: "how long to wait for receivers to register"},
			&cli.StringFlag{Name: "rate", EnvVars: []string{"HERALD_RATE"}, Value: "auto", Usage: "send rate in bit/s (500M, 1G) or auto (adapts to receivers' loss)"},
			&cli.StringFlag{Name: "fec", EnvVars: []string{"HERALD_FEC"}, Value: "64", Usage: "K or K/P: K data shards per block (1..128), P proactive parity (default adapts)"},
			&cli.DurationFlag{Name: "carousel", EnvVars: []string{"HERALD_CAROUSEL"}, Usage: "keep sending this long so late receivers still complete"},
			&cli.DurationFlag{Name: "give-up", EnvVars: []string{"HERALD_GIVE_UP"}, Value: 20 * time.Second, Usage: "drop a receiver that makes no progress this long"},
			&cli.StringFlag{Name: "name", EnvVars: []string{"HERALD_PUSH_NAME"}, Usage: "file name for '-' (standard input)"},
			jsonFlag(),
		},
		Action: runPush,
	}
}

func runPush(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usageErrorf("push needs at least one FILE, DIR or - (see 'herald push --help')")
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "-" {
			return usageErrorf("flag %s must come before the files: herald push [flags] FILE...", a)
		}
	}
	rate, err := parseRate(c.String("rate"))
	if err != nil {
		return err
	}
	k, parity, err := parseFEC(c.String("fec"))
	if err != nil {
		return err
	}
	paths, cleanup, err := pushPaths(c, args)
	if err != nil {
		return err
	}
	defer cleanup()
	src, err := push.NewSource(paths)
	if err != nil {
		return err
	}
	n, ch, err := openNodeOnChannel(c)
	if err != nil {
		return err
	}
	view := newProgressView(c.App.Writer, jsonOutput(c), "push")
	cfg := push.SendConfig{Node: n, Source: src, Channel: ch, NoEncrypt: c.Bool("no-encrypt"), K: k, Parity: parity, FixedParity: parity >= 0,
		Rate: rate, MinReceivers: c.Int("min-receivers"), Wait: c.Duration("wait"), Carousel: c.Duration("carousel"),
		GiveUp: c.Duration("give-up"), OnEvent: view.event}
	if len(c.StringSlice("to")) == 0 && ch.IsOpen() && !cfg.NoEncrypt {
		return withExit(exitTrust, push.ErrOpenChannel)
	}
	if cfg.NoEncrypt && len(c.StringSlice("to")) == 0 && !jsonOutput(c) {
		fmt.Fprintln(c.App.ErrWriter, "warning: --no-encrypt on the open channel: anyone on the LAN can read this push (it is still signed)")
	}
	var report *push.Report
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		pres := presence.New(n, protocol.OfferPush)
		go pres.Run(ctx)
		if refs := c.StringSlice("to"); len(refs) > 0 {
			if cfg.Recipients, err = resolvePeers(ctx, n, splitList(refs), c.Duration("wait")); err != nil {
				return err
			}
		}
		report, err = push.Send(ctx, cfg)
		return err
	})
	view.done()
	if report != nil {
		printReport(c.App.Writer, jsonOutput(c), report)
	}
	switch {
	case errors.Is(err, push.ErrNoReceivers):
		return withExit(exitTimeout, err)
	case err != nil:
		return err
	case !report.OK():
		return withExit(exitPartial, fmt.Errorf("%d of %d expected receivers completed", report.Completed, max(report.Expected, 1)))
	}
	return nil
}

// pushPaths turns '-' into a spooled temp file named by --name.
func pushPaths(c *cli.Context, args []string) ([]string, func(), error) {
	cleanup := func() {}
	var out []string
	for _, a := range args {
		if a != "-" {
			out = append(out, a)
			continue
		}
		name := c.String("name")
		if name == "" {
			return nil, cleanup, usageErrorf("pushing standard input needs --name NAME")
		}
		p, dir, err := push.SpoolStdin(c.App.Reader, name)
		if err != nil {
			return nil, cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		out = append(out, p)
	}
	return out, cleanup, nil
}

func pickChannel(n *node.Node, name string) (identity.Channel, error) {
	if name == "" {
		return n.Channels.Default(), nil
	}
	ch, ok := n.Channels.Get(name)
	if !ok {
		return ch, fmt.Errorf("%w: %q (join it with 'herald channel join CODE')", identity.ErrUnknownChannel, name)
	}
	return ch, nil
}

func splitList(refs []string) []string {
	var out []string
	for _, r := range refs {
		for _, p := range strings.Split(r, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// resolvePeers finds each recipient's keys in the trust store, which
// knows every key presence has heard (trusted or not), waiting for
// presence beacons up to wait for peers not seen before.
func resolvePeers(ctx context.Context, n *node.Node, refs []string, wait time.Duration) ([]identity.Peer, error) {
	deadline := time.Now().Add(wait)
	for {
		var peers []identity.Peer
		var missing error
		for _, ref := range refs {
			p, err := n.Trust.Resolve(ref)
			if err == nil && p.State() == identity.Changed {
				return nil, withExit(exitTrust, fmt.Errorf("%s: key changed; refusing to seal to it", ref))
			}
			if err != nil || p.BoxPub == ([32]byte{}) {
				missing = fmt.Errorf("recipient %q not seen on the LAN (is 'herald receive' running there? see 'herald peers'): %v", ref, err)
				break
			}
			peers = append(peers, p)
		}
		if missing == nil {
			return peers, nil
		}
		if errors.Is(missing, identity.ErrAmbiguous) || time.Now().After(deadline) {
			return nil, withExit(exitUsage, missing)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// parseRate reads "auto", "500M", "1G", "100k" or a plain number (bit/s).
func parseRate(s string) (float64, error) {
	if strings.EqualFold(s, "auto") || s == "" {
		return 0, nil
	}
	mult := 1.0
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1e3
	case "M":
		mult = 1e6
	case "G":
		mult = 1e9
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, usageErrorf("--rate %q: want auto or a rate in bit/s such as 500M or 1G", s)
	}
	return v * mult, nil
}

// parseFEC reads "K" or "K/P".
func parseFEC(s string) (k, parity int, err error) {
	ks, ps, hasP := strings.Cut(s, "/")
	k, err = strconv.Atoi(ks)
	parity = -1
	if err == nil && hasP {
		parity, err = strconv.Atoi(ps)
	}
	if err != nil || k < 1 || k > protocol.MaxK || (hasP && (parity < 0 || k+parity > 255)) {
		return 0, 0, usageErrorf("--fec %q: want K (1..%d) or K/P such as 64/8", s, protocol.MaxK)
	}
	return k, parity, nil
}

// printReport prints the per-receiver table (or JSON lines).
func printReport(out io.Writer, asJSON bool, r *push.Report) {
	if asJSON {
		for _, rr := range r.Receivers {
			writeJSON(out, map[string]any{"event": "receiver", "name": rr.Name, "fingerprint": rr.Fingerprint,
				"status": rr.Status, "percent": rr.Percent, "seconds": rr.Elapsed.Seconds(), "loss": rr.Loss, "reason": rr.Reason})
		}
		writeJSON(out, map[string]any{"event": "report", "session": r.Session, "bytes": r.Bytes, "seconds": r.Elapsed.Seconds(),
			"wire_bytes": r.WireBytes, "repair_shards": r.Repair, "expected": r.Expected, "completed": r.Completed, "ok": r.OK()})
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
		t := "-"
		if rr.Elapsed > 0 {
			t = rr.Elapsed.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.1f%%\n", orDash(safeName(rr.Name)), rr.Fingerprint, safeLine(status), t, rr.Loss*100)
	}
	w.Flush()
	gp := 0.0
	if r.Elapsed > 0 {
		gp = float64(r.Bytes) * 8 / r.Elapsed.Seconds()
	}
	wire := 0.0
	if r.Bytes > 0 {
		wire = float64(r.WireBytes) / float64(r.Bytes)
	}
	fmt.Fprintf(out, "%s in %v (%s), %d of %d receivers complete, wire %.2fx, %d repair shards\n",
		humanBytes(r.Bytes), r.Elapsed.Round(10*time.Millisecond), humanRate(gp), r.Completed, len(r.Receivers), wire, r.Repair)
}
