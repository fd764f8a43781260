package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/group"
	"github.com/herald-lan/herald/internal/hook"
	"github.com/herald-lan/herald/internal/textsafe"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

func listenCommand() *cli.Command {
	return &cli.Command{
		Name:  "listen",
		Usage: "print announcements, chat and private messages as they arrive",
		Description: `Prints every message on the open channel and every joined channel (or only the
--channel ones), and private messages to you: time, channel, sender name, fingerprint
and trust (trusted, seen, unknown). Names are labels; the fingerprint is the identity.
Messages from a key whose name is bound to another key are refused and counted.
Every message is also kept in the history (herald history).

--notify shows a desktop notification per message (needs notify-send).
--exec CMD runs CMD per message, without a shell: CMD is split into words like a
shell would (quotes, backslashes), and the message is passed in the environment only:
HERALD_TIME, HERALD_KIND, HERALD_CHANNEL, HERALD_SENDER, HERALD_FINGERPRINT,
HERALD_TRUST, HERALD_PRIORITY, HERALD_PRIVATE, HERALD_ID, HERALD_TEXT.

Examples:
  herald listen
  herald listen --channel class --json
  herald listen --notify
  herald listen --exec 'sh -c "echo \"$HERALD_SENDER: $HERALD_TEXT\" >> ~/inbox"'`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "channel", EnvVars: []string{"HERALD_CHANNEL"},
				Usage: "only these channels (repeat or comma-separate; \"open\" is the open channel)"},
			&cli.BoolFlag{Name: "notify", EnvVars: []string{"HERALD_NOTIFY"}, Usage: "desktop notification per message (notify-send)"},
			&cli.StringFlag{Name: "exec", EnvVars: []string{"HERALD_EXEC"}, Usage: "command to run per message, message in HERALD_* variables"},
			jsonFlag(),
		},
		Action: runListen,
	}
}

// listenOptions is everything `herald listen` was asked to do.
type listenOptions struct {
	Channels []string
	Notify   bool
	Exec     []string // --exec split into words; nil: none
	JSON     bool
}

func listenOptionsFrom(c *cli.Context) (listenOptions, error) {
	o := listenOptions{Channels: splitList(c.StringSlice("channel")), Notify: c.Bool("notify"), JSON: jsonOutput(c)}
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return o, err
	}
	var err error
	o.Exec, err = execWords(c.String("exec"))
	return o, err
}

