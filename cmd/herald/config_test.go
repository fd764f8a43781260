package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// configOf returns `herald --home home [global...] config --json` by key.
func configOf(t *testing.T, home string, global ...string) map[string]configEntry {
	t.Helper()
	args := append(append([]string{"--home", home}, global...), "config", "--json")
	entries := jsonLines[configEntry](t, herald(t, args...).stdout)
	byKey := map[string]configEntry{}
	for _, e := range entries {
		byKey[e.Key] = e
	}
	if len(byKey) != len(configSettings()) {
		t.Fatalf("config --json listed %d keys, want %d: %+v", len(byKey), len(configSettings()), entries)
	}
	return byKey
}

func writeConfigFile(t *testing.T, home, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(home, configFileName), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	home := t.TempDir()
	writeConfigFile(t, home, `{"ttl": 3, "iface": "lo", "dir": "/srv/inbox"}`)
	tests := []struct {
		name       string
		env        map[string]string
		global     []string
		key        string
		wantValue  any
		wantSource string
	}{
		{"file over default", nil, nil, "ttl", 3.0, sourceFile},
		{"env over file", map[string]string{"HERALD_TTL": "5"}, nil, "ttl", 5.0, sourceEnv},
		{"flag over env", map[string]string{"HERALD_TTL": "5"}, []string{"--ttl", "9"}, "ttl", 9.0, sourceFlag},
		{"flag over file", nil, []string{"--iface", "eth7"}, "iface", "eth7", sourceFlag},
		{"default when absent", nil, nil, "log_level", "warn", sourceDefault},
		{"bool default", nil, nil, "ipv6", false, sourceDefault},
		{"bool from env", map[string]string{"HERALD_IPV6": "1"}, nil, "ipv6", true, sourceEnv},
		{"command key from file", nil, nil, "dir", "/srv/inbox", sourceFile},
		{"command key from env", map[string]string{"HERALD_DIR": "/tmp/x"}, nil, "dir", "/tmp/x", sourceEnv},
		{"command key default", nil, nil, "rate", "auto", sourceDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := configOf(t, home, tt.global...)[tt.key]
			// JSON numbers decode as float64 into any.
			if got.Value != tt.wantValue || got.Source != tt.wantSource {
				t.Errorf("%s = %v from %s, want %v from %s", tt.key, got.Value, got.Source, tt.wantValue, tt.wantSource)
			}
		})
	}
}

// The file's values reach the commands: a global one (name), and
// command ones (push's --channel, receive's --dir), each losing to the
// environment and to the flag. All of these fail or finish before any
// network traffic.
func TestConfigReachesCommands(t *testing.T) {
	src := filepath.Join(t.TempDir(), "lesson.txt")
	if err := os.WriteFile(src, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	// receive creates a missing --dir, so the usage error to provoke is
	// a --dir that is a file.
	fileDir := src
	tests := []struct {
		name       string
		config     string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"name from file", `{"name": "carol"}`, nil, []string{"id"}, exitOK, "carol", ""},
		{"name env over file", `{"name": "carol"}`, map[string]string{"HERALD_NAME": "erin"}, []string{"id"}, exitOK, "erin", ""},
		{"name flag over file", `{"name": "carol"}`, nil, []string{"--name", "dave", "id"}, exitOK, "dave", ""},
		{"push channel from file", `{"channel": "nosuch"}`, nil, []string{"push", "--no-encrypt", src}, exitUsage, "", `"nosuch"`},
		{"push channel env over file", `{"channel": "nosuch"}`, map[string]string{"HERALD_CHANNEL": "other"}, []string{"push", "--no-encrypt", src}, exitUsage, "", `"other"`},
		{"push channel flag over file", `{"channel": "nosuch"}`, nil, []string{"push", "--channel", "third", "--no-encrypt", src}, exitUsage, "", `"third"`},
		{"receive dir from file", `{"dir": "` + fileDir + `"}`, nil, []string{"receive"}, exitUsage, "", fileDir + `" is a file`},
		{"receive dir flag over file", `{"dir": "` + fileDir + `"}`, nil, []string{"receive", "--dir", fileDir + "/sub"}, exitUsage, "", fileDir + "/sub"},
		{"config not applied to other flags named alike", `{"name": "carol"}`, nil, []string{"push", "--no-encrypt", "-"}, exitUsage, "", "needs --name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			writeConfigFile(t, home, tt.config)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			res := cliRun{args: append([]string{"--home", home}, tt.args...)}.exec(t)
			if res.code != tt.wantCode || !strings.Contains(res.stdout, tt.wantStdout) || !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("exit %d (want %d), stdout %q (want %q), stderr %q (want %q)",
					res.code, tt.wantCode, res.stdout, tt.wantStdout, res.stderr, tt.wantStderr)
			}
		})
	}
}

