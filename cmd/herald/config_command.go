package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/protocol"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "show or change your defaults (config.json in the home directory)",
		Description: `Without a subcommand, prints the value each setting has for this command line
and where it came from: flag, env (environment variable), file (config.json) or
default. A flag wins over its environment variable, which wins over the file.

Keys:
` + configKeysHelp() + `
Examples:
  herald config
  herald config set iface eth0
  herald config set channel class
  herald config set dir ~/lessons
  herald config unset iface
  herald --home /etc/herald config path`,
		Flags:  []cli.Flag{jsonFlag()},
		Action: runConfigShow,
		Subcommands: []*cli.Command{
			{
				Name:      "set",
				Usage:     "store a default in config.json",
				ArgsUsage: "KEY VALUE",
				Action:    runConfigSet,
			},
			{
				Name:      "unset",
				Usage:     "remove a default from config.json",
				ArgsUsage: "KEY",
				Action:    runConfigUnset,
			},
			{
				Name:   "path",
				Usage:  "print where config.json is (it may not exist yet)",
				Flags:  []cli.Flag{jsonFlag()},
				Action: runConfigPath,
			},
		},
	}
}

// configKeysHelp lists the keys and the flags they set, one per line.
func configKeysHelp() string {
	var b strings.Builder
	for _, s := range configSettings() {
		fmt.Fprintf(&b, "  %-10s sets %s\n", s.Key, s.target())
	}
	return b.String()
}

// Where a setting's value came from, strongest first.
const (
	sourceFlag    = "flag"
	sourceEnv     = "env"
	sourceFile    = "file"
	sourceDefault = "default"
)

// configEntry is one line of `herald config` (one object with --json).
type configEntry struct {
	Key      string   `json:"key"`
	Value    any      `json:"value"` // string, number or bool, as in config.json
	Source   string   `json:"source"`
	Flag     string   `json:"flag"`
	Commands []string `json:"commands,omitempty"` // commands whose --flag it is; none: global
	Env      string   `json:"env"`
}

// configOptions is what the config commands take from the command line.
type configOptions struct {
	Path string   // config.json of the home
	Args []string // positional arguments
	JSON bool
	// Given holds the global flags this command line sets (itself or
	// through their environment variables), as flag text by flag name.
	// The config command is exempt from applyGlobalConfig, so a global
	// flag set here was set by the command line or the environment.
	Given map[string]string
}

func configOptionsFrom(c *cli.Context) (configOptions, error) {
	path, err := configPath(c)
	o := configOptions{Path: path, Args: c.Args().Slice(), JSON: jsonOutput(c), Given: map[string]string{}}
	for _, s := range configSettings() {
		// c looks global flags up in the app's context: config has none
		// of those names.
		if len(s.Commands) == 0 && c.IsSet(s.Flag) {
			o.Given[s.Flag] = s.current(c)
		}
	}
	return o, err
}

