package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
)

// configFileName is the file in the home directory that gives flags
// their defaults. Precedence: flag > environment variable > this file >
// built-in default.
const configFileName = "config.json"

// maxConfigFile bounds what is read from config.json: it holds a handful
// of short values.
const maxConfigFile = 64 << 10

// errBadConfig marks a config.json that cannot be used, or a value that
// `herald config set` refuses.
var errBadConfig = errors.New("config")

// valueKind is the JSON type of a key in config.json.
type valueKind int

const (
	kindString valueKind = iota
	kindInt
	kindBool
	kindList // a string of comma-separated items, for a repeatable flag
)

// configSetting binds one key of config.json to the flag it gives a
// default to.
type configSetting struct {
	Key      string
	Flag     string
	Commands []string // commands whose own --Flag it sets; none: a global flag
	Kind     valueKind
	// Check validates a value typed by a person (or read from the file)
	// and returns it in the form the flag takes.
	Check func(string) (string, error)
	// Unset says what an empty value means, for `herald config`.
	Unset string
}

// configSettings is every key config.json may hold, in the order
// `herald config` lists them. listen's --channel is left out on purpose:
// there it narrows what is heard, while the key names where to send.
func configSettings() []configSetting {
	return []configSetting{
		{Key: "iface", Flag: "iface", Check: nonEmpty, Unset: "every multicast-capable interface"},
		{Key: "group", Flag: "group", Check: checkGroup, Unset: "the control group for the address family"},
		{Key: "ttl", Flag: "ttl", Kind: kindInt, Check: checkTTL},
		{Key: "ipv6", Flag: "ipv6", Kind: kindBool, Check: checkBool},
		{Key: "peers", Flag: "peer", Check: checkPeers, Unset: "no static peers: multicast discovery only"},
		{Key: "name", Flag: "name", Check: checkName, Unset: "the identity's name; user@hostname when created"},
		{Key: "channel", Flag: "channel", Commands: []string{"push", "announce", "chat", "ui"}, Check: checkChannel,
			Unset: "your default channel, the first one joined"},
		{Key: "dir", Flag: "dir", Commands: []string{"receive", "ui"}, Check: checkDir},
		{Key: "from", Flag: "from", Kind: kindList, Commands: []string{"receive"}, Check: checkSenders,
			Unset: "trusted keys and channel owners only"},
		{Key: "from_file", Flag: "from-file", Kind: kindList, Commands: []string{"receive"}, Check: nonEmpty,
			Unset: "no authorized senders file"},
		{Key: "rate", Flag: "rate", Commands: []string{"push"}, Check: checkRate},
		{Key: "log_level", Flag: "log-level", Check: checkLogLevel},
	}
}

// configSettingByKey finds the setting named key.
func configSettingByKey(key string) (configSetting, bool) {
	for _, s := range configSettings() {
		if s.Key == key {
			return s, true
		}
	}
	return configSetting{}, false
}

func configKeyNames() string {
	var keys []string
	for _, s := range configSettings() {
		keys = append(keys, s.Key)
	}
	return strings.Join(keys, ", ")
}

func nonEmpty(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errors.New("empty value (use 'herald config unset KEY' to remove a key)")
	}
	return s, nil
}

func checkGroup(s string) (string, error) {
	addr, port, err := parseGroup(s)
	if err != nil {
		return "", err
	}
	if !addr.IsMulticast() {
		return "", fmt.Errorf("%s is not a multicast address (239.0.0.0/8 or ff1x::/16)", addr)
	}
	return fmt.Sprintf("%s:%d", bracketV6(addr.String()), port), nil
}

func bracketV6(addr string) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]"
	}
	return addr
}

// checkPeers takes static peers separated by commas or spaces and
// returns them comma-separated, as --peer accepts them.
func checkPeers(s string) (string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	if _, err := parsePeers(fields); err != nil {
		return "", err
	}
	if len(fields) == 0 {
		return "", errors.New("no address (use 'herald config unset peers' to remove the key)")
	}
	return strings.Join(fields, ","), nil
}

func checkTTL(s string) (string, error) {
	ttl, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || ttl < 1 || ttl > 255 {
		return "", fmt.Errorf("%q: want a whole number from 1 to 255", s)
	}
	return strconv.Itoa(ttl), nil
}

func checkBool(s string) (string, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q: want true or false", s)
	}
	return strconv.FormatBool(b), nil
}

func checkName(s string) (string, error) {
	if err := identity.ValidatePeerName(s); err != nil {
		return "", err
	}
	return s, nil
}

func checkChannel(s string) (string, error) {
	return identity.NormalizeChannelName(s)
}

// checkDir makes the folder absolute, so a service or a shell started
// elsewhere writes to the same place.
func checkDir(s string) (string, error) {
	if _, err := nonEmpty(s); err != nil {
		return "", err
	}
	return filepath.Abs(s)
}

func checkRate(s string) (string, error) {
	if _, err := parseRate(s); err != nil {
		return "", err
	}
	return s, nil
}

func checkLogLevel(s string) (string, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return "", fmt.Errorf("%q: want debug, info, warn or error", s)
	}
	return strings.ToLower(s), nil
}

// configValues maps keys present in config.json to their values in the
// form the flags take ("5", "true", "eth0").
type configValues map[string]string

// configPath is where config.json lives: the home directory given by
// --home or HERALD_HOME, else the default home.
func configPath(c *cli.Context) (string, error) {
	home := c.String("home")
	if home == "" {
		var err error
		if home, err = identity.DefaultHome(); err != nil {
			return "", err
		}
	}
	return filepath.Join(home, configFileName), nil
}

