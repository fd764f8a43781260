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

func runHistory(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	if c.Duration("since") < 0 || c.Int("limit") < 0 {
		return usageErrorf("--since and --limit must not be negative")
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	if c.Bool("pushes") {
		var since time.Time
		if d := c.Duration("since"); d > 0 {
			since = time.Now().Add(-d)
		}
		pushes, err := history.ReadPushes(pushesPath(n), since, c.Int("limit"))
		if err != nil {
			return err
		}
		if len(pushes) == 0 && !jsonOutput(c) {
			fmt.Fprintln(c.App.ErrWriter, "no pushes in the log match")
			return nil
		}
		return printPushes(c.App.Writer, pushes, jsonOutput(c))
	}
	q := history.Query{Private: c.Bool("private"), Limit: c.Int("limit")}
	if name := c.String("channel"); name != "" {
		ch, err := pickChannel(n, name)
		if err != nil {
			return err
		}
		q.Channel = ch.Name
	}
	byName := ""
	if ref := c.String("peer"); ref != "" {
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
			return withExit(exitUsage, fmt.Errorf("--peer %q: %w", ref, err))
		} else {
			byName, q.Limit = ref, 0
		}
	}
	if d := c.Duration("since"); d > 0 {
		q.Since = time.Now().Add(-d)
	}
	entries, err := history.Read(historyPath(n), q)
	if err != nil {
		return err
	}
	if byName != "" {
		entries = entriesNamed(entries, byName, c.Int("limit"))
		if len(entries) == 0 {
			return withExit(exitUsage, fmt.Errorf("--peer %q: no known key and no message from that name (give a full fingerprint; see 'herald peers')", byName))
		}
	}
	asJSON := jsonOutput(c)
	if len(entries) == 0 && !asJSON {
		fmt.Fprintln(c.App.ErrWriter, "no messages in the history match")
	}
	for _, e := range entries {
		printEntry(c.App.Writer, e, asJSON)
	}
	return nil
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