func TestConfigBadFile(t *testing.T) {
	tests := []struct {
		name, content, wantErr string
	}{
		{"not JSON", `ttl = 3`, "invalid character"},
		{"trailing data", `{"ttl": 3} {}`, "data after the JSON object"},
		{"unknown key", `{"iface": "lo", "ifcae": "eth0"}`, `unknown key "ifcae"`},
		{"wrong type", `{"ttl": "3"}`, "ttl: want a number"},
		{"string wanted", `{"iface": 7}`, "iface: want a string"},
		{"invalid value", `{"ttl": 0}`, "ttl:"},
		{"invalid group", `{"group": "198.18.0.1:4772"}`, "not a multicast address"},
		{"invalid log level", `{"log_level": "loud"}`, "log_level:"},
		{"too large", `{"name": "` + strings.Repeat("x", maxConfigFile) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			writeConfigFile(t, home, tt.content)
			for _, args := range [][]string{{"id"}, {"config"}, {"config", "set", "ttl", "2"}} {
				res := cliRun{args: append([]string{"--home", home}, args...)}.exec(t)
				if res.code != exitUsage || !strings.Contains(res.stderr, tt.wantErr) || !strings.Contains(res.stderr, configFileName) {
					t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s and %q", args, res.code, res.stderr, configFileName, tt.wantErr)
				}
			}
			// What helps fix it still works.
			if got := herald(t, "--home", home, "config", "path").stdout; got != filepath.Join(home, configFileName)+"\n" {
				t.Errorf("config path printed %q", got)
			}
			herald(t, "--home", home, "version")
		})
	}
}

func TestConfigSetAndUnset(t *testing.T) {
	home := t.TempDir()
	sets := []struct {
		key, value string
		want       any // in the file, after JSON decoding
	}{
		{"iface", "eth0", "eth0"},
		{"group", "239.255.80.1", "239.255.80.1:4772"},
		{"group", "[ff12::1]:5000", "[ff12::1]:5000"},
		{"ttl", "4", 4.0},
		{"ipv6", "yes", nil}, // refused below
		{"ipv6", "true", true},
		{"name", "Room 12", "Room 12"},
		{"channel", "Class", "class"},
		{"dir", "inbox", nil}, // made absolute, checked below
		{"rate", "500M", "500M"},
		{"log_level", "DEBUG", "debug"},
	}
	for _, tt := range sets {
		t.Run("set "+tt.key+" "+tt.value, func(t *testing.T) {
			res := cliRun{args: []string{"--home", home, "config", "set", tt.key, tt.value}}.exec(t)
			file := readConfigFile(t, home)
			switch {
			case tt.key == "ipv6" && tt.value == "yes":
				if res.code != exitUsage {
					t.Errorf("set ipv6 yes: exit %d, want 2", res.code)
				}
			case tt.key == "dir":
				if wd, _ := os.Getwd(); file["dir"] != filepath.Join(wd, "inbox") {
					t.Errorf("dir stored as %v, want it absolute", file["dir"])
				}
			case res.code != exitOK || file[tt.key] != tt.want:
				t.Errorf("exit %d; file has %s = %#v, want %#v (stderr %q)", res.code, tt.key, file[tt.key], tt.want, res.stderr)
			}
		})
	}
	t.Run("refused values leave the file alone", func(t *testing.T) {
		before := readConfigFile(t, home)
		for _, args := range [][]string{
			{"ttl", "0"}, {"ttl", "256"}, {"ttl", "x"}, {"group", "10.0.0.1"}, {"group", "nonsense"},
			{"name", "bad\x1bname"}, {"channel", "no spaces"}, {"rate", "fast"}, {"log_level", "loud"},
			{"iface", " "}, {"bogus", "1"},
		} {
			res := cliRun{args: append([]string{"--home", home, "config", "set"}, args...)}.exec(t)
			if res.code != exitUsage {
				t.Errorf("set %q: exit %d, want 2", args, res.code)
			}
		}
		if after := readConfigFile(t, home); len(after) != len(before) || after["ttl"] != before["ttl"] {
			t.Errorf("file changed by refused sets: %v -> %v", before, after)
		}
	})
	t.Run("unset", func(t *testing.T) {
		herald(t, "--home", home, "config", "unset", "ttl")
		if _, ok := readConfigFile(t, home)["ttl"]; ok {
			t.Error("ttl still in the file after unset")
		}
		if got := configOf(t, home)["ttl"]; got.Source != sourceDefault || got.Value != 1.0 {
			t.Errorf("after unset ttl = %v from %s, want the default 1", got.Value, got.Source)
		}
		if res := (cliRun{args: []string{"--home", home, "config", "unset", "bogus"}}).exec(t); res.code != exitUsage {
			t.Errorf("unset bogus: exit %d, want 2", res.code)
		}
	})
	t.Run("env note", func(t *testing.T) {
		t.Setenv("HERALD_TTL", "7")
		if res := herald(t, "--home", home, "config", "set", "ttl", "2"); !strings.Contains(res.stderr, "HERALD_TTL is set") {
			t.Errorf("no note that the variable wins: %q", res.stderr)
		}
	})
}