// loadConfigOf reads the config.json of c's home, and says where it is.
func loadConfigOf(c *cli.Context) (string, configValues, error) {
	path, err := configPath(c)
	if err != nil {
		return "", nil, err
	}
	values, err := loadConfig(path)
	return path, values, err
}

// loadConfig reads path. A missing file is an empty configuration; an
// unknown key, a value of the wrong JSON type or an invalid value is an
// error naming the file, so a typo never goes unnoticed.
func loadConfig(path string) (configValues, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return configValues{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(&limitedReader{r: f, left: maxConfigFile})
	err = dec.Decode(&raw)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err != nil {
		return nil, badConfigf("%s: %v (fix it, or delete it and use 'herald config set')", path, err)
	}
	values := configValues{}
	for key, msg := range raw {
		s, ok := configSettingByKey(key)
		if !ok {
			return nil, badConfigf("%s: unknown key %q (known: %s)", path, key, configKeyNames())
		}
		text, err := s.fromJSON(msg)
		if err == nil {
			text, err = s.Check(text)
		}
		if err != nil {
			return nil, badConfigf("%s: %s: %v", path, key, err)
		}
		values[key] = text
	}
	return values, nil
}

// limitedReader fails, rather than truncates, past left bytes.
type limitedReader struct {
	r    io.Reader
	left int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("larger than %d bytes", maxConfigFile)
	}
	n, err := l.r.Read(p[:min(len(p), l.left)])
	l.left -= n
	return n, err
}

func badConfigf(format string, args ...any) error {
	return withExit(exitUsage, fmt.Errorf("%w: %s", errBadConfig, fmt.Sprintf(format, args...)))
}

// fromJSON reads a value of the setting's JSON type as flag text.
func (s configSetting) fromJSON(msg json.RawMessage) (string, error) {
	switch s.Kind {
	case kindInt:
		var n int
		if err := json.Unmarshal(msg, &n); err != nil {
			return "", errors.New("want a number")
		}
		return strconv.Itoa(n), nil
	case kindBool:
		var b bool
		if err := json.Unmarshal(msg, &b); err != nil {
			return "", errors.New("want true or false")
		}
		return strconv.FormatBool(b), nil
	}
	var str string
	if err := json.Unmarshal(msg, &str); err != nil {
		return "", errors.New("want a string")
	}
	return str, nil
}

// typed is flag text as the JSON value of the setting's type.
func (s configSetting) typed(text string) any {
	switch s.Kind {
	case kindInt:
		if n, err := strconv.Atoi(text); err == nil {
			return n
		}
	case kindBool:
		if b, err := strconv.ParseBool(text); err == nil {
			return b
		}
	}
	return text
}

// saveConfig writes values to path atomically (temporary file, rename),
// creating the home directory like identity does (0700).
func saveConfig(path string, values configValues) error {
	obj := map[string]any{}
	for key, text := range values {
		s, _ := configSettingByKey(key)
		obj[key] = s.typed(text)
	}
	data, err := json.MarshalIndent(obj, "", "  ") // maps marshal with sorted keys
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// configExempt are the commands that run without reading config.json:
// config itself (it reports on the file, even a broken one) and those
// that touch no setting.
var configExempt = []string{"config", "completion", "man", "version", "help", "h"}

// installConfig makes app honour config.json: its Before sets global
// flags, and each command owning a configured flag gets a Before that
// sets that flag. A command's existing Before still runs, afterwards.
func installConfig(app *cli.App) {
	app.Before = chainBefore(applyGlobalConfig, app.Before)
	for _, cmd := range app.Commands {
		for _, s := range configSettings() {
			if slices.Contains(s.Commands, cmd.Name) {
				cmd.Before = chainBefore(applyCommandConfig, cmd.Before)
				break
			}
		}
	}
}

func chainBefore(first, then cli.BeforeFunc) cli.BeforeFunc {
	if then == nil {
		return first
	}
	return func(c *cli.Context) error {
		if err := first(c); err != nil {
			return err
		}
		return then(c)
	}
}

// applyGlobalConfig runs once the global flags are parsed: it loads the
// file and fills in the global flags that neither the command line nor
// the environment set.
func applyGlobalConfig(c *cli.Context) error {
	if slices.Contains(configExempt, c.Args().First()) {
		return nil
	}
	_, values, err := loadConfigOf(c)
	if err != nil {
		return err
	}
	envOf(c).config = values // for the commands' own Before
	return applyConfig(c, values, "")
}

// applyCommandConfig fills in the command's own configured flags.
func applyCommandConfig(c *cli.Context) error {
	return applyConfig(c, envOf(c).config, c.Command.Name)
}

// applyConfig sets each flag of command ("" for the global ones) that
// the file has a value for and nothing else set. c.IsSet is true for a
// flag given on the command line and for one whose variable is set.
func applyConfig(c *cli.Context, values configValues, command string) error {
	for _, s := range configSettings() {
		text, ok := values[s.Key]
		if !ok || !s.appliesTo(command) || c.IsSet(s.Flag) {
			continue
		}
		if err := c.Set(s.Flag, text); err != nil {
			return badConfigf("%s = %q: %v", s.Key, text, err)
		}
	}
	return nil
}

// target names the flag s sets, for help texts.
func (s configSetting) target() string {
	if len(s.Commands) == 0 {
		return "the global --" + s.Flag
	}
	return "--" + s.Flag + " of " + strings.Join(s.Commands, ", ")
}

func (s configSetting) appliesTo(command string) bool {
	if command == "" {
		return len(s.Commands) == 0
	}
	return slices.Contains(s.Commands, command)
}
