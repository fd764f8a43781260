package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/group"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

func sendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "send a private message to one peer and wait for its receipt",
		ArgsUsage: "TEXT|-",
		Description: `Sends TEXT (or standard input, with -) to one peer, sealed so only that peer can
read it. PEER is a fingerprint (or a unique prefix of 4+ characters) or a name, from
the trust store or from the beacons heard within --wait. The peer must be running
herald listen or herald chat. Re-sends until the peer's receipt arrives.

Exit codes: 0 receipt received, 6 no receipt within --timeout, 2 unknown peer.

Examples:
  herald send --to alice "can you come to room 4?"
  herald send --to K7QF-2MXA "the key is in the drawer"
  herald send --to bob --timeout 2m - < note.txt`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", EnvVars: []string{"HERALD_TO"}, Usage: "recipient: fingerprint or name (required)"},
			&cli.DurationFlag{Name: "timeout", EnvVars: []string{"HERALD_TIMEOUT"}, Value: message.DefaultReceiptTimeout,
				Usage: "give up (exit 6) when no receipt came by then"},
			&cli.DurationFlag{Name: "wait", EnvVars: []string{"HERALD_WAIT"}, Value: 5 * time.Second,
				Usage: "how long to listen for the recipient's beacon if it was never seen"},
			jsonFlag(),
		},
		Action: runSend,
	}
}

// sendOptions is everything `herald send` was asked to do, read from
// its flags and argument in one place.
type sendOptions struct {
	To      string
	Text    string
	Timeout time.Duration
	Wait    time.Duration
	JSON    bool
}

func sendOptionsFrom(c *cli.Context) (sendOptions, error) {
	o := sendOptions{To: c.String("to"), Timeout: c.Duration("timeout"), Wait: c.Duration("wait"), JSON: jsonOutput(c)}
	if err := needArgs(c, 1, "TEXT or - (standard input)"); err != nil {
		return o, err
	}
	if o.To == "" {
		return o, usageErrorf("--to PEER is required: herald send --to NAME|FINGERPRINT TEXT")
	}
	if o.Timeout <= 0 || o.Wait < 0 {
		return o, usageErrorf("--timeout must be positive and --wait not negative")
	}
	var err error
	o.Text, err = messageText(c, c.Args().First())
	return o, err
}

func runSend(c *cli.Context) error {
	o, err := sendOptionsFrom(c)
	if err != nil {
		return err
	}
	text := o.Text
	n, err := openNode(c)
	if err != nil {
		return err
	}
	pres := presence.New(n, 0)
	eng, err := message.New(message.Config{Node: n, Peers: pres, Channels: []identity.Channel{},
		IgnorePrivate: true, ReceiptTimeout: o.Timeout, BeforeRound: beaconBeforeRound(n)})
	if err != nil {
		return err
	}
	var to identity.Peer
	var id protocol.MessageID
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		return group.Run(ctx, pres.Run, eng.Run, func(ctx context.Context) error {
			peers, err := resolvePeers(ctx, n, []string{o.To}, o.Wait)
			if err != nil {
				return err
			}
			to = peers[0]
			id, err = eng.SendPrivate(ctx, message.Recipient{SignPub: to.SignPub, BoxPub: to.BoxPub}, text)
			return err
		})
	})
	if errors.Is(err, message.ErrNoReceipt) {
		return withExit(exitTimeout, fmt.Errorf("no receipt from %s (%s) within %v; is 'herald listen' or 'herald chat' running there?",
			safeName(to.Name), to.Fingerprint, o.Timeout))
	}
	if err != nil {
		return err
	}
	rec := openHistory(n)
	e := outgoingEntry(n, history.KindPrivate, "", id, text)
	e.Peer, e.PeerName = to.Fingerprint, to.Name
	rec.Record(e)
	closeHistory(c, rec)
	if o.JSON {
		return writeJSON(c.App.Writer, deliveredJSON{Event: "delivered", Time: jsonTime(time.Now()), ID: e.ID, To: to.Name, Fingerprint: to.Fingerprint})
	}
	fmt.Fprintf(c.App.Writer, "delivered to %s (%s)\n", safeName(to.Name), to.Fingerprint)
	return nil
}

// deliveredJSON is `herald send --json`'s line once the receipt came.
type deliveredJSON struct {
	Event       string `json:"event"`
	Time        string `json:"time"`
	ID          string `json:"id"`
	To          string `json:"to"`
	Fingerprint string `json:"fingerprint"`
}
