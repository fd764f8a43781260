package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
)

func trustCommand() *cli.Command {
	return &cli.Command{
		Name:      "trust",
		Usage:     "trust a peer's key after comparing fingerprints",
		ArgsUsage: "FINGERPRINT|NAME",
		Description: "Marks a peer in the trust store as trusted. First compare the fingerprint\n" +
			"that `herald peers` shows with the one its owner reads from `herald id`,\n" +
			"in person or over the phone. A fingerprint (or a unique prefix of 4+ characters)\n" +
			"is safer than a name. The peer must have been seen: run `herald peers` first.\n\n" +
			"Examples:\n" +
			"   herald trust K7QF-2MXA-9D3B-WZ4E-H6TN\n" +
			"   herald trust alice\n" +
			"   herald --home /tmp/h2 trust K7QF",
		Action: runTrust,
	}
}

func untrustCommand() *cli.Command {
	return &cli.Command{
		Name:      "untrust",
		Usage:     "stop trusting a peer, or forget its key",
		ArgsUsage: "FINGERPRINT|NAME",
		Description: "Clears the trusted mark; the name stays bound to the key. With --forget the\n" +
			"key is removed and the name released, which is how you accept a peer's new\n" +
			"key after a \"key changed\" warning (then run `herald peers` and `herald trust`).\n\n" +
			"Examples:\n" +
			"   herald untrust alice\n" +
			"   herald untrust --forget alice",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "forget", EnvVars: []string{"HERALD_FORGET"},
				Usage: "remove the key and release the name"},
		},
		Action: runUntrust,
	}
}

func runTrust(c *cli.Context) error {
	return changeTrust(c, (*identity.TrustStore).Trust,
		"trusted %s (%s)\nThis is the fingerprint its owner's 'herald id' must show; if not, run 'herald untrust --forget %[1]s'.\n")
}

func runUntrust(c *cli.Context) error {
	if c.Bool("forget") {
		return changeTrust(c, (*identity.TrustStore).Forget,
			"forgot %s (%s); the next key seen with that name will be recorded as new\n")
	}
	return changeTrust(c, (*identity.TrustStore).Untrust,
		"no longer trusting %s (%s); the name stays bound to this key\n")
}

// changeTrust applies one trust store operation to the peer the single
// argument names and reports it with format (name, fingerprint).
func changeTrust(c *cli.Context, op func(*identity.TrustStore, string) (identity.Peer, error), format string) error {
	if err := needArgs(c, 1, "FINGERPRINT|NAME"); err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	p, err := op(n.Trust, c.Args().First())
	if err != nil {
		return fmt.Errorf("%w (list known peers with 'herald peers --known')", err)
	}
	fmt.Fprintf(c.App.Writer, format, safeName(p.Name), p.Fingerprint)
	return nil
}
