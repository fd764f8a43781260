package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/textsafe"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

// Bounds of listen's side effects: each hook runs at most hookTimeout,
// one at a time, and at most hookQueue wait; more are dropped with a
// warning so a slow hook cannot hold up reception.
const (
	hookTimeout = 30 * time.Second
	hookQueue   = 64
	// notifyBodyLen cuts a desktop notification's text.
	notifyBodyLen = 300
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

func runListen(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	var hook []string
	if cmd := c.String("exec"); cmd != "" {
		words, err := splitWords(cmd)
		if err != nil || len(words) == 0 {
			return usageErrorf("--exec %q: %v; quote like a shell would", cmd, err)
		}
		hook = words
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	channels, err := pickChannels(n, splitList(c.StringSlice("channel")))
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
	hooks := newBackgroundRunner(c.App.ErrWriter)
	notifier := newNotifier(c)
	asJSON := jsonOutput(c)
	if !asJSON {
		fmt.Fprintf(c.App.ErrWriter, "listening on %s as %s (%s); Ctrl-C to stop\n",
			channelNames(n, channels), n.ID.Name, n.ID.Fingerprint())
	}
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		var wg sync.WaitGroup
		wg.Go(func() { pres.Run(ctx) })
		wg.Go(func() { eng.Run(ctx) })
		for m := range eng.Messages() {
			e := entryOf(m)
			if shown.Has(e) {
				continue
			}
			printEntry(c.App.Writer, e, asJSON)
			rec.Record(e)
			if hook != nil {
				hooks.run("--exec", func(ctx context.Context) *exec.Cmd { return hookCommand(ctx, hook, e) })
			}
			notifier.notify(hooks, e)
		}
		wg.Wait()
		return nil
	})
	hooks.close()
	closeHistory(c, rec)
	reportRejections(c.App.ErrWriter, eng.Stats())
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
		writeJSON(w, e)
		return
	}
	fmt.Fprintln(w, formatEntry(e))
}

