package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/joinqr"
	"github.com/herald-lan/herald/node"
)

// openChannelNote is what herald says whenever traffic would go to the
// open channel; keep the wording plain.
const openChannelNote = "open channel: signed but readable by anyone on the LAN"

func channelCommand() *cli.Command {
	return &cli.Command{
		Name:  "channel",
		Usage: "create, join, list and leave encrypted channels",
		Description: "A channel is a shared secret: pushes and messages sent to it can only be read\n" +
			"by nodes that joined it. The default channel (used without --channel) is the\n" +
			"one created last with `channel new`, else the first joined. Without any\n" +
			"channel herald uses the open channel (" + openChannelNote + ").\n\n" +
			"Examples:\n" +
			"   herald channel new class\n" +
			"   herald channel join class-0123-4567-...\n" +
			"   herald channel join --passphrase class\n" +
			"   herald channel list --codes\n" +
			"   herald channel leave class",
		Subcommands: []*cli.Command{
			{
				Name:      "new",
				Usage:     "create a channel with a random secret and print its join code",
				ArgsUsage: "NAME",
				Description: "NAME is 1-32 characters from a-z, 0-9 and _. Share the printed join code\n" +
					"only with members: whoever has it can read the channel.\n\n" +
					"Example:\n   herald channel new class",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "file", EnvVars: []string{"HERALD_CODE_FILE"},
						Usage: "also write the join code to this file (0600), for `channel join FILE`"},
					&cli.BoolFlag{Name: "qr", EnvVars: []string{"HERALD_QR"},
						Usage: "also print the join code as a QR code in the terminal"},
					jsonFlag(),
				},
				Action: runChannelNew,
			},
			{
				Name:      "join",
				Usage:     "join a channel from its join code, or from a passphrase",
				ArgsUsage: "CODE|FILE | --passphrase NAME",
				Description: "With a join code from `herald channel new` (or a file holding one). The code\n" +
					"names the channel's owner: its pushes and announcements on the channel are\n" +
					"then trusted, with no `herald trust` step. With --passphrase, the secret is\n" +
					"derived from NAME and a passphrase read from the terminal (or the first line of\n" +
					"stdin): everyone typing the same name and passphrase joins the same channel.\n" +
					"A short passphrase can be guessed offline by anyone who records traffic.\n\n" +
					"Examples:\n" +
					"   herald channel join class-0123-4567-...\n" +
					"   herald channel join --passphrase class\n" +
					"   echo 'correct horse battery staple' | herald channel join --passphrase class",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "passphrase", EnvVars: []string{"HERALD_CHANNEL_PASSPHRASE"},
						Usage: "derive the channel from NAME and a passphrase instead of a join code"},
					jsonFlag(),
				},
				Action: runChannelJoin,
			},
			{
				Name:  "list",
				Usage: "list joined channels",
				Description: "Examples:\n" +
					"   herald channel list\n" +
					"   herald channel list --codes",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "codes", EnvVars: []string{"HERALD_CHANNEL_CODES"},
						Usage: "also print join codes (they are secrets: anyone with one can read the channel)"},
					jsonFlag(),
				},
				Action: runChannelList,
			},
			channelOwnersCommand(),
			{
				Name:        "leave",
				Usage:       "forget a channel and its secret",
				ArgsUsage:   "NAME",
				Description: "Example:\n   herald channel leave class",
				Action:      runChannelLeave,
			},
		},
	}
}

// channelJSON is one channel in --json output.
type channelJSON struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	Default  bool   `json:"default"`
	Open     bool   `json:"open,omitempty"`
	JoinCode string `json:"join_code,omitempty"`
}

func channelInfo(n *node.Node, ch identity.Channel, withCode bool) channelJSON {
	id := ch.ID()
	info := channelJSON{Name: ch.Name, ID: hex.EncodeToString(id[:]), Default: n.Channels.Default().Name == ch.Name, Open: ch.IsOpen()}
	if withCode && !ch.IsOpen() {
		info.JoinCode = ch.JoinCode()
	}
	return info
}

// channelOptions are the flags and argument of `herald channel new`,
// `join` and `list`.
type channelOptions struct {
	Arg        string // NAME (new, join --passphrase) or CODE (join)
	File       string // new --file
	QR         bool   // new --qr
	Passphrase bool   // join --passphrase
	Codes      bool   // list --codes
	JSON       bool
}

