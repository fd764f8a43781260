package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// completionScript is `herald completion SHELL`, written to a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "herald."+shell)
	writeFile(t, path, herald(t, "completion", shell).stdout)
	return path
}

// needShell skips the test when shell is not installed.
func needShell(t *testing.T, shell string) string {
	t.Helper()
	path, err := exec.LookPath(shell)
	if err != nil {
		t.Skipf("%s is not installed (apt install %s)", shell, shell)
	}
	return path
}

// bashComplete asks the bash script for completions of each command
// line; the last word of a line is the one being typed.
func bashComplete(t *testing.T, lines [][]string) [][]string {
	t.Helper()
	needShell(t, "bash")
	script := completionScript(t, "bash")
	var driver strings.Builder
	driver.WriteString("source " + shellQuote(script) + "\n")
	driver.WriteString(`q() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _herald; echo "${COMPREPLY[*]}"; }` + "\n")
	for _, words := range lines {
		driver.WriteString("q")
		for _, w := range words {
			driver.WriteString(" " + shellQuote(w))
		}
		driver.WriteString("\n")
	}
	return runCompletionDriver(t, exec.Command("bash", "--norc", "-c", driver.String()), len(lines))
}

// fishComplete asks fish (complete -C) with the fish script loaded.
func fishComplete(t *testing.T, lines [][]string) [][]string {
	t.Helper()
	needShell(t, "fish")
	script := completionScript(t, "fish")
	var driver strings.Builder
	driver.WriteString("source " + fishQuote(script) + "\n")
	for _, words := range lines {
		driver.WriteString("set r (complete -C " + fishQuote(strings.Join(words, " ")) + " | string split -f1 \\t); echo \"$r\"\n")
	}
	return runCompletionDriver(t, exec.Command("fish", "--no-config", "-c", driver.String()), len(lines))
}

// zshComplete sources the zsh script with the completion system's
// functions replaced by ones that print what they were given, since
// completion widgets only run in an interactive zsh.
func zshComplete(t *testing.T, lines [][]string) [][]string {
	t.Helper()
	needShell(t, "zsh")
	script := completionScript(t, "zsh")
	var driver strings.Builder
	driver.WriteString(`compdef() { : }
_describe() { local -a a; a=("${(@P)4}"); print -r -- ${a%%:*} }
compadd() { [[ $1 == -- ]] && shift; print -r -- "$*" }
_files() { print @files }
_directories() { print @dir }
_message() { print @message }
_command_names() { print @command }
`)
	driver.WriteString("source " + shellQuote(script) + "\n")
	driver.WriteString(`q() { words=("$@"); CURRENT=${#words}; _herald }` + "\n")
	for _, words := range lines {
		driver.WriteString("q")
		for _, w := range words {
			driver.WriteString(" " + shellQuote(w))
		}
		driver.WriteString("\n")
	}
	return runCompletionDriver(t, exec.Command("zsh", "-f", "-c", driver.String()), len(lines))
}

func runCompletionDriver(t *testing.T, cmd *exec.Cmd, want int) [][]string {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v\n%s", cmd.Args[0], err, stderr.String())
	}
	rows := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(rows) != want {
		t.Fatalf("%s answered %d lines for %d queries:\n%s", cmd.Args[0], len(rows), want, out)
	}
	var got [][]string
	for _, r := range rows {
		got = append(got, strings.Fields(r))
	}
	return got
}

// completionCases are command lines and what each shell must offer.
// want lists words that must all be offered, exact that nothing else is.
var completionCases = []struct {
	name  string
	words []string
	want  []string
	exact bool
}{
	{"commands", []string{"herald", ""}, []string{"push", "receive", "channel", "config", "completion", "version"}, false},
	{"command prefix", []string{"herald", "ch"}, []string{"channel", "chat"}, true},
	{"subcommands", []string{"herald", "channel", ""}, []string{"new", "join", "list", "owners", "leave"}, true},
	{"command flag prefix", []string{"herald", "push", "--r"}, []string{"--rate"}, true},
	{"global flag prefix", []string{"herald", "--if"}, []string{"--iface"}, true},
	{"interface value", []string{"herald", "--iface", "l"}, []string{"lo"}, true},
	{"log level value", []string{"herald", "--log-level", ""}, []string{"debug", "info", "warn", "error"}, true},
	{"after a global flag's value", []string{"herald", "--home", "/tmp", "pu"}, []string{"push"}, true},
	{"after a command flag's value", []string{"herald", "push", "--channel", "x", "--no"}, []string{"--no-encrypt"}, true},
	{"bool flag takes no value", []string{"herald", "receive", "--once", "--acc"}, []string{"--accept-any"}, true},
	{"config keys", []string{"herald", "config", "set", ""}, []string{"iface", "group", "ttl", "ipv6", "peers", "name", "channel", "dir", "from", "from_file", "rate", "log_level"}, true},
	{"shells", []string{"herald", "completion", ""}, []string{"bash", "zsh", "fish"}, true},
	{"global flags stay global", []string{"herald", "push", "--ttl"}, nil, true},
}

