package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/internal/logonce"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// globalFlags are the flags every command shares; they go before the
// command name. Each has an environment variable.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "home", EnvVars: []string{"HERALD_HOME"},
			Usage: "directory holding identity, trust and channels (default ~/.config/herald)"},
		&cli.StringFlag{Name: "iface", EnvVars: []string{"HERALD_IFACE"},
			Usage: "network interface for multicast, e.g. eth0 (default: every multicast-capable interface)"},
		&cli.StringFlag{Name: "group", EnvVars: []string{"HERALD_GROUP"},
			Usage: fmt.Sprintf("control group ADDR:PORT (default %s, or %s with --ipv6)",
				netip.AddrPortFrom(protocol.ControlGroupV4, protocol.DefaultPort),
				netip.AddrPortFrom(protocol.ControlGroupV6, protocol.DefaultPort))},
		&cli.IntFlag{Name: "ttl", EnvVars: []string{"HERALD_TTL"}, Value: 1,
			Usage: "multicast TTL; 1 keeps traffic on the local link"},
		&cli.BoolFlag{Name: "ipv6", EnvVars: []string{"HERALD_IPV6"},
			Usage: "use IPv6 multicast"},
		&cli.StringSliceFlag{Name: "peer", EnvVars: []string{"HERALD_PEER"},
			Usage: "static peer ADDR[:PORT] also reached by unicast, where multicast does not pass (repeatable; comma-separated in the variable)"},
		&cli.BoolFlag{Name: "json", EnvVars: []string{"HERALD_JSON"},
			Usage: "print JSON, one object per line"},
		&cli.StringFlag{Name: "name", EnvVars: []string{"HERALD_NAME"},
			Usage: "your display name when the identity is created (default user@hostname)"},
		&cli.StringFlag{Name: "log-level", EnvVars: []string{"HERALD_LOG_LEVEL"}, Value: "warn",
			Usage: "diagnostics on stderr: debug, info, warn or error"},
	}
}

// jsonFlag is a command's own --json, so it may also follow the command
// name (herald peers --json); jsonOutput honours either.
func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", EnvVars: []string{"HERALD_JSON"}, Usage: "print JSON, one object per line"}
}

// jsonOutput reports whether --json was given globally or to the command.
func jsonOutput(c *cli.Context) bool {
	for _, ctx := range c.Lineage() {
		if ctx.Bool("json") {
			return true
		}
	}
	return false
}

// openNode builds the node every networked command uses from the global
// flags. It loads or creates the identity but does not touch the network
// until the node runs or sends.
func openNode(c *cli.Context) (*node.Node, error) {
	cfg, err := nodeConfig(c)
	if err != nil {
		return nil, err
	}
	return node.Open(cfg)
}

// nodeConfig reads the global flags into a node.Config.
func nodeConfig(c *cli.Context) (node.Config, error) {
	log, err := logger(c)
	if err != nil {
		return node.Config{}, err
	}
	cfg := node.Config{
		Home:   c.String("home"),
		Name:   c.String("name"),
		Iface:  c.String("iface"),
		TTL:    c.Int("ttl"),
		IPv6:   c.Bool("ipv6"),
		Logger: log,
	}
	if cfg.Peers, err = parsePeers(c.StringSlice("peer")); err != nil {
		return node.Config{}, err
	}
	if g := c.String("group"); g != "" {
		if cfg.Group, cfg.Port, err = parseGroup(g); err != nil {
			return node.Config{}, err
		}
	}
	cfg.Network = testNetwork(c)
	return cfg, nil
}

// testNetwork is the simulated network tests and the demo run the
// commands on instead of real UDP, or nil.
func testNetwork(c *cli.Context) multicast.Network {
	return envOf(c).network
}

// parseGroup reads --group: ADDR:PORT, [V6ADDR]:PORT, or an address alone
// (default port).
func parseGroup(s string) (netip.Addr, int, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), int(ap.Port()), nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a, protocol.DefaultPort, nil
	}
	return netip.Addr{}, 0, usageErrorf("--group %q: want ADDR:PORT such as %s:%s",
		s, protocol.ControlGroupV4, strconv.Itoa(protocol.DefaultPort))
}

// logger builds the diagnostics logger from --log-level; it writes to the
// app's stderr.
func logger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usageErrorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	// A warning met by every socket (a clamped buffer) is said once.
	return slog.New(logonce.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level}))), nil
}

// parsePeers reads --peer values: ADDR, ADDR:PORT or [V6ADDR]:PORT; a
// missing port is left zero for the node to fill with the control port.
func parsePeers(values []string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			a, aerr := netip.ParseAddr(strings.Trim(v, "[]"))
			if aerr != nil {
				return nil, usageErrorf("--peer %q: want ADDR[:PORT] such as 198.18.0.2 or 198.18.0.2:%d", v, protocol.DefaultPort)
			}
			ap = netip.AddrPortFrom(a, 0)
		}
		if !ap.Addr().IsValid() || ap.Addr().IsMulticast() || ap.Addr().IsUnspecified() {
			return nil, usageErrorf("--peer %q: want a host's unicast address", v)
		}
		out = append(out, ap)
	}
	return out, nil
}