func readConfigFile(t *testing.T, home string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, configFileName))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("config.json is not JSON: %v\n%s", err, data)
	}
	return m
}

func TestConfigShowText(t *testing.T) {
	home := t.TempDir()
	res := herald(t, "--home", home, "config")
	if !strings.Contains(res.stderr, "does not exist yet") {
		t.Errorf("missing file not mentioned: %q", res.stderr)
	}
	herald(t, "--home", home, "config", "set", "iface", "lo")
	t.Setenv("HERALD_TTL", "6")
	out := herald(t, "--home", home, "--log-level", "info", "config").stdout
	for _, want := range []string{"iface      lo", "file", "env HERALD_TTL", "flag --log-level", "239.255.72.1:4772", "(your default channel"} {
		if !strings.Contains(out, want) {
			t.Errorf("config output lacks %q:\n%s", want, out)
		}
	}
	if res := (cliRun{args: []string{"--home", home, "config", "bogus"}}).exec(t); res.code != exitUsage {
		t.Errorf("config bogus: exit %d, want 2", res.code)
	}
}

// Every key names a flag of the right type in every command it claims,
// so renaming a flag cannot silently orphan a key.
func TestConfigSettingsMatchFlags(t *testing.T) {
	kinds := map[valueKind]func(cli.Flag) bool{
		kindString: func(f cli.Flag) bool {
			_, ok := f.(*cli.StringFlag)
			_, list := f.(*cli.StringSliceFlag) // comma-separated in the file
			return ok || list
		},
		kindInt:  func(f cli.Flag) bool { _, ok := f.(*cli.IntFlag); return ok },
		kindBool: func(f cli.Flag) bool { _, ok := f.(*cli.BoolFlag); return ok },
		kindList: func(f cli.Flag) bool { _, ok := f.(*cli.StringSliceFlag); return ok },
	}
	byName := map[string]*cli.Command{}
	for _, cmd := range commands() {
		byName[cmd.Name] = cmd
	}
	for _, s := range configSettings() {
		t.Run(s.Key, func(t *testing.T) {
			lists := map[string][]cli.Flag{"global": globalFlags()}
			if len(s.Commands) > 0 {
				lists = map[string][]cli.Flag{}
				for _, name := range s.Commands {
					if byName[name] == nil {
						t.Fatalf("no command %q", name)
					}
					lists[name] = byName[name].Flags
				}
			}
			for where, flags := range lists {
				var found cli.Flag
				for _, f := range flags {
					if f.Names()[0] == s.Flag {
						found = f
					}
				}
				if found == nil || !kinds[s.Kind](found) {
					t.Errorf("%s: flag --%s is %T, want the key's kind %d", where, s.Flag, found, s.Kind)
				}
			}
			if _, err := s.Check(flagDefault(mustDefinition(t, s))); err != nil && s.Unset == "" {
				t.Errorf("the built-in default fails the key's own check: %v", err)
			}
		})
	}
}

func mustDefinition(t *testing.T, s configSetting) cli.Flag {
	t.Helper()
	f, err := s.definition()
	if err != nil {
		t.Fatal(err)
	}
	return f
}