// channelOptionsFrom reads the options; want names the one argument
// the subcommand takes ("" for none).
func channelOptionsFrom(c *cli.Context, want string) (channelOptions, error) {
	o := channelOptions{Arg: c.Args().First(), File: c.String("file"), QR: c.Bool("qr"), Passphrase: c.Bool("passphrase"),
		Codes: c.Bool("codes"), JSON: jsonOutput(c)}
	if want == "" {
		return o, needArgs(c, 0, "no arguments")
	}
	if o.Passphrase {
		want = "NAME"
	}
	return o, needArgs(c, 1, want)
}

func runChannelNew(c *cli.Context) error {
	o, err := channelOptionsFrom(c, "NAME")
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	ch, err := identity.NewChannel(o.Arg, n.ID.Fingerprint())
	if err != nil {
		return err
	}
	if err := n.Channels.Add(ch); err != nil {
		return err
	}
	if err := n.Channels.MakeDefault(ch.Name); err != nil {
		return err
	}
	info := channelInfo(n, ch, true)
	if o.JSON {
		return writeJSON(c.App.Writer, info)
	}
	fmt.Fprintf(c.App.Writer, "created channel %s%s, owned by you (%s)\njoin code: %s\n", ch.Name, defaultNote(info), n.ID.Fingerprint(), info.JoinCode)
	if file := o.File; file != "" {
		if err := os.WriteFile(file, []byte(info.JoinCode+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "join code written to %s (for scripts: herald channel join %[1]s)\n", file)
	}
	if o.QR {
		if err := joinqr.Terminal(c.App.Writer, info.JoinCode); err != nil {
			fmt.Fprintf(c.App.Writer, "(no QR code: %v)\n", err)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "Give the join code only to members (anyone who has it can read the channel).\n"+
		"They run: herald channel join %s\n"+
		"and then accept your pushes and announcements on %s without any other step.\n", info.JoinCode, ch.Name)
	return nil
}

func runChannelJoin(c *cli.Context) error {
	o, err := channelOptionsFrom(c, "CODE")
	if err != nil {
		return err
	}
	var ch identity.Channel
	if o.Passphrase {
		name, err := identity.NormalizeChannelName(o.Arg)
		if err != nil {
			return err
		}
		pass, err := readPassphrase(c, name)
		if err != nil {
			return err
		}
		ch = identity.ChannelFromPassphrase(name, pass)
	} else {
		if ch, err = readJoinCode(o.Arg); err != nil {
			return withExit(exitUsage, err)
		}
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	if err := n.Channels.Add(ch); err != nil {
		return err
	}
	info := channelInfo(n, ch, false)
	if o.JSON {
		return writeJSON(c.App.Writer, info)
	}
	fmt.Fprintf(c.App.Writer, "joined channel %s%s\n", ch.Name, defaultNote(info))
	if o.Passphrase {
		// A mistyped passphrase is another channel, whose traffic looks
		// like nobody's: the id lets people compare before they wonder.
		fmt.Fprintf(c.App.Writer, "channel id %s: 'herald channel list' shows the same id on every member; another id means another passphrase\n", info.ID)
	}
	for _, fp := range ch.Owners {
		fmt.Fprintf(c.App.Writer, "owner %s: its pushes and announcements on %s are trusted\n", fp, ch.Name)
	}
	return nil
}

func runChannelList(c *cli.Context) error {
	o, err := channelOptionsFrom(c, "")
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	infos := []channelJSON{}
	for _, ch := range n.Channels.List() {
		infos = append(infos, channelInfo(n, ch, o.Codes))
	}
	infos = append(infos, channelInfo(n, identity.OpenChannel(), false))
	if o.JSON {
		for _, info := range infos {
			if err := writeJSON(c.App.Writer, info); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Channels.Default().IsOpen() {
		fmt.Fprintf(c.App.Writer, "%s\n(create a private one with 'herald channel new NAME')\n", openChannelNote)
		return nil
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tID\tDEFAULT\tNOTE")
	for _, info := range infos {
		note := info.JoinCode
		if info.Open {
			note = openChannelNote
		}
		mark := ""
		if info.Default {
			mark = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", info.Name, info.ID, mark, note)
	}
	return w.Flush()
}

func runChannelLeave(c *cli.Context) error {
	if err := needArgs(c, 1, "NAME"); err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	if err := n.Channels.Remove(c.Args().First()); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "left channel %s\n", c.Args().First())
	if def := n.Channels.Default(); def.IsOpen() {
		fmt.Fprintf(c.App.Writer, "now on the %s\n", openChannelNote)
	} else {
		fmt.Fprintf(c.App.Writer, "default channel is now %s\n", def.Name)
	}
	return nil
}

func defaultNote(info channelJSON) string {
	if info.Default {
		return " (default)"
	}
	return ""
}
