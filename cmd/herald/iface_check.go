package main

import (
	"fmt"
	"net"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/multicast"
)

// networkCommands are the commands that join the multicast group; they
// check --iface before saying anything else.
var networkCommands = []string{"push", "receive", "announce", "listen", "send", "chat", "peers", "ui"}

// installIfaceCheck gives each network command a Before that checks
// --iface, so a typo is reported at once (exit 3) rather than after a
// banner such as "waiting for pushes", and the loopback interface is
// named for what it is.
func installIfaceCheck(app *cli.App) {
	for _, cmd := range app.Commands {
		if slices.Contains(networkCommands, cmd.Name) {
			cmd.Before = chainBefore(checkIface, cmd.Before)
		}
	}
}

func checkIface(c *cli.Context) error {
	name := c.String("iface")
	if name == "" || testNetwork(c) != nil {
		return nil
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return withExit(exitNetwork, fmt.Errorf("--iface %s: %w", name, multicast.ErrInterfaceNotFound))
	}
	if ifi.Flags&net.FlagUp == 0 {
		return withExit(exitNetwork, fmt.Errorf("--iface %s: the interface is down: %w", name, multicast.ErrNoMulticastInterface))
	}
	if ifi.Flags&net.FlagLoopback != 0 {
		fmt.Fprintf(c.App.ErrWriter, "warning: --iface %s is the loopback interface: only herald processes on this machine can hear you, and you them\n", name)
	}
	return nil
}
