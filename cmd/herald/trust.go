package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
)

func trustCommand() *cli.Command {
	return &cli.Command{
		Name:      "trust",
		Usage:     "trust a key: a fingerprint (seen or not yet), a peer, or an identity line",
		ArgsUsage: "FINGERPRINT|NAME | --import LINE|FILE",
		Description: "Trusts a key: its pushes are accepted by `herald receive`, its messages shown\n" +
			"as trusted. Names are labels that any key can claim; the fingerprint is the\n" +
			"identity. Compare it with what its owner's `herald id` shows (in person, on the\n" +
			"board, over the phone).\n\n" +
			"A full fingerprint need not have been seen: it is pinned, and the key is trusted\n" +
			"when it shows up (provision machines before the sender is ever online).\n" +
			"With --import, trusts the public identity line(s) that `herald id --export`\n" +
			"prints, given as the argument or as a file of lines (# comments allowed).\n" +
			"A name or fingerprint prefix works only if exactly one known key matches.\n\n" +
			"Examples:\n" +
			"   herald trust K7QF-2MXA-9D3B-WZ4E-H6TN\n" +
			"   herald trust --import 'herald-id1 AbC...xyz teacher'\n" +
			"   herald trust --import /etc/herald/authorized_senders\n" +
			"   herald --home /tmp/h2 trust K7QF",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "import", EnvVars: []string{"HERALD_IMPORT"},
				Usage: "the argument is a public identity line or a file of them"},
		},
		Action: runTrust,
	}
}

func untrustCommand() *cli.Command {
	return &cli.Command{
		Name:      "untrust",
		Usage:     "stop trusting a key, or forget it",
		ArgsUsage: "FINGERPRINT|NAME",
		Description: "Clears the trusted mark (the key is no longer accepted; a pinned fingerprint\n" +
			"is dropped). With --forget the key is also removed from memory.\n" +
			"Every running herald process sees the change within a second.\n\n" +
			"Examples:\n" +
			"   herald untrust K7QF-2MXA-9D3B-WZ4E-H6TN\n" +
			"   herald untrust --forget alice",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "forget", EnvVars: []string{"HERALD_FORGET"},
				Usage: "remove the key altogether"},
		},
		Action: runUntrust,
	}
}

func runTrust(c *cli.Context) error {
	if c.Bool("import") {
		return runTrustImport(c)
	}
	return changeTrust(c, (*identity.TrustStore).Trust, func(p identity.Peer) string {
		if p.Pending() {
			return fmt.Sprintf("trusted %s; the key is recorded when herald next hears it (until then it is only a pinned fingerprint)\n", p.Fingerprint)
		}
		return fmt.Sprintf("trusted %s (%s)\nThis is the fingerprint its owner's 'herald id' must show; if not, run 'herald untrust %[2]s'.\n",
			safeName(identity.Label(p.Name, p.Fingerprint, true)), p.Fingerprint)
	})
}

func runUntrust(c *cli.Context) error {
	if c.Bool("forget") {
		return changeTrust(c, (*identity.TrustStore).Forget, func(p identity.Peer) string {
			return fmt.Sprintf("forgot %s (%s)\n", safeName(p.Name), p.Fingerprint)
		})
	}
	return changeTrust(c, (*identity.TrustStore).Untrust, func(p identity.Peer) string {
		return fmt.Sprintf("no longer trusting %s (%s)\n", safeName(p.Name), p.Fingerprint)
	})
}

// changeTrust applies one trust store operation to the key the single
// argument names and reports it.
func changeTrust(c *cli.Context, op func(*identity.TrustStore, string) (identity.Peer, error), report func(identity.Peer) string) error {
	if err := needArgs(c, 1, "FINGERPRINT|NAME"); err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	p, err := op(n.Trust, c.Args().First())
	if err != nil {
		hint := "list known keys with 'herald peers', or give the full fingerprint"
		if errors.Is(err, identity.ErrAmbiguous) {
			hint = "several keys match: give the full fingerprint from the board or from 'herald peers'"
		}
		return withExit(exitUsage, fmt.Errorf("%w (%s)", err, hint))
	}
	fmt.Fprint(c.App.Writer, report(p))
	return nil
}

// runTrustImport trusts every identity line of the argument, which is a
// line itself or a file of lines; a file may also list bare fingerprints
// (an authorized senders file), which are pinned.
func runTrustImport(c *cli.Context) error {
	if err := needArgs(c, 1, "LINE|FILE"); err != nil {
		return err
	}
	lines, err := readSenderLines(c.Args().First())
	if err != nil {
		return withExit(exitUsage, err)
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	for _, line := range lines {
		var p identity.Peer
		if identity.IsIdentityLine(line) {
			id, _ := identity.ParseIdentityLine(line) // checked by readSenderLines
			p, err = n.Trust.TrustKey(id.Name, id.SignPub, id.BoxPub)
		} else {
			p, err = n.Trust.Trust(line)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "trusted %s (%s)\n", safeName(cmp.Or(p.Name, "not heard yet")), p.Fingerprint)
	}
	return nil
}

// readSenderLines reads arg as one public identity line or, if it is not
// one, as a file of identity lines and fingerprints (# comments), each
// checked.
func readSenderLines(arg string) ([]string, error) {
	if identity.IsIdentityLine(arg) {
		if _, err := identity.ParseIdentityLine(arg); err != nil {
			return nil, err
		}
		return []string{arg}, nil
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, fmt.Errorf("--import %q is neither an identity line (herald-id1 ...) nor a readable file: %w", arg, err)
	}
	var lines []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := senderFingerprint(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", arg, i+1, err)
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s holds no identity line or fingerprint", arg)
	}
	return lines, nil
}