func runListen(c *cli.Context) error {
	o, err := listenOptionsFrom(c)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	channels, err := pickChannels(n, o.Channels)
	if err != nil {
		return err
	}
	pres := presence.New(n, protocol.OfferListen)
	eng, err := message.New(message.Config{Node: n, Peers: pres, Channels: channels})
	if err != nil {
		return err
	}
	rec := openHistory(n)
	// Messages an earlier listener on this home showed are not shown
	// again (a retained re-send after a restart).
	shown, err := history.ReadShown(historyPath(n))
	if err != nil {
		shown = history.Shown{}
	}
	hooks := hook.NewRunner(c.App.ErrWriter)
	var notifier hook.Notifier
	if o.Notify {
		if notifier, err = hook.NewNotifier(); err != nil {
			fmt.Fprintln(c.App.ErrWriter, "--notify: notify-send is not installed (apt install libnotify-bin); no notifications")
		}
	}
	if !o.JSON {
		fmt.Fprintf(c.App.ErrWriter, "listening on %s as %s (%s)%s\n",
			channelNames(n, channels), n.ID.Name, n.ID.Fingerprint(), stopHint(c))
	}
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		return group.Run(ctx, pres.Run, eng.Run, func(context.Context) error {
			for m := range eng.Messages() { // closed when eng.Run returns
				e := entryOf(m)
				if shown.Has(e) {
					continue
				}
				printEntry(c.App.Writer, e, o.JSON)
				rec.Record(e)
				if o.Exec != nil {
					hooks.Run(listenHook(o.Exec, e))
				}
				notify(notifier, hooks, e)
			}
			return nil
		})
	})
	hooks.Close()
	closeHistory(c, rec)
	reportRejections(c.App.ErrWriter, eng.Stats())
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// pickChannels resolves --channel names; none means every channel.
func pickChannels(n *node.Node, names []string) ([]identity.Channel, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]identity.Channel, 0, len(names))
	for _, name := range names {
		ch, err := pickChannel(n, name)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

// channelNames lists what a listener hears, for its banner.
func channelNames(n *node.Node, channels []identity.Channel) string {
	if channels == nil {
		channels = append([]identity.Channel{identity.OpenChannel()}, n.Channels.List()...)
	}
	names := make([]string, len(channels))
	for i, ch := range channels {
		names[i] = "#" + ch.Name
	}
	return strings.Join(names, ", ")
}

// entryOf is the printable, storable form of a received message.
func entryOf(m message.Message) history.Entry { return history.FromMessage(m) }

// outgoingEntry is the history form of a message this node sent.
func outgoingEntry(n *node.Node, kind, channel string, id protocol.MessageID, text string) history.Entry {
	return history.Outgoing(n.ID, kind, channel, id, text)
}

// printEntry prints one message as a line of text or of JSON.
func printEntry(w io.Writer, e history.Entry, asJSON bool) {
	if asJSON {
		writeJSON(w, messageJSONOf(e))
		return
	}
	fmt.Fprintln(w, e.Line())
}

// safeText shows a message's text: what could drive a terminal or
// mislead a reader escaped, newlines and tabs kept (textsafe.Text).
func safeText(s string) string { return textsafe.Text(s) }

// reportRejections says on stderr what was refused, if anything was.
func reportRejections(w io.Writer, s message.Stats) {
	parts := []struct {
		n    uint64
		what string
	}{
		{s.BadSignature, "bad signature"}, {s.Replayed, "replayed"}, {s.Stale, "stale (clock skew or an old capture)"}, {s.WrongKey, "wrong key"},
		{s.ChangedKey, "changed key"}, {s.RateLimited, "rate limited"}, {s.Malformed, "malformed"},
		{s.Overflow + s.QueueDropped, "dropped (overload)"},
	}
	var out []string
	for _, p := range parts {
		if p.n > 0 {
			out = append(out, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(out) > 0 {
		fmt.Fprintf(w, "refused packets: %s\n", strings.Join(out, ", "))
	}
}

// listenHook is --exec for one message: the words of the flag, the
// message only in the environment.
func listenHook(words []string, e history.Entry) hook.Command {
	private, priority := "0", "normal"
	if e.Kind == history.KindPrivate {
		private = "1"
	}
	if e.Priority {
		priority = "high"
	}
	return hook.Command{What: "--exec", Args: words, Env: []string{
		"HERALD_TIME=" + e.Time.Format(time.RFC3339),
		"HERALD_KIND=" + e.Kind,
		"HERALD_CHANNEL=" + e.Channel,
		"HERALD_SENDER=" + hook.EnvSafe(e.Sender),
		"HERALD_FINGERPRINT=" + e.Fingerprint,
		"HERALD_TRUST=" + e.Trust,
		"HERALD_PRIORITY=" + priority,
		"HERALD_PRIVATE=" + private,
		"HERALD_ID=" + e.ID,
		"HERALD_TEXT=" + hook.EnvSafe(e.Text),
	}}
}

// notify shows e as a desktop notification (nt may be the zero Notifier).
func notify(nt hook.Notifier, r *hook.Runner, e history.Entry) {
	title := "herald: " + safeName(e.Sender)
	if e.Kind != history.KindPrivate {
		title += " #" + e.Channel
	}
	nt.Notify(r, title, safeText(e.Text), e.Priority)
}

// messageJSON is one message of `listen --json` and `history --json`
// (docs/json.md): kind and time first, like every JSON line.
type messageJSON struct {
	Kind        string `json:"kind"`
	Time        string `json:"time"`
	Channel     string `json:"channel,omitempty"`
	Outgoing    bool   `json:"outgoing,omitempty"`
	Sender      string `json:"sender"`
	Fingerprint string `json:"fingerprint"`
	Trust       string `json:"trust"`
	Peer        string `json:"peer,omitempty"`
	PeerName    string `json:"peer_name,omitempty"`
	Priority    bool   `json:"priority,omitempty"`
	ID          string `json:"id"`
	Text        string `json:"text"`
}

func messageJSONOf(e history.Entry) messageJSON {
	return messageJSON{Kind: e.Kind, Time: jsonTime(e.Time), Channel: e.Channel, Outgoing: e.Outgoing, Sender: e.Sender,
		Fingerprint: e.Fingerprint, Trust: e.Trust, Peer: e.Peer, PeerName: e.PeerName, Priority: e.Priority, ID: e.ID, Text: e.Text}
}
