package main

import (
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
	if ref := c.String("peer"); ref != "" {
		p, err := n.Trust.Resolve(ref)
		switch {
		case err == nil:
			q.Peer = p.Fingerprint
		case strings.EqualFold(ref, n.ID.Name):
			q.Peer = n.ID.Fingerprint()
		case isFullFingerprint(ref):
			q.Peer, _ = identity.ParseFingerprint(ref) // a peer since forgotten still has history
		default:
			return fmt.Errorf("--peer %q: %w (see 'herald peers --known')", ref, err)
		}
	}
	if d := c.Duration("since"); d > 0 {
		q.Since = time.Now().Add(-d)
	}
	entries, err := history.Read(historyPath(n), q)
	if err != nil {
		return err
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

func isFullFingerprint(ref string) bool { _, ok := identity.ParseFingerprint(ref); return ok }

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
	}
}
