package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/webui"
)

func uiCommand() *cli.Command {
	return &cli.Command{
		Name:  "ui",
		Usage: "open the room in a browser tab: send, receive, chat, channels",
		Description: `Starts this node and serves a page on 127.0.0.1 and ::1 (a free port unless
--listen says), prints its address with a one-time token and opens the default
browser. The page drives the same engines as the other commands: pushes go out
as 'herald push' sends them, received ones land in --dir as 'herald receive'
places them, messages are kept in the history.

The address works once: it signs that browser in (a session cookie). To open
the page elsewhere, restart herald ui. --listen on an address other than
loopback lets other machines reach the page; anyone who gets the address
can then act as you.

Examples:
  herald ui
  herald ui --dir ~/Lessons --no-open
  herald ui --listen 127.0.0.1:8080`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", EnvVars: []string{"HERALD_UI_LISTEN"}, Usage: "HOST:PORT to serve on (default: loopback, free port)"},
			&cli.BoolFlag{Name: "no-open", EnvVars: []string{"HERALD_UI_NO_OPEN"}, Usage: "do not open a browser"},
			&cli.StringFlag{Name: "channel", EnvVars: []string{"HERALD_CHANNEL"}, Usage: "channel the page sends to by default (default: your default channel)"},
			&cli.StringFlag{Name: "dir", EnvVars: []string{"HERALD_DIR"}, Value: ".", Usage: "folder received pushes are placed in"},
			&cli.BoolFlag{Name: "accept-any", EnvVars: []string{"HERALD_ACCEPT_ANY"}, Usage: "accept pushes from any sender, not only trusted ones"},
		},
		Action: runUI,
	}
}

// uiOptions are the flags of `herald ui`.
type uiOptions struct {
	Channel   string // "" to follow the default channel
	Listen    string
	Dir       string
	AcceptAny bool
	NoOpen    bool
}

func uiOptionsFrom(c *cli.Context) (uiOptions, error) {
	o := uiOptions{Channel: c.String("channel"), Listen: c.String("listen"), Dir: c.String("dir"), AcceptAny: c.Bool("accept-any"),
		NoOpen: c.Bool("no-open")}
	return o, needArgs(c, 0, "no arguments")
}

func runUI(c *cli.Context) error {
	o, err := uiOptionsFrom(c)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	channel := "" // the page follows the node's default channel, which joining may change
	if o.Channel != "" {
		ch, err := pickChannel(n, o.Channel)
		if err != nil {
			return err
		}
		channel = ch.Name
	}
	srv, err := webui.New(webui.Config{Node: n, Listen: o.Listen, Dir: o.Dir, Channel: channel,
		AcceptAny: o.AcceptAny, Logger: n.Logger})
	if errors.Is(err, webui.ErrConfig) {
		return withExit(exitUsage, err)
	}
	if err != nil {
		return err
	}
	if !srv.Loopback() {
		fmt.Fprintln(c.App.ErrWriter, "warning: --listen is not loopback: other machines can reach this page; "+
			"whoever gets the address below can send, read and trust as you")
	}
	fmt.Fprintf(c.App.Writer, "herald ui for %s (%s)\nopen: %s\n(the address works once; Ctrl-C stops)\n", safeText(n.ID.Name), n.ID.Fingerprint(), srv.URL())
	if !o.NoOpen {
		openBrowser(srv.URL())
	}
	err = n.RunWith(c.Context, srv.Run)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// openBrowser starts the desktop's browser on url, if there is one; a
// machine without one still has the printed address.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return
		}
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err == nil {
		go cmd.Wait()
	}
}
