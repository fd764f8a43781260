package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/group"
	"github.com/herald-lan/herald/internal/recipient"
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

--min-receivers N waits up to --wait for N receivers, saying every 2 seconds who is
still missing; when --wait runs out the push starts with those that joined (exit 5
if fewer than N complete). Without it the push starts shortly after the first joins.

Exit codes: 0 every expected receiver completed; 2 a FILE does not exist; 5 some did
not complete; 6 nobody answered; 7 every receiver refused (untrusted sender, disk full,
not in the channel: the table says why); 130 interrupted by Ctrl-C (the summary says
how much was sent; push the same files again to resume).

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

// pushOptions is everything `herald push` was asked to do, read from
// its flags in one place (pushOptionsFrom).
type pushOptions struct {
	Paths        []string // FILE, DIR or - as given
	To           []string // recipients, split on commas
	Channel      string
	NoEncrypt    bool
	MinReceivers int
	Wait         time.Duration
	Rate         float64 // bit/s; 0: auto
	K, Parity    int     // Parity < 0: adapts
	Carousel     time.Duration
	GiveUp       time.Duration
	StdinName    string
	JSON         bool
}

func pushOptionsFrom(c *cli.Context) (pushOptions, error) {
	o := pushOptions{Paths: c.Args().Slice(), To: splitList(c.StringSlice("to")), Channel: c.String("channel"),
		NoEncrypt: c.Bool("no-encrypt"), MinReceivers: c.Int("min-receivers"), Wait: c.Duration("wait"),
		Carousel: c.Duration("carousel"), GiveUp: c.Duration("give-up"), StdinName: c.String("name"), JSON: jsonOutput(c)}
	if len(o.Paths) == 0 {
		return o, usageErrorf("push needs at least one FILE, DIR or - (see 'herald push --help')")
	}
	for _, a := range o.Paths {
		if strings.HasPrefix(a, "-") && a != "-" {
			return o, usageErrorf("flag %s must come before the files: herald push [flags] FILE...", a)
		}
		if a == "-" {
			continue
		}
		if _, err := os.Lstat(a); errors.Is(err, fs.ErrNotExist) {
			return o, usageErrorf("%s: no such file or folder", a)
		}
	}
	if o.MinReceivers < 0 || o.Wait < 0 {
		return o, usageErrorf("--min-receivers and --wait must not be negative")
	}
	var err error
	if o.Rate, err = parseRate(c.String("rate")); err != nil {
		return o, err
	}
	if o.K, o.Parity, err = parseFEC(c.String("fec")); err != nil {
		return o, err
	}
	return o, nil
}

func runPush(c *cli.Context) error {
	o, err := pushOptionsFrom(c)
	if err != nil {
		return err
	}
	paths, cleanup, err := pushPaths(c.App.Reader, o)
	if err != nil {
		return err
	}
	defer cleanup()
	src, err := push.NewSource(paths)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	ch, err := pickChannel(n, o.Channel)
	if err != nil {
		return err
	}
	if len(o.To) == 0 && ch.IsOpen() && !o.NoEncrypt {
		return withExit(exitTrust, push.ErrOpenChannel)
	}
	if o.NoEncrypt && len(o.To) == 0 && !o.JSON {
		fmt.Fprintln(c.App.ErrWriter, "warning: --no-encrypt on the open channel: anyone on the LAN can read this push (it is still signed)")
	}
	events := newEventPrinter(c.App.Writer, o.JSON, true)
	cfg := push.SendConfig{Node: n, Source: src, Channel: ch, NoEncrypt: o.NoEncrypt, K: o.K, Parity: o.Parity, FixedParity: o.Parity >= 0,
		Rate: o.Rate, MinReceivers: o.MinReceivers, Wait: o.Wait, Carousel: o.Carousel, GiveUp: o.GiveUp, OnEvent: events.event}
	var report *push.Report
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		pres := presence.New(n, protocol.OfferPush)
		cfg.NameOf = func(pub ed25519.PublicKey) string { // the report names receivers as presence heard them
			info, _ := pres.Lookup(pub)
			return info.Name
		}
		return group.Run(ctx, pres.Run, func(ctx context.Context) error {
			if len(o.To) > 0 {
				if cfg.Recipients, err = resolvePeers(ctx, n, o.To, o.Wait); err != nil {
					return err
				}
			}
			showWaiting(events, cfg, o.Wait)
			report, err = push.Send(ctx, cfg)
			return err
		})
	})
	events.done()
	return pushOutcome(c, n, o, events, report, err)
}

// pushPaths turns '-' into a spooled temp file named by --name.
func pushPaths(stdin io.Reader, o pushOptions) ([]string, func(), error) {
	cleanup := func() {}
	var out []string
	for _, a := range o.Paths {
		if a != "-" {
			out = append(out, a)
			continue
		}
		name := o.StdinName
		if name == "" {
			return nil, cleanup, usageErrorf("pushing standard input needs --name NAME")
		}
		p, dir, err := push.SpoolStdin(stdin, name)
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

// resolvePeers resolves --to references with recipient.Resolve; a
// recipient not found is a usage error.
func resolvePeers(ctx context.Context, n *node.Node, refs []string, wait time.Duration) ([]identity.Peer, error) {
	peers, err := recipient.Resolve(ctx, n.Trust, refs, wait)
	if errors.Is(err, recipient.ErrNotSeen) {
		return nil, withExit(exitUsage, err)
	}
	return peers, err
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
