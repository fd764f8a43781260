package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/herald.1 from the CLI definition")

// manPagePath is the committed man page.
var manPagePath = filepath.Join("..", "..", "docs", "herald.1")

func TestManPageUpToDate(t *testing.T) {
	page := herald(t, "man").stdout
	if *updateDocs {
		if err := os.WriteFile(manPagePath, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(manPagePath)
	if err != nil {
		t.Fatalf("%v (create it with: go generate ./cmd/herald)", err)
	}
	if string(committed) != page {
		t.Errorf("docs/herald.1 differs from 'herald man': the CLI changed. Regenerate it with\n" +
			"  go generate ./cmd/herald   (or go test ./cmd/herald -run TestManPageUpToDate -update-docs)")
	}
}

// The page depends on the definition only, not on the variables of the
// shell that generated it.
func TestManPageIgnoresEnvironment(t *testing.T) {
	clean := herald(t, "man").stdout
	t.Setenv("HERALD_TTL", "9")
	t.Setenv("HERALD_LOG_LEVEL", "debug")
	t.Setenv("HERALD_RATE", "1G")
	if herald(t, "man").stdout != clean {
		t.Error("'herald man' output changes with HERALD_* variables")
	}
}

// manText renders the page to plain text with groff, failing on any
// warning groff reports.
func manText(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed (apt install groff-base)")
	}
	page := herald(t, "man").stdout
	lint := exec.Command("groff", "-man", "-ww", "-z")
	lint.Stdin = strings.NewReader(page)
	if out, err := lint.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("groff warns about the page: %v\n%s", err, out)
	}
	render := exec.Command("groff", "-man", "-Tutf8", "-P-cbou", "-rLL=200n")
	render.Stdin = strings.NewReader(page)
	out, err := render.Output()
	if err != nil {
		t.Fatalf("groff: %v", err)
	}
	return string(out)
}

// Every command line, flag, variable, config key and exit code of the
// definition is on the rendered page, typed as a user would type it.
func TestManPageCoversDefinition(t *testing.T) {
	text := manText(t)
	app := newApp(io.Discard, io.Discard)
	var want []string
	for _, p := range definitionPaths(app) {
		want = append(want, strings.Join(p.words, " "))
		want = append(want, p.flags...)
	}
	var envs func(flags []cli.Flag, cmds []*cli.Command)
	envs = func(flags []cli.Flag, cmds []*cli.Command) {
		for _, f := range flags {
			if doc, ok := f.(cli.DocGenerationFlag); ok {
				want = append(want, doc.GetEnvVars()...)
			}
		}
		for _, c := range cmds {
			envs(c.Flags, c.Subcommands)
		}
	}
	envs(app.Flags, app.Commands)
	for _, s := range configSettings() {
		want = append(want, s.Key+" (")
	}
	for _, e := range exitCodeDocs {
		want = append(want, e.Meaning)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("rendered man page lacks %q", w)
		}
	}
	if strings.ContainsRune(text, '\u2010') || strings.ContainsRune(text, '\u2212') {
		t.Error("rendered page has Unicode hyphens or minus signs: flags would not paste into a shell")
	}
	for _, example := range []string{"   herald push --to alice,bob lesson/\n", "   tar c dir | herald push --no-encrypt --name dir.tar -\n"} {
		if !strings.Contains(text, example) {
			t.Errorf("example line %q not kept on a line of its own", example)
		}
	}
}

func TestRoffText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"--iface", `\-\-iface`},
		{`C:\path`, `C:\epath`},
		{".starts with a dot", `\&.starts with a dot`},
		{"'quote first", `\&'quote first`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := roffText(tt.in); got != tt.want {
				t.Errorf("roffText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// README's exit code table and the man page's say the same.
func TestReadmeExitCodesMatch(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \| (.+?) \|$`).FindAllStringSubmatch(string(readme), -1)
	got := map[int]string{}
	for _, r := range rows {
		code, _ := strconv.Atoi(r[1])
		got[code] = strings.ReplaceAll(r[2], "`", "")
	}
	if len(got) != len(exitCodeDocs) {
		t.Errorf("README lists %d exit codes, the man page %d", len(got), len(exitCodeDocs))
	}
	for _, e := range exitCodeDocs {
		if got[e.Code] != e.Meaning {
			t.Errorf("exit %d: README says %q, man page %q", e.Code, got[e.Code], e.Meaning)
		}
	}
}
