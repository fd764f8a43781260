// Command herald sends files and messages to many machines on a LAN at
// once over IP multicast. See README.md, or run `herald --help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	stopProfile := startProfile()
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// run executes one command line and returns its exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	app.Reader = stdin
	return runApp(ctx, app, args)
}

// runApp runs app on args, prints any error on its stderr and returns the
// exit code. Tests call it with apps they prepared.
func runApp(ctx context.Context, app *cli.App, args []string) int {
	err := app.RunContext(withRunEnv(ctx), args)
	if err != nil {
		fmt.Fprintf(app.ErrWriter, "herald: %v\n", err)
		if h := hintFor(err); h != "" {
			fmt.Fprintf(app.ErrWriter, "  hint: %s\n", h)
		}
	}
	return exitCode(err)
}
