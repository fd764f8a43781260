package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

func announceCommand() *cli.Command {
	return &cli.Command{
		Name:      "announce",
		Usage:     "send an announcement to a channel",
		ArgsUsage: "TEXT|-",
		Description: `Sends TEXT (or standard input, with -) to everyone listening on the channel
(default: your default channel), signed, and encrypted unless it is the open channel.
It goes out three times within a third of a second, with forward error correction,
and is shown once. --retain keeps re-sending it (after 1s, 2s, 4s, ... at most 30s
apart) for DUR, so listeners that start later get it too. Exits 0 once sent.

Examples:
  herald announce "lunch is ready"
  herald announce --channel class --priority high "exam starts in 5 minutes"
  herald announce --retain 10m "the wifi password changed"
  uptime | herald announce -`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "channel", EnvVars: []string{"HERALD_CHANNEL"}, Usage: "channel to announce on (\"open\": anyone can read)"},
			&cli.DurationFlag{Name: "retain", EnvVars: []string{"HERALD_RETAIN"}, Usage: "keep re-sending for this long, e.g. 10m"},
			&cli.StringFlag{Name: "priority", EnvVars: []string{"HERALD_PRIORITY"}, Value: "normal", Usage: "normal or high"},
			jsonFlag(),
		},
		Action: runAnnounce,
	}
}

// announceOptions is everything `herald announce` was asked to do.
type announceOptions struct {
	Channel string
	Text    string
	High    bool // --priority high
	Retain  time.Duration
	JSON    bool
}

func announceOptionsFrom(c *cli.Context) (announceOptions, error) {
	o := announceOptions{Channel: c.String("channel"), Retain: c.Duration("retain"), JSON: jsonOutput(c)}
	if err := needArgs(c, 1, "TEXT or - (standard input)"); err != nil {
		return o, err
	}
	switch c.String("priority") {
	case "normal":
	case "high":
		o.High = true
	default:
		return o, usageErrorf("--priority %q: want normal or high", c.String("priority"))
	}
	if o.Retain < 0 {
		return o, usageErrorf("--retain must not be negative")
	}
	var err error
	o.Text, err = messageText(c, c.Args().First())
	return o, err
}

func runAnnounce(c *cli.Context) error {
	o, err := announceOptionsFrom(c)
	if err != nil {
		return err
	}
	text, high := o.Text, o.High
	n, err := openNode(c)
	if err != nil {
		return err
	}
	ch, err := pickChannel(n, o.Channel)
	if err != nil {
		return err
	}
	// sentAt is when the first round went out, for --json: what a script
	// (or the latency benchmark) measures delivery from.
	var sentAt atomic.Pointer[time.Time]
	beacon := beaconBeforeRound(n)
	eng, err := message.New(message.Config{Node: n, Channels: []identity.Channel{}, IgnorePrivate: true,
		BeforeRound: func() {
			beacon()
			now := time.Now()
			sentAt.CompareAndSwap(nil, &now)
		}})
	if err != nil {
		return err
	}
	if ch.IsOpen() && !o.JSON {
		fmt.Fprintln(c.App.ErrWriter, "note: "+openChannelNote)
	}
	post := message.Post{Channel: ch, Text: text, Announce: true, Priority: high, Retain: o.Retain}
	if post.Retain > 0 && !o.JSON {
		fmt.Fprintf(c.App.ErrWriter, "re-sending for %v; Ctrl-C stops early (the announcement is already out)\n", post.Retain)
	}
	var id protocol.MessageID
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		id, err = eng.Post(ctx, post)
		return err
	})
	if err != nil {
		return err
	}
	rec := openHistory(n)
	e := outgoingEntry(n, history.KindAnnounce, ch.Name, id, text)
	e.Priority = high
	rec.Record(e)
	closeHistory(c, rec)
	if o.JSON {
		ev := announcedJSON{Event: "announced", Time: jsonTime(time.Now()), ID: hex.EncodeToString(id[:]), Channel: ch.Name}
		if at := sentAt.Load(); at != nil {
			ev.Sent = jsonTime(*at)
		}
		return writeJSON(c.App.Writer, ev)
	}
	fmt.Fprintf(c.App.Writer, "announced on #%s (id %x)\n", ch.Name, id[:])
	return nil
}

// announcedJSON is `herald announce --json`'s line once it is out.
type announcedJSON struct {
	Event   string `json:"event"`
	Time    string `json:"time"`
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Sent    string `json:"sent,omitempty"`
}

// messageText is the TEXT argument, or standard input for "-" (without
// its trailing newlines), checked against the message limits.
func messageText(c *cli.Context, arg string) (string, error) {
	text := arg
	if arg == "-" {
		b, err := io.ReadAll(io.LimitReader(c.App.Reader, protocol.MaxMessageLen+2))
		if err != nil {
			return "", fmt.Errorf("read standard input: %w", err)
		}
		text = strings.TrimRight(string(b), "\r\n")
	}
	if err := message.CheckText(text); err != nil {
		return "", withExit(exitUsage, fmt.Errorf("%w (at most %d bytes of UTF-8 text)", err, protocol.MaxMessageLen))
	}
	return text, nil
}

// beaconBeforeRound is a message.Config.BeforeRound that beacons just
// ahead of each round, so a listener that never met this node (or joined
// since) can name it. No wait is needed: the beacon leaves first on the
// same socket, and a listener's node applies beacons to its peer table on
// the reader before it dispatches the next datagram (SPEC §7.4). A beacon
// that cannot be sent is skipped; the message send that follows reports
// the network error.
func beaconBeforeRound(n *node.Node) func() {
	return func() { _ = beaconNow(n) }
}

// beaconNow sends one beacon, so peers can name this node before its
// message arrives (presence beacons every few seconds, maybe too late).
func beaconNow(n *node.Node) error {
	// SendBeacon: unicast copies too (static peers, newcomers; SPEC §5.2).
	return n.SendBeacon(protocol.Beacon{BoxKey: n.ID.BoxPub, Name: n.ID.Name})
}