// formatEntry is the one-message text line listen, chat and history print:
//
//	15:04:05 #class announce HIGH alice (K7QF-2MXA-9D3B-WZ4E-H6TN, trusted): text
//
// Every part that came off the wire is made safe for a terminal, and the
// lines of a multi-line text after the first are indented.
func formatEntry(e history.Entry) string {
	var b strings.Builder
	b.WriteString(e.Time.Local().Format(time.TimeOnly))
	switch {
	case e.Kind == history.KindPrivate && e.Outgoing:
		b.WriteString(" private to")
	case e.Kind == history.KindPrivate:
		b.WriteString(" private")
	default:
		b.WriteString(" #" + safeLine(e.Channel))
	}
	if e.Kind == history.KindAnnounce {
		b.WriteString(" announce")
	}
	if e.Priority {
		b.WriteString(" HIGH")
	}
	name, fp := e.Sender, e.Fingerprint
	if e.Kind == history.KindPrivate && e.Outgoing {
		name, fp = e.PeerName, e.Peer
	}
	if name == "" {
		name = "?"
	}
	fmt.Fprintf(&b, " %s (%s", safeName(name), fp)
	if !e.Outgoing {
		b.WriteString(", " + e.Trust)
		if e.Trust == identity.Changed.String() { // trust hook: say it loudly
			b.WriteString(": WARNING, not the trusted peer of that name")
		}
	}
	b.WriteString("): ")
	b.WriteString(strings.ReplaceAll(safeText(e.Text), "\n", "\n    "))
	return b.String()
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

// hookCommand builds --exec's process for one message: words from the
// flag, the message only in the environment.
func hookCommand(ctx context.Context, words []string, e history.Entry) *exec.Cmd {
	cmd := exec.CommandContext(ctx, words[0], words[1:]...)
	private, priority := "0", "normal"
	if e.Kind == history.KindPrivate {
		private = "1"
	}
	if e.Priority {
		priority = "high"
	}
	cmd.Env = append(os.Environ(),
		"HERALD_TIME="+e.Time.Format(time.RFC3339),
		"HERALD_KIND="+e.Kind,
		"HERALD_CHANNEL="+e.Channel,
		"HERALD_SENDER="+envSafe(e.Sender),
		"HERALD_FINGERPRINT="+e.Fingerprint,
		"HERALD_TRUST="+e.Trust,
		"HERALD_PRIORITY="+priority,
		"HERALD_PRIVATE="+private,
		"HERALD_ID="+e.ID,
		"HERALD_TEXT="+envSafe(e.Text),
	)
	return cmd
}

// envSafe drops NUL, which an environment variable cannot hold.
func envSafe(s string) string { return strings.ReplaceAll(s, "\x00", "") }

// splitWords splits a command line the way a POSIX shell splits words,
// without expanding anything: blanks separate words, single quotes keep
// everything literally, double quotes keep everything but \" \\ \$ \`,
// and a backslash outside quotes keeps the next character.
func splitWords(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case r == '\\':
			if i+1 == len(rs) {
				return nil, errors.New("trailing backslash")
			}
			i++
			word.WriteRune(rs[i])
			inWord = true
		case r == '\'':
			end := indexRune(rs, i+1, '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			word.WriteString(string(rs[i+1 : end]))
			i, inWord = end, true
		case r == '"':
			i++
			for ; i < len(rs) && rs[i] != '"'; i++ {
				if rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune("\"\\$`", rs[i+1]) {
					i++
				}
				word.WriteRune(rs[i])
			}
			if i == len(rs) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

func indexRune(rs []rune, from int, r rune) int {
	for i := from; i < len(rs); i++ {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

// backgroundRunner runs commands one at a time off the receive path,
// from a bounded queue; when it is full the command is skipped with a
// warning. Safe for concurrent use; close waits for the queue to drain.
type backgroundRunner struct {
	errw  io.Writer
	queue chan func()
	done  chan struct{}
	once  sync.Once
}

func newBackgroundRunner(errw io.Writer) *backgroundRunner {
	r := &backgroundRunner{errw: errw, queue: make(chan func(), hookQueue), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for job := range r.queue {
			job()
		}
	}()
	return r
}

// run queues the command build makes; what names it in warnings.
func (r *backgroundRunner) run(what string, build func(ctx context.Context) *exec.Cmd) {
	job := func() {
		ctx, cancel := context.WithTimeout(context.Background(), hookTimeout)
		defer cancel()
		cmd := build(ctx)
		cmd.Stdout, cmd.Stderr = r.errw, r.errw
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(r.errw, "%s %s: %v\n", what, cmd.Path, err)
		}
	}
	select {
	case r.queue <- job:
	default:
		fmt.Fprintf(r.errw, "%s: %d commands already waiting, skipped one\n", what, hookQueue)
	}
}

func (r *backgroundRunner) close() {
	r.once.Do(func() { close(r.queue) })
	<-r.done
}

// notifier shows desktop notifications through notify-send, if asked
// for and installed.
type notifier struct{ path string }

func newNotifier(c *cli.Context) notifier {
	if !c.Bool("notify") {
		return notifier{}
	}
	path, err := exec.LookPath("notify-send")
	if err != nil {
		fmt.Fprintln(c.App.ErrWriter, "--notify: notify-send is not installed (apt install libnotify-bin); no notifications")
		return notifier{}
	}
	return notifier{path: path}
}

func (nt notifier) notify(r *backgroundRunner, e history.Entry) {
	if nt.path == "" {
		return
	}
	title := "herald: " + safeName(e.Sender)
	if e.Kind != history.KindPrivate {
		title += " #" + e.Channel
	}
	urgency := "normal"
	if e.Priority {
		urgency = "critical"
	}
	body := []rune(safeText(e.Text))
	if len(body) > notifyBodyLen {
		body = append(body[:notifyBodyLen], '…')
	}
	r.run("--notify", func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, nt.path, "--app-name=herald", "--urgency="+urgency, "--", title, string(body))
	})
}
