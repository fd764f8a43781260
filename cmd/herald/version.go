package main

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/protocol"
)

// version is set at release builds: go build -ldflags "-X main.version=v1.2.3".
var version = ""

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print version, commit, protocol and Go version",
		Description: "Examples:\n" +
			"   herald version\n" +
			"   herald version --json",
		Flags:  []cli.Flag{jsonFlag()},
		Action: runVersion,
	}
}

type versionJSON struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Protocol int    `json:"protocol"`
	Go       string `json:"go"`
}

// buildVersion reads what the linker and the Go toolchain recorded.
func buildVersion() versionJSON {
	v := versionJSON{Version: version, Protocol: protocol.Version, Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		v.Version = cmp.Or(v.Version, "devel")
		return v
	}
	if info.Main.Version != "(devel)" {
		v.Version = cmp.Or(v.Version, info.Main.Version)
	}
	v.Version = cmp.Or(v.Version, "devel")
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func runVersion(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	v := buildVersion()
	if jsonOutput(c) {
		return writeJSON(c.App.Writer, v)
	}
	commit := cmp.Or(v.Commit, "unknown")
	if v.Modified {
		commit += " (modified)"
	}
	if v.Time != "" {
		commit += " " + v.Time
	}
	fmt.Fprintf(c.App.Writer, "herald %s\ncommit   %s\nprotocol %d\ngo       %s\n", v.Version, commit, v.Protocol, v.Go)
	return nil
}
