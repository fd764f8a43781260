package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/internal/group"
	"github.com/herald-lan/herald/internal/hook"
	"github.com/herald-lan/herald/internal/lockfile"
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

--exec CMD runs after each completed push, as in listen: CMD is split into words like
a shell would (quotes, backslashes) but never run by a shell; the placed paths are
appended as arguments, and HERALD_SESSION, HERALD_SENDER and HERALD_DIR are set in
its environment. Commands run one at a time, at most 30s each, at most 64 waiting.
--dir is created if it does not exist. One receive runs per identity (home): a
second one says which process holds <home>/receive.lock.

A push is written into a hidden staging folder, DIR/.herald-<id>, and moved
into place when every block verified. If it stops early (sender gone, disk
full, Ctrl-C) the folder stays so the next push of the same content resumes;
folders untouched for 7 days are removed when receive starts, and --clean
removes them all now. A re-push of a name the same sender placed replaces it
(the old copy is kept as "NAME (previous)"); a name from anyone else gets
"NAME (1)". The same content from the same sender is never placed twice.

Exit codes (with --once): 0 complete, 1 failed or another receive holds the lock,
2 --dir is a file, 3 --iface unknown, 4 refused by trust settings.

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

// receiveOptions is everything `herald receive` was asked to do, read
// from its flags in one place.
type receiveOptions struct {
	Dir           string
	From          []string // --from: names or fingerprints
	FromFiles     []string // --from-file: files of fingerprints or identity lines
	AcceptAny     bool
	Once          bool
	Overwrite     bool
	Clean         bool     // remove unfinished pushes' staging folders and exit
	Exec          []string // --exec split into words; nil: none
	SenderTimeout time.Duration
	JSON          bool
}

func receiveOptionsFrom(c *cli.Context) (receiveOptions, error) {
	o := receiveOptions{Dir: c.String("dir"), From: splitList(c.StringSlice("from")), FromFiles: c.StringSlice("from-file"), AcceptAny: c.Bool("accept-any"),
		Once: c.Bool("once"), Overwrite: c.Bool("overwrite"), Clean: c.Bool("clean"), SenderTimeout: c.Duration("sender-timeout"), JSON: jsonOutput(c)}
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return o, err
	}
	var err error
	o.Exec, err = execWords(c.String("exec"))
	return o, err
}

// execWords splits --exec like a POSIX shell would (listen and receive
// share this meaning).
func execWords(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	words, err := hook.Split(s)
	if err == nil && len(words) == 0 {
		err = errors.New("no command")
	}
	if err != nil {
		return nil, usageErrorf("--exec %q: %v; quote like a shell would", s, err)
	}
	return words, nil
}

// receiveLockName is the file in the home that one receive holds, so a
// second receive on the same identity does not write a second copy.
const receiveLockName = "receive.lock"

func runReceive(c *cli.Context) error {
	o, err := receiveOptionsFrom(c)
	if err != nil {
		return err
	}
	if o.Clean {
		removed, err := push.CleanStaging(o.Dir, 0, time.Now())
		for _, p := range removed {
			fmt.Fprintf(c.App.Writer, "removed %s\n", safeLine(p))
		}
		if err == nil && len(removed) == 0 {
			fmt.Fprintf(c.App.ErrWriter, "no unfinished pushes in %s\n", o.Dir)
		}
		return err
	}
	if err := ensureDir(c, o.Dir); err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	lock, err := lockfile.Acquire(filepath.Join(n.Home, receiveLockName))
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		who := "another process"
		if held.PID != 0 {
			who = fmt.Sprintf("process %d", held.PID)
		}
		return fmt.Errorf("%s already runs 'herald receive' on this identity (%s holds %s); stop it first, or give this one its own --home", who, who, held.Path)
	}
	if err != nil {
		return err
	}
	defer lock.Release()
	from, err := newSenderList(n, o.From, o.FromFiles, c.App.ErrWriter)
	if err != nil {
		return withExit(exitUsage, err)
	}
	events := newEventPrinter(c.App.Writer, o.JSON, false)
	hooks := hook.NewRunner(c.App.ErrWriter)
	defer hooks.Close()
	var refused error
	var mu sync.Mutex
	cfg := push.ReceiveConfig{Node: n, Dir: o.Dir, FromFingerprints: from.fingerprints, AcceptAny: o.AcceptAny, Once: o.Once,
		Overwrite: o.Overwrite, SenderTimeout: o.SenderTimeout,
		OnEvent: func(e push.Event) {
			events.event(e)
			switch e.Kind {
			case push.EventComplete:
				if len(e.Paths) == 0 {
					break // the same content was already in place: nothing new to act on
				}
				recordPushReceived(n, c.App.ErrWriter, e)
				if o.Exec != nil {
					hooks.Run(receiveHook(o, e))
				}
			case push.EventFailed:
				recordPushReceived(n, c.App.ErrWriter, e)
			case push.EventRefused:
				mu.Lock()
				refused = e.Err
				mu.Unlock()
			}
		}}
	err = n.RunWith(c.Context, func(ctx context.Context) error {
		pres := presence.New(n, protocol.OfferReceive)
		return group.Run(ctx, pres.Run, func(ctx context.Context) error {
			// The banner waits for the network: a wrong --iface is
			// reported instead of it, not after it.
			if !o.JSON {
				fmt.Fprintf(c.App.ErrWriter, "waiting for pushes as %s (%s), writing to %s%s\n", n.ID.Name, n.ID.Fingerprint(), o.Dir, stopHint(c))
			}
			return push.Receive(ctx, cfg)
		})
	})
	events.done()
	if errors.Is(err, push.ErrSessionFailed) {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if err == nil && o.Once && refused != nil && c.Context.Err() != nil {
		return withExit(exitTrust, refused)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// ensureDir makes --dir if it does not exist yet, saying so.
func ensureDir(c *cli.Context, dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return usageErrorf("--dir %q does not exist and cannot be created: %v", dir, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "created %s\n", dir)
		return nil
	case err != nil:
		return usageErrorf("--dir %q: %v", dir, err)
	case !st.IsDir():
		return usageErrorf("--dir %q is a file, not a folder", dir)
	}
	return nil
}

// receiveHook is --exec for one completed push: the words of the flag,
// the placed paths appended, the push described in the environment.
func receiveHook(o receiveOptions, e push.Event) hook.Command {
	return hook.Command{What: "--exec", Args: append(slices.Clone(o.Exec), e.Paths...), Dir: o.Dir,
		Env: []string{"HERALD_SESSION=" + e.Session, "HERALD_SENDER=" + e.Sender, "HERALD_DIR=" + o.Dir}}
}
