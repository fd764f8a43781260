package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

func idCommand() *cli.Command {
	return &cli.Command{
		Name:  "id",
		Usage: "create or show your identity (name, fingerprint, key id)",
		Description: "Loads the identity from the home directory, creating one on first use.\n" +
			"Read your fingerprint to others out of band: they compare it with what\n" +
			"`herald peers` shows before they `herald trust` you.\n" +
			"With the global --name it renames the identity; peers that know you\n" +
			"keep the name they first saw (names are bound to keys on first use).\n\n" +
			"Examples:\n" +
			"   herald id\n" +
			"   herald --name alice id\n" +
			"   herald --home /tmp/h2 id --json",
		Flags:  []cli.Flag{jsonFlag()},
		Action: runID,
	}
}

// idJSON is `herald id --json`.
type idJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	KeyID       string `json:"key_id"`
	Home        string `json:"home"`
	Created     bool   `json:"created"`
}

func runID(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	if name := c.String("name"); name != "" && name != n.ID.Name && !n.Created {
		old := n.ID.Name
		n.ID.Name = name
		if err := n.ID.Save(n.Home); err != nil {
			return err
		}
		fmt.Fprintf(c.App.ErrWriter, "renamed %q to %q; peers that already know you keep showing %q\n", old, name, old)
	}
	out := idJSON{
		Name:        n.ID.Name,
		Fingerprint: n.ID.Fingerprint(),
		KeyID:       n.ID.KeyID().String(),
		Home:        n.Home,
		Created:     n.Created,
	}
	if jsonOutput(c) {
		return writeJSON(c.App.Writer, out)
	}
	if out.Created {
		fmt.Fprintf(c.App.ErrWriter, "created a new identity in %s\n", out.Home)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "name:\t%s\n", out.Name)
	fmt.Fprintf(w, "fingerprint:\t%s\n", out.Fingerprint)
	fmt.Fprintf(w, "key id:\t%s\n", out.KeyID)
	fmt.Fprintf(w, "home:\t%s\n", out.Home)
	return w.Flush()
}