func runConfigShow(c *cli.Context) error {
	o, err := configOptionsFrom(c)
	if err != nil {
		return err
	}
	if len(o.Args) > 0 {
		return usageErrorf("unknown config subcommand %q: want set, unset or path (see 'herald config --help')", o.Args[0])
	}
	values, err := loadConfig(o.Path)
	if err != nil {
		return err
	}
	entries, err := effectiveConfig(o, values)
	if err != nil {
		return err
	}
	path := o.Path
	if o.JSON {
		for _, e := range entries {
			if err := writeJSON(c.App.Writer, e); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(c.App.ErrWriter, "config file %s does not exist yet; 'herald config set KEY VALUE' creates it\n", path)
	} else {
		fmt.Fprintf(c.App.ErrWriter, "config file %s\n", path)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tVALUE\tFROM")
	for _, e := range entries {
		fmt.Fprintf(w, "%s\t%s\t%s\n", e.Key, describeValue(e, entries), describeSource(e))
	}
	return w.Flush()
}

// describeValue shows a value for people: an empty one says what it means.
func describeValue(e configEntry, all []configEntry) string {
	text := fmt.Sprint(e.Value)
	if text != "" {
		return text
	}
	if e.Key == "group" {
		return defaultGroup(all).String()
	}
	s, _ := configSettingByKey(e.Key)
	return "(" + s.Unset + ")"
}

// defaultGroup is the control group used when none is configured.
func defaultGroup(all []configEntry) netip.AddrPort {
	for _, e := range all {
		if e.Key == "ipv6" && e.Value == true {
			return netip.AddrPortFrom(protocol.ControlGroupV6, protocol.DefaultPort)
		}
	}
	return netip.AddrPortFrom(protocol.ControlGroupV4, protocol.DefaultPort)
}

func describeSource(e configEntry) string {
	switch e.Source {
	case sourceFlag:
		return "flag --" + e.Flag
	case sourceEnv:
		return "env " + e.Env
	}
	return e.Source
}

// effectiveConfig works out every setting's value and source.
func effectiveConfig(o configOptions, values configValues) ([]configEntry, error) {
	var entries []configEntry
	for _, s := range configSettings() {
		def, err := s.definition()
		if err != nil {
			return nil, err
		}
		e := configEntry{Key: s.Key, Flag: s.Flag, Commands: s.Commands, Env: firstEnvVar(def)}
		envText, envSet := os.LookupEnv(e.Env)
		if envSet {
			if norm, err := s.Check(envText); err == nil {
				envText = norm
			}
		}
		text, given := o.Given[s.Flag]
		switch fileText, inFile := values[s.Key]; {
		case given:
			e.Source = sourceFlag
			if envSet && envText == text { // equal either way; the variable is what a script would change
				e.Source = sourceEnv
			}
		case envSet:
			text, e.Source = envText, sourceEnv
		case inFile:
			text, e.Source = fileText, sourceFile
		default:
			text, e.Source = flagDefault(def), sourceDefault
		}
		e.Value = s.typed(text)
		entries = append(entries, e)
	}
	return entries, nil
}

// definition finds the flag s configures in a fresh CLI definition, so
// the default is the built-in one, not one the environment changed.
func (s configSetting) definition() (cli.Flag, error) {
	flags := globalFlags()
	if len(s.Commands) > 0 {
		flags = nil
		for _, cmd := range commands() {
			if cmd.Name == s.Commands[0] {
				flags = cmd.Flags
			}
		}
	}
	for _, f := range flags {
		for _, name := range f.Names() {
			if name == s.Flag {
				return f, nil
			}
		}
	}
	return nil, fmt.Errorf("config key %s: no flag --%s in the CLI definition", s.Key, s.Flag)
}

// current is the flag's value in c as flag text.
func (s configSetting) current(c *cli.Context) string {
	switch s.Kind {
	case kindInt:
		return strconv.Itoa(c.Int(s.Flag))
	case kindBool:
		return strconv.FormatBool(c.Bool(s.Flag))
	}
	return c.String(s.Flag)
}

// flagDefault is a flag's built-in default as flag text.
func flagDefault(f cli.Flag) string {
	switch f := f.(type) {
	case *cli.StringFlag:
		return f.Value
	case *cli.IntFlag:
		return strconv.Itoa(f.Value)
	case *cli.BoolFlag:
		return strconv.FormatBool(f.Value)
	}
	return ""
}

func firstEnvVar(f cli.Flag) string {
	if ev, ok := f.(interface{ GetEnvVars() []string }); ok && len(ev.GetEnvVars()) > 0 {
		return ev.GetEnvVars()[0]
	}
	return ""
}

func runConfigSet(c *cli.Context) error {
	if err := needArgs(c, 2, "KEY VALUE"); err != nil {
		return err
	}
	o, err := configOptionsFrom(c)
	if err != nil {
		return err
	}
	key, value := o.Args[0], o.Args[1]
	s, ok := configSettingByKey(key)
	if !ok {
		return usageErrorf("unknown config key %q (known: %s)", key, configKeyNames())
	}
	text, err := s.Check(value)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("%w: %s: %v", errBadConfig, key, err))
	}
	return updateConfig(o.Path, func(values configValues) { values[key] = text }, func(path string) {
		fmt.Fprintf(c.App.ErrWriter, "%s = %s in %s\n", key, text, path)
		if def, err := s.definition(); err == nil {
			if env := firstEnvVar(def); os.Getenv(env) != "" {
				fmt.Fprintf(c.App.ErrWriter, "note: %s is set in this environment and wins over the file\n", env)
			}
		}
	})
}

func runConfigUnset(c *cli.Context) error {
	if err := needArgs(c, 1, "KEY"); err != nil {
		return err
	}
	o, err := configOptionsFrom(c)
	if err != nil {
		return err
	}
	key := o.Args[0]
	if _, ok := configSettingByKey(key); !ok {
		return usageErrorf("unknown config key %q (known: %s)", key, configKeyNames())
	}
	return updateConfig(o.Path, func(values configValues) { delete(values, key) }, func(path string) {
		fmt.Fprintf(c.App.ErrWriter, "%s removed from %s\n", key, path)
	})
}

// updateConfig loads config.json, changes it and writes it back, then
// calls done with its path.
func updateConfig(path string, change func(configValues), done func(path string)) error {
	values, err := loadConfig(path)
	if err != nil {
		return err
	}
	change(values)
	if err := saveConfig(path, values); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	done(path)
	return nil
}

// configPathJSON is `herald config path --json`.
type configPathJSON struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists"`
}

func runConfigPath(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	o, err := configOptionsFrom(c)
	if err != nil {
		return err
	}
	if o.JSON {
		_, statErr := os.Stat(o.Path)
		return writeJSON(c.App.Writer, configPathJSON{Path: o.Path, Exists: statErr == nil})
	}
	_, err = fmt.Fprintln(c.App.Writer, o.Path)
	return err
}