func checkCompletions(t *testing.T, got [][]string) {
	t.Helper()
	for i, tt := range completionCases {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				if !slices.Contains(got[i], w) {
					t.Errorf("%q: offered %q, lacks %q", tt.words, got[i], w)
				}
			}
			if tt.exact && len(got[i]) != len(tt.want) {
				t.Errorf("%q: offered %q, want exactly %q", tt.words, got[i], tt.want)
			}
		})
	}
}

func caseLines() [][]string {
	var lines [][]string
	for _, tt := range completionCases {
		lines = append(lines, tt.words)
	}
	return lines
}

func TestBashCompletion(t *testing.T) {
	checkCompletions(t, bashComplete(t, caseLines()))
	t.Run("folder value", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "afile"), "x")
		mkdir(t, filepath.Join(dir, "asub"))
		got := bashComplete(t, [][]string{{"herald", "receive", "--dir", dir + "/a"}})[0]
		if !slices.Equal(got, []string{dir + "/asub"}) {
			t.Errorf("--dir offered %q, want only the folder %s/asub", got, dir)
		}
	})
}

func TestFishCompletion(t *testing.T) {
	checkCompletions(t, fishComplete(t, caseLines()))
}

func TestZshCompletion(t *testing.T) {
	zsh := needShell(t, "zsh")
	lines := [][]string{
		{"herald", "ch"},
		{"herald", "channel", ""},
		{"herald", "push", "--channel", "x", "--"},
		{"herald", "receive", "--dir", ""},
		{"herald", "--log-level", ""},
		{"herald", "config", "set", ""},
		{"herald", "push", "lesson", ""},
		{"herald", "--ttl", ""},
	}
	got := zshComplete(t, lines)
	// _describe filters by the typed prefix itself; the stub shows all.
	want := []string{
		completionNames(completionTree(newApp(io.Discard, io.Discard))[0].Commands),
		"new join list owners leave",
		"--to --channel --no-encrypt --min-receivers --wait --rate --fec --carousel --give-up --name --json --help -h",
		"@dir",
		"debug info warn error",
		"iface group ttl ipv6 peers name channel dir from from_file rate log_level",
		"@files",
		"@message",
	}
	for i := range lines {
		if strings.Join(got[i], " ") != want[i] {
			t.Errorf("%q: offered %q, want %q", lines[i], got[i], want[i])
		}
	}
	t.Run("registers with compinit", func(t *testing.T) {
		script := completionScript(t, "zsh")
		cmd := exec.Command(zsh, "-f", "-c", "autoload -U compinit && compinit -u -D && source "+shellQuote(script)+" && print -r -- $_comps[herald]")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "_herald" {
			t.Errorf("after sourcing, herald completes with %q (%v), want _herald", out, err)
		}
	})
}

// definitionPath is a command path of the CLI and what may follow it,
// read straight from the cli definition (not from completionTree).
type definitionPath struct {
	words []string
	subs  []string
	flags []string
}

func definitionPaths(app *cli.App) []definitionPath {
	var out []definitionPath
	var walk func(words []string, flags []cli.Flag, cmds []*cli.Command)
	walk = func(words []string, flags []cli.Flag, cmds []*cli.Command) {
		p := definitionPath{words: words}
		for _, f := range append(slices.Clone(flags), cli.HelpFlag) {
			for _, n := range f.Names() {
				p.flags = append(p.flags, map[bool]string{true: "-", false: "--"}[len(n) == 1]+n)
			}
		}
		for _, c := range cmds {
			p.subs = append(p.subs, c.Names()...)
		}
		out = append(out, p)
		for _, c := range cmds {
			walk(append(slices.Clone(words), c.Name), c.Flags, c.Subcommands)
		}
	}
	walk([]string{"herald"}, app.Flags, app.Commands)
	return out
}

// Every command, subcommand and flag of the definition is offered where
// it may be typed, by every shell: the scripts are generated, not kept
// by hand.
func TestCompletionCoversDefinition(t *testing.T) {
	paths := definitionPaths(newApp(io.Discard, io.Discard))
	var lines [][]string
	for _, p := range paths {
		lines = append(lines, append(slices.Clone(p.words), ""), append(slices.Clone(p.words), "-"))
	}
	shells := map[string]func(*testing.T, [][]string) [][]string{"bash": bashComplete, "fish": fishComplete}
	for shell, complete := range shells {
		t.Run(shell, func(t *testing.T) {
			got := complete(t, lines)
			for i, p := range paths {
				for _, w := range p.subs {
					if !slices.Contains(got[2*i], w) {
						t.Errorf("%q: subcommand %s not offered (got %q)", p.words, w, got[2*i])
					}
				}
				for _, f := range p.flags {
					if !slices.Contains(got[2*i+1], f) && strings.HasPrefix(f, "--") {
						t.Errorf("%q: flag %s not offered (got %q)", p.words, f, got[2*i+1])
					}
				}
			}
		})
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		if res := (cliRun{args: args}).exec(t); res.code != exitUsage || !strings.Contains(res.stderr, "bash, zsh, fish") {
			t.Errorf("%q: exit %d, stderr %q; want a usage error listing the shells", args, res.code, res.stderr)
		}
	}
	for _, shell := range completionShells {
		if out := herald(t, "completion", shell).stdout; !strings.Contains(out, "generated by 'herald completion "+shell+"'") {
			t.Errorf("%s script lacks its header:\n%.200s", shell, out)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}
