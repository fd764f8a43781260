package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
)

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:  "history",
		Usage: "show messages received and sent earlier",
		Description: `Prints the messages that listen, chat, send and announce kept in <home>/history.db,
oldest first. Each channel keeps its newest 10000 messages, private messages another
10000. --peer takes a name or fingerprint; --since a duration back from now.
--pushes shows <home>/pushes.jsonl instead: every push this home sent (when, to whom,
each receiver's status) or received (from whom, what was placed), newest last.

Examples:
  herald history
  herald history --channel class --since 2h
  herald history --peer alice --json
  herald history --pushes --since 24h`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "channel", EnvVars: []string{"HERALD_CHANNEL"}, Usage: "only this channel (\"open\" for the open channel)"},
			&cli.StringFlag{Name: "peer", EnvVars: []string{"HERALD_PEER"}, Usage: "only messages from, or private messages with, this peer"},
			&cli.BoolFlag{Name: "private", Usage: "only private messages"},
			&cli.DurationFlag{Name: "since", EnvVars: []string{"HERALD_SINCE"}, Usage: "only messages newer than this, e.g. 30m or 24h"},
			&cli.IntFlag{Name: "limit", EnvVars: []string{"HERALD_LIMIT"}, Usage: "only the newest N messages (0: all)"},
			&cli.BoolFlag{Name: "pushes", Usage: "the pushes log instead: pushes sent (who received them, how they ended) and received"},
			jsonFlag(),
		},
		Action: runHistory,
	}
}

// historyOptions are the flags of `herald history`.
type historyOptions struct {
	Channel string // "" for every channel
	Peer    string // name or fingerprint; "" for everyone
	Private bool
	Since   time.Duration // 0: all
	Limit   int           // 0: all
	Pushes  bool          // the pushes log instead of messages
	JSON    bool
}

func historyOptionsFrom(c *cli.Context) (historyOptions, error) {
	o := historyOptions{Channel: c.String("channel"), Peer: c.String("peer"), Private: c.Bool("private"),
		Since: c.Duration("since"), Limit: c.Int("limit"), Pushes: c.Bool("pushes"), JSON: jsonOutput(c)}
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return o, err
	}
	if o.Since < 0 || o.Limit < 0 {
		return o, usageErrorf("--since and --limit must not be negative")
	}
	return o, nil
}

// since is the oldest time o asks for (zero: all).
func (o historyOptions) since() time.Time {
	if o.Since <= 0 {
		return time.Time{}
	}
	return time.Now().Add(-o.Since)
}

func runHistory(c *cli.Context) error {
	o, err := historyOptionsFrom(c)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	if o.Pushes {
		pushes, err := history.ReadPushes(pushesPath(n), o.since(), o.Limit)
		if err != nil {
			return err
		}
		if len(pushes) == 0 && !o.JSON {
			fmt.Fprintln(c.App.ErrWriter, "no pushes in the log match")
			return nil
		}
		return printPushes(c.App.Writer, pushes, o.JSON)
	}
	entries, err := readHistory(n, o)
	if err != nil {
		return err
	}
	if len(entries) == 0 && !o.JSON {
		fmt.Fprintln(c.App.ErrWriter, "no messages in the history match")
	}
	for _, e := range entries {
		printEntry(c.App.Writer, e, o.JSON)
	}
	return nil
}

// readHistory reads the messages o selects from n's history store.
func readHistory(n *node.Node, o historyOptions) ([]history.Entry, error) {
	q := history.Query{Private: o.Private, Limit: o.Limit, Since: o.since()}
	if o.Channel != "" {
		ch, err := pickChannel(n, o.Channel)
		if err != nil {
			return nil, err
		}
		q.Channel = ch.Name
	}
	byName := ""
	if ref := o.Peer; ref != "" {
		// Trust hook (identity helper): a full fingerprint selects its key
		// (even one since forgotten); a known key by name or prefix; any
		// other name selects the entries shown under that name, since
		// keys merely seen are not kept on disk.
		if fp, err := identity.ParseFingerprint(ref); err == nil {
			q.Peer = fp
		} else if p, err := n.Trust.Resolve(ref); err == nil {
			q.Peer = p.Fingerprint
		} else if strings.EqualFold(ref, n.ID.Name) {
			q.Peer = n.ID.Fingerprint()
		} else if errors.Is(err, identity.ErrAmbiguous) {
			return nil, withExit(exitUsage, fmt.Errorf("--peer %q: %w", ref, err))
		} else {
			byName, q.Limit = ref, 0
		}
	}
	entries, err := history.Read(historyPath(n), q)
	if err != nil || byName == "" {
		return entries, err
	}
	entries = entriesNamed(entries, byName, o.Limit)
	if len(entries) == 0 {
		return nil, withExit(exitUsage, fmt.Errorf("--peer %q: no known key and no message from that name (give a full fingerprint; see 'herald peers')", byName))
	}
	return entries, nil
}

// entriesNamed keeps the entries whose sender (or private peer) was
// shown under name, labels included ("root@vm" matches "root@vm·K7QF"),
// then the newest limit of them.
func entriesNamed(entries []history.Entry, name string, limit int) []history.Entry {
	named := func(label string) bool {
		base, _, _ := strings.Cut(label, "·")
		return strings.EqualFold(base, name) || strings.EqualFold(label, name)
	}
	var out []history.Entry
	for _, e := range entries {
		if named(e.Sender) || named(e.PeerName) {
			out = append(out, e)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

func historyPath(n *node.Node) string { return filepath.Join(n.Home, history.FileName) }

// openHistory starts recording into the node's history store.
func openHistory(n *node.Node) *history.Recorder {
	return history.NewRecorder(historyPath(n), n.Logger)
}

// closeHistory flushes the recorder; a failure is worth a line on stderr
// but does not fail the command, whose messages went out or were shown.
func closeHistory(c *cli.Context, rec *history.Recorder) {
	if err := rec.Close(); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warning: history not saved: %v\n", err)
	} else if n := rec.Dropped(); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "warning: %d messages were shown but not saved to history (it could not keep up)\n", n)
	}
}
