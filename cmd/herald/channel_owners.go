package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
)

func channelOwnersCommand() *cli.Command {
	return &cli.Command{
		Name:  "owners",
		Usage: "list, add or remove a channel's owners (whose pushes members accept)",
		Description: "A channel's owners are the keys whose pushes and announcements on it are\n" +
			"trusted by its members. `channel new` makes you the owner; the join code names\n" +
			"that owner. Owners are recorded per node: run `owners add` on each member (or\n" +
			"give them the second owner's join code) for a second teacher.\n\n" +
			"Examples:\n" +
			"   herald channel owners class\n" +
			"   herald channel owners add class K7QF-2MXA-9D3B-WZ4E-H6TN\n" +
			"   herald channel owners remove class K7QF-2MXA-9D3B-WZ4E-H6TN",
		ArgsUsage: "CHANNEL",
		Action:    runChannelOwnersList,
		Subcommands: []*cli.Command{
			{Name: "add", ArgsUsage: "CHANNEL FINGERPRINT", Usage: "make a key an owner of the channel",
				Action: func(c *cli.Context) error { return changeOwner(c, true) }},
			{Name: "remove", ArgsUsage: "CHANNEL FINGERPRINT", Usage: "stop treating a key as an owner",
				Action: func(c *cli.Context) error { return changeOwner(c, false) }},
		},
	}
}

func runChannelOwnersList(c *cli.Context) error {
	if err := needArgs(c, 1, "CHANNEL"); err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	ch, ok := n.Channels.Get(c.Args().First())
	if !ok || ch.IsOpen() {
		return withExit(exitUsage, fmt.Errorf("%w: %q (see 'herald channel list')", identity.ErrUnknownChannel, c.Args().First()))
	}
	if len(ch.Owners) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "channel %s has no owner recorded here\n", ch.Name)
	}
	for _, fp := range ch.Owners {
		label := fp
		if p, ok := n.Trust.LookupFingerprint(fp); ok && p.Name != "" {
			label = fp + "  " + safeName(p.Name)
		}
		if fp == n.ID.Fingerprint() {
			label = fp + "  (you)"
		}
		fmt.Fprintln(c.App.Writer, label)
	}
	return nil
}

func changeOwner(c *cli.Context, add bool) error {
	if err := needArgs(c, 2, "CHANNEL FINGERPRINT"); err != nil {
		return err
	}
	name, ref := c.Args().Get(0), c.Args().Get(1)
	fp, err := senderFingerprint(ref)
	if err != nil {
		return withExit(exitUsage, err)
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	op, verb := n.Channels.AddOwner, "is now an owner of"
	if !add {
		op, verb = n.Channels.RemoveOwner, "is no longer an owner of"
	}
	if err := op(name, fp); err != nil {
		return withExit(exitUsage, err)
	}
	fmt.Fprintf(c.App.Writer, "%s %s %s\n", fp, verb, strings.ToLower(name))
	return nil
}

// readJoinCode reads a join code given as the argument, or from the file
// it names (`channel new --file`).
func readJoinCode(arg string) (identity.Channel, error) {
	ch, err := identity.ParseJoinCode(arg)
	if err == nil {
		return ch, nil
	}
	data, ferr := os.ReadFile(arg)
	if errors.Is(ferr, fs.ErrNotExist) || (ferr == nil && len(data) > 4096) {
		return identity.Channel{}, err
	}
	if ferr != nil {
		return identity.Channel{}, fmt.Errorf("%w (and cannot read it as a file: %v)", err, ferr)
	}
	return identity.ParseJoinCode(strings.TrimSpace(string(data)))
}
