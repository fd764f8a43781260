package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/push"
)

func receiveCommand() *cli.Command {
	return &cli.Command{
		Name:  "receive",
		Usage: "wait for pushes and write them to a folder",
		Description: `Accepts pushes from trusted senders (herald trust), from owners of a joined channel
(on that channel), from --from / --from-file senders (fingerprints, seen or not, or
identity lines from herald id --export), or from
anyone with --accept-any (the sender's fingerprint is printed). Files are written to a
staging folder inside --dir and moved into place only after every block verified against
the sender's signed hashes. An existing name gets " (1)" unless --overwrite.
An interrupted push is resumed when the same content is pushed again.

--exec CMD runs after each completed push: CMD is split on spaces (no shell), the
placed paths are appended as arguments, and HERALD_SESSION, HERALD_SENDER and
HERALD_DIR are set in its environment.

A push is written into a hidden staging folder, DIR/.herald-<id>, and moved
into place when every block verified. If it stops early (sender gone, disk
full, Ctrl-C) the folder stays so the next push of the same content resumes;
folders untouched for 7 days are removed when receive starts, and --clean
removes them all now. A re-push of a name the same sender placed replaces it
(the old copy is kept as "NAME (previous)"); a name from anyone else gets
"NAME (1)". The same content from the same sender is never placed twice.

Exit codes (with --once): 0 complete, 1 failed, 4 refused by trust settings.

Examples:
  herald receive --dir ~/lessons
  herald receive --once --accept-any --dir /tmp/in
  herald receive --from K7QF-2MXA-9D3B-WZ4E-H6TN --exec "notify-send herald"`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", EnvVars: []string{"HERALD_DIR"}, Value: ".", Usage: "folder to write pushes into"},
			&cli.StringSliceFlag{Name: "from", EnvVars: []string{"HERALD_FROM"}, Usage: "also accept these senders (fingerprint, seen or not; identity line; or a known name)"},
			&cli.StringSliceFlag{Name: "from-file", EnvVars: []string{"HERALD_FROM_FILE"}, Usage: "also accept the senders listed in this file (fingerprints or identity lines)"},
			&cli.BoolFlag{Name: "accept-any", EnvVars: []string{"HERALD_ACCEPT_ANY"}, Usage: "accept pushes from any sender"},
			&cli.BoolFlag{Name: "once", Usage: "exit after one push"},
			&cli.BoolFlag{Name: "overwrite", EnvVars: []string{"HERALD_OVERWRITE"}, Usage: "replace existing files of the same name"},
			&cli.BoolFlag{Name: "clean", Usage: "remove the staging folders of unfinished pushes in --dir (they can no longer resume) and exit"},
			&cli.StringFlag{Name: "exec", EnvVars: []string{"HERALD_EXEC"}, Usage: "command to run after each completed push, with the paths"},
			&cli.DurationFlag{Name: "sender-timeout", EnvVars: []string{"HERALD_SENDER_TIMEOUT"}, Value: 30 * time.Second,
				Usage: "give up on a push whose sender has been silent this long (staging is kept for resume)"},
			jsonFlag(),
		},
		Action: runReceive,
	}
}

func runReceive(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	dir := c.String("dir")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageErrorf("--dir %q is not a folder", dir)
	}
	if c.Bool("clean") {
		removed, err := push.CleanStaging(dir, 0, time.Now())
		for _, p := range removed {
			fmt.Fprintf(c.App.Writer, "removed %s\n", p)
		}
		if err == nil && len(removed) == 0 {
			fmt.Fprintf(c.App.ErrWriter, "no unfinished pushes in %s\n", dir)
		}
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	from, err := newSenderList(n, splitList(c.StringSlice("from")), c.StringSlice("from-file"), c.App.ErrWriter)
	if err != nil {
		return withExit(exitUsage, err)
	}
	view := newProgressView(c.App.Writer, jsonOutput(c), "receive")
	var refused error
	var hooks sync.WaitGroup
	defer hooks.Wait()
	cfg := push.ReceiveConfig{Node: n, Dir: dir, FromFingerprints: from.fingerprints, AcceptAny: c.Bool("accept-any"), Once: c.Bool("once"),
		Overwrite: c.Bool("overwrite"), SenderTimeout: c.Duration("sender-timeout"),
		OnEvent: func(e push.Event) {
			view.event(e)
			switch e.Kind {
			case push.EventComplete:
				if len(e.Paths) == 0 {
					break // the same content was already in place: nothing new to act on
				}
				// Hooks run beside the engine, which must not wait for them;
				// receive waits for them before it exits.
				hooks.Add(1)
				go func() { defer hooks.Done(); runHook(c, e, dir) }()
			case push.EventRefused:
				refused = e.Err
			}
		}}
	if !jsonOutput(c) {
		fmt.Fprintf(c.App.ErrWriter, "waiting for pushes as %s (%s), writing to %s\n", n.ID.Name, n.ID.Fingerprint(), dir)
	}
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		pres := presence.New(n, protocol.OfferReceive)
		go pres.Run(ctx)
		return push.Receive(ctx, cfg)
	})
	view.done()
	if errors.Is(err, push.ErrSessionFailed) {
		return err
	}
	if err == nil && c.Bool("once") && refused != nil && c.Context.Err() != nil {
		return withExit(exitTrust, refused)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// runHook runs --exec with the placed paths as arguments, never through a
// shell, so nothing from the wire is interpreted.
func runHook(c *cli.Context, e push.Event, dir string) {
	words := strings.Fields(c.String("exec"))
	if len(words) == 0 {
		return
	}
	args := append(words[1:], e.Paths...)
	cmd := exec.CommandContext(c.Context, words[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HERALD_SESSION="+e.Session, "HERALD_SENDER="+e.Sender, "HERALD_DIR="+dir)
	cmd.Stdout, cmd.Stderr = c.App.ErrWriter, c.App.ErrWriter
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "--exec %s: %v\n", words[0], err)
	}
}
