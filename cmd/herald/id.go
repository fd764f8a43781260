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
			"With the global --name it renames the identity (names are labels; your\n" +
			"fingerprint is what others trust).\n" +
			"--export prints one line others can trust offline (`herald trust --import`),\n" +
			"or put in an admin's authorized senders file (`herald receive --from-file`).\n\n" +
			"Examples:\n" +
			"   herald id\n" +
			"   herald id --export > teacher.id\n" +
			"   herald --name alice id\n" +
			"   herald --home /tmp/h2 id --json",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "export", EnvVars: []string{"HERALD_EXPORT"},
				Usage: "print your public identity line (keys and name, signed) for `herald trust --import`"},
			jsonFlag(),
		},
		Action: runID,
	}
}

// idJSON is `herald id --json`.
type idJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	KeyID       string `json:"key_id"`
	PublicLine  string `json:"public_line"`
	Home        string `json:"home"`
	Created     bool   `json:"created"`
}

// idOptions are the flags of `herald id`.
type idOptions struct {
	Name   string // the global --name: a new name for an existing identity
	Export bool
	JSON   bool
}

func idOptionsFrom(c *cli.Context) (idOptions, error) {
	return idOptions{Name: c.String("name"), Export: c.Bool("export"), JSON: jsonOutput(c)}, needArgs(c, 0, "no arguments")
}

func runID(c *cli.Context) error {
	o, err := idOptionsFrom(c)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	if name := o.Name; name != "" && name != n.ID.Name && !n.Created {
		old := n.ID.Name
		n.ID.Name = name
		if err := n.ID.Save(n.Home); err != nil {
			return err
		}
		fmt.Fprintf(c.App.ErrWriter, "renamed %q to %q; peers see the new name with your next beacon\n", old, name)
	}
	out := idJSON{
		Name:        n.ID.Name,
		Fingerprint: n.ID.Fingerprint(),
		KeyID:       n.ID.KeyID().String(),
		PublicLine:  n.ID.PublicLine(),
		Home:        n.Home,
		Created:     n.Created,
	}
	if o.JSON {
		return writeJSON(c.App.Writer, out)
	}
	if o.Export {
		_, err := fmt.Fprintln(c.App.Writer, out.PublicLine)
		return err
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
