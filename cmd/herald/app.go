package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// commands is every herald command, in the order help lists them. It is
// a plain list on purpose: each feature adds its own constructor here
// (push, receive, announce, listen, send, chat, history append theirs).
// Constructors return a fresh *cli.Command because the cli package
// mutates commands while running them, and tests build many apps.
func commands() []*cli.Command {
	return []*cli.Command{
		idCommand(),
		peersCommand(),
		doctorCommand(),
		trustCommand(),
		untrustCommand(),
		channelCommand(),
		pushCommand(),
		receiveCommand(),
		announceCommand(),
		listenCommand(),
		sendCommand(),
		chatCommand(),
		uiCommand(),
		historyCommand(),
		configCommand(),
		demoCommand(),
		completionCommand(),
		manCommand(),
		versionCommand(),
	}
}

// newApp builds the herald CLI writing to stdout and stderr. main runs it;
// tests run it with captured writers.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "herald",
		UsageText: "herald [global flags] COMMAND [flags] [arguments]",
		Usage:     "one-to-many files and messages on a LAN over IP multicast, signed and encrypted, no server",
		Description: "herald finds the other herald nodes on the local network, pushes files to all of them at once\n" +
			"with forward error correction, and sends announcements, chat and private messages.\n" +
			"Global flags go before the command: herald --iface eth0 peers --wait 5s",
		Flags:          globalFlags(),
		Commands:       commands(),
		Writer:         stdout,
		ErrWriter:      stderr,
		Suggest:        true,
		HideVersion:    true,                         // `herald version` says more than a flag could
		ExitErrHandler: func(*cli.Context, error) {}, // main maps errors to exit codes; never os.Exit inside Run
		Action:         helpOrUnknown,
	}
	app.OnUsageError = onUsageError
	for _, cmd := range app.Commands {
		guardCommand(cmd)
	}
	installConfig(app)
	installIfaceCheck(app)
	return app
}

// guardCommand makes every mistake on cmd's command line a usage error
// (exit code 2), including an unknown subcommand.
func guardCommand(cmd *cli.Command) {
	if cmd.OnUsageError == nil {
		cmd.OnUsageError = onUsageError
	}
	if len(cmd.Subcommands) > 0 && cmd.Action == nil {
		cmd.Action = helpOrUnknown
	}
	for _, sub := range cmd.Subcommands {
		guardCommand(sub)
	}
}

// onUsageError turns a flag parsing error into a usage error.
func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageErrorf("%v (see '%s --help'; flags go before arguments)", err, helpName(c))
}

// helpOrUnknown is the action of the app and of commands that only group
// subcommands: help when nothing was asked, a usage error otherwise.
func helpOrUnknown(c *cli.Context) error {
	if c.Args().Present() {
		return usageErrorf("unknown command %q (see '%s --help')", c.Args().First(), helpName(c))
	}
	return cli.ShowSubcommandHelp(c)
}

func helpName(c *cli.Context) string {
	if c.Command != nil && c.Command.HelpName != "" {
		return c.Command.HelpName
	}
	return c.App.Name
}

// needArgs checks that exactly want positional arguments were given, and
// that none of them is a flag typed after an argument (urfave/cli stops
// parsing flags at the first argument).
func needArgs(c *cli.Context, want int, names string) error {
	args := c.Args().Slice()
	for _, a := range args {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			return usageErrorf("flag %s must come before the arguments: %s [flags] %s", a, helpName(c), names)
		}
	}
	if len(args) != want {
		return usageErrorf("%s takes %s (got %d argument(s)); see '%s --help'", helpName(c), names, len(args), helpName(c))
	}
	return nil
}
