package main

import (
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/urfave/cli/v2"
)

// completionShells are the shells `herald completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: strings.Join(completionShells, "|"),
		Description: `Prints a script that completes herald's commands, subcommands, flags, and the
values some flags take (folders, interfaces, log levels), generated from this
herald's own command definitions. Regenerate it after upgrading herald.

Install:
  bash: herald completion bash > ~/.local/share/bash-completion/completions/herald
        (or add 'source <(herald completion bash)' to ~/.bashrc)
  zsh:  herald completion zsh > "${fpath[1]}/_herald"   then start a new shell
        (or add 'source <(herald completion zsh)' to ~/.zshrc, after compinit)
  fish: herald completion fish > ~/.config/fish/completions/herald.fish`,
		Action: runCompletion,
	}
}

func runCompletion(c *cli.Context) error {
	shell := c.Args().First()
	if c.NArg() != 1 || !slices.Contains(completionShells, shell) {
		return usageErrorf("completion takes one shell: %s (see 'herald completion --help')", strings.Join(completionShells, ", "))
	}
	return writeCompletion(c.App.Writer, shell, completionTree(newApp(io.Discard, io.Discard)))
}

// completionNode is one command path and what may follow it.
type completionNode struct {
	Path     string // "herald", "herald channel", ...: the command words typed
	Commands []completionWord
	Flags    []completionFlag
	Args     []string // words for the first positional argument, if fixed
}

// completionWord is a subcommand (or its alias) and its one-line usage.
type completionWord struct {
	Name, Usage string
}

// completionFlag is one flag spelling.
type completionFlag struct {
	Name       string // "--iface" or "-h"
	Usage      string
	TakesValue bool
	Hint       string // what its value completes to: hintDir, hintIface, hintCommand, or words
}

// Value hints for flags whose values a shell can offer.
const (
	hintDir     = "@dir"
	hintIface   = "@iface"
	hintCommand = "@command"
)

// flagHints maps a flag name to what its value completes to. Same-named
// flags mean the same kind of value in every command.
var flagHints = map[string]string{
	"home":      hintDir,
	"dir":       hintDir,
	"iface":     hintIface,
	"exec":      hintCommand,
	"log-level": "debug info warn error",
	"priority":  "normal high",
}

// argWords are the fixed words of a command's first argument.
func argWords(path string) []string {
	switch path {
	case "herald config set", "herald config unset":
		var keys []string
		for _, s := range configSettings() {
			keys = append(keys, s.Key)
		}
		return keys
	case "herald completion":
		return completionShells
	}
	return nil
}

// completionTree walks app's definition: the top level, then every
// visible command and subcommand, depth first in help order.
func completionTree(app *cli.App) []completionNode {
	top := completionNode{Path: app.Name, Flags: completionFlags(app.Flags)}
	subs := append(slices.Clone(app.Commands), &cli.Command{Name: "help", Aliases: []string{"h"}, Usage: "show help for a command"})
	children := commandNodes(&top, subs) // fills top.Commands
	return append([]completionNode{top}, children...)
}

func commandNodes(parent *completionNode, cmds []*cli.Command) []completionNode {
	var nodes []completionNode
	for _, cmd := range cmds {
		if cmd.Hidden {
			continue
		}
		for _, name := range cmd.Names() {
			parent.Commands = append(parent.Commands, completionWord{Name: name, Usage: cmd.Usage})
		}
		node := completionNode{Path: parent.Path + " " + cmd.Name, Flags: completionFlags(cmd.Flags)}
		node.Args = argWords(node.Path)
		children := commandNodes(&node, cmd.Subcommands)
		nodes = append(nodes, node)
		nodes = append(nodes, children...)
	}
	return nodes
}

// completionFlags lists every spelling of flags, plus --help/-h, which
// the cli package adds to every command.
func completionFlags(flags []cli.Flag) []completionFlag {
	var out []completionFlag
	for _, f := range append(slices.Clone(flags), cli.HelpFlag) {
		usage, takesValue := "", false
		if doc, ok := f.(cli.DocGenerationFlag); ok {
			usage, takesValue = doc.GetUsage(), doc.TakesValue()
		}
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		hint := ""
		if takesValue {
			hint = flagHints[f.Names()[0]]
		}
		for _, name := range f.Names() {
			dashes := "--"
			if len(name) == 1 {
				dashes = "-"
			}
			out = append(out, completionFlag{Name: dashes + name, Usage: usage, TakesValue: takesValue, Hint: hint})
		}
	}
	return out
}

// writeCompletion renders the script for shell.
func writeCompletion(w io.Writer, shell string, tree []completionNode) error {
	tmpl := template.Must(template.New(shell).Funcs(template.FuncMap{
		"names":      completionNames,
		"valueFlags": valueFlagNames,
		"hints":      completionHints,
		"sq":         shellQuote,
		"fishq":      fishQuote,
		"join":       strings.Join,
		"short":      func(name string) bool { return !strings.HasPrefix(name, "--") },
		"bare":       func(name string) string { return strings.TrimLeft(name, "-") },
		"oneLine":    oneLine,
	}).Parse(shellDataTemplate + completionTemplates[shell]))
	return tmpl.Execute(w, tree)
}

func completionNames(v any) string {
	var names []string
	switch v := v.(type) {
	case []completionWord:
		for _, w := range v {
			names = append(names, w.Name)
		}
	case []completionFlag:
		for _, f := range v {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, " ")
}

func valueFlagNames(flags []completionFlag) string {
	var names []string
	for _, f := range flags {
		if f.TakesValue {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, " ")
}

// completionHints groups the flags with a value hint by hint, for a
// case statement: "--home|--dir" -> "@dir".
func completionHints(tree []completionNode) [][2]string {
	byHint := map[string][]string{}
	var order []string
	for _, n := range tree {
		for _, f := range n.Flags {
			if f.Hint == "" || slices.Contains(byHint[f.Hint], f.Name) {
				continue
			}
			if _, ok := byHint[f.Hint]; !ok {
				order = append(order, f.Hint)
			}
			byHint[f.Hint] = append(byHint[f.Hint], f.Name)
		}
	}
	var out [][2]string
	for _, h := range order {
		out = append(out, [2]string{strings.Join(byHint[h], "|"), h})
	}
	return out
}

// shellQuote quotes s for sh, bash and zsh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// oneLine keeps the first line of a usage text, for a description column.
func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// shellDataTemplate defines the tables bash and zsh share: POSIX case
// statements keyed by command path, so they also run in bash 3.
const shellDataTemplate = `{{define "data"}}
# _herald_commands PATH: subcommands of a command path ("herald", "herald channel").
_herald_commands() {
	case "$1" in
{{- range .}}{{if .Commands}}
	{{sq .Path}}) echo {{sq (names .Commands)}} ;;{{end}}{{end}}
	esac
}

# _herald_flags PATH: the flags a command path accepts.
_herald_flags() {
	case "$1" in
{{- range .}}
	{{sq .Path}}) echo {{sq (names .Flags)}} ;;{{end}}
	esac
}

# _herald_value_flags PATH: those of its flags that take a value.
_herald_value_flags() {
	case "$1" in
{{- range .}}{{$path := .Path}}{{with valueFlags .Flags}}
	{{sq $path}}) echo {{sq .}} ;;{{end}}{{end}}
	esac
}

# _herald_args PATH: fixed words for the first argument.
_herald_args() {
	case "$1" in
{{- range .}}{{if .Args}}
	{{sq .Path}}) echo {{sq (join .Args " ")}} ;;{{end}}{{end}}
	esac
}

# _herald_hint FLAG: what the flag's value completes to.
_herald_hint() {
	case "$1" in
{{- range hints .}}
	{{index . 0}}) echo {{sq (index . 1)}} ;;{{end}}
	esac
}

# _herald_scan WORD...: walks the words before the cursor and sets
# cmdpath (the command path), nargs (positional arguments seen) and
# want_value (the flag whose value is being typed, if any).
_herald_scan() {
	cmdpath=herald nargs=0 want_value=
	local skip= w
	for w in "$@"; do
		if [ -n "$skip" ]; then
			skip=
			continue
		fi
		case "$w" in
		--*=* | =) ;;
		-*)
			case " $(_herald_value_flags "$cmdpath") " in
			*" $w "*) skip=1 ;;
			esac
			;;
		*)
			if [ "$nargs" -eq 0 ] && case " $(_herald_commands "$cmdpath") " in *" $w "*) true ;; *) false ;; esac; then
				cmdpath="$cmdpath $w"
			else
				nargs=$((nargs + 1))
			fi
			;;
		esac
	done
	if [ -n "$skip" ]; then
		want_value=$w
	fi
}
{{end}}`

var completionTemplates = map[string]string{
	"bash": `# bash completion for herald, generated by 'herald completion bash'
# from herald's command definitions. Install:
#   herald completion bash > ~/.local/share/bash-completion/completions/herald
{{template "data" .}}
_herald() {
	local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath nargs want_value words IFS=$' \t\n'
	_herald_scan "${COMP_WORDS[@]:1:COMP_CWORD-1}"
	COMPREPLY=()
	if [[ -n $want_value ]]; then
		local hint
		hint="$(_herald_hint "$want_value")"
		case "$hint" in
		@dir) IFS=$'\n' COMPREPLY=($(compgen -d -- "$cur")) ;;
		@iface) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null || ifconfig -l 2>/dev/null)" -- "$cur")) ;;
		@command) IFS=$'\n' COMPREPLY=($(compgen -c -- "$cur")) ;;
		?*) COMPREPLY=($(compgen -W "$hint" -- "$cur")) ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_herald_flags "$cmdpath")" -- "$cur"))
		return 0
	fi
	if ((nargs == 0)); then
		words="$(_herald_commands "$cmdpath") $(_herald_args "$cmdpath")"
		if [[ -n ${words// /} ]]; then
			COMPREPLY=($(compgen -W "$words" -- "$cur"))
			return 0
		fi
	fi
	# No fixed words: complete -o default offers file names.
	return 0
}

complete -o default -F _herald herald
`,

	"zsh": `#compdef herald
# zsh completion for herald, generated by 'herald completion zsh'
# from herald's command definitions. Install:
#   herald completion zsh > "${fpath[1]}/_herald"
{{template "data" .}}
# _herald_described PATH: "name:usage" lines of subcommands and flags.
_herald_described_commands() {
	case "$1" in
{{- range .}}{{if .Commands}}
	{{sq .Path}}) printf '%s\n'{{range .Commands}} {{sq (printf "%s:%s" .Name (oneLine .Usage))}}{{end}} ;;{{end}}{{end}}
	esac
}

_herald_described_flags() {
	case "$1" in
{{- range .}}
	{{sq .Path}}) printf '%s\n'{{range .Flags}} {{sq (printf "%s:%s" .Name (oneLine .Usage))}}{{end}} ;;{{end}}
	esac
}

_herald() {
	local cmdpath nargs want_value cur=${words[CURRENT]}
	_herald_scan "${(@)words[2,CURRENT-1]}"
	if [[ -n $want_value ]]; then
		local hint=$(_herald_hint "$want_value")
		case "$hint" in
		@dir) _directories ;;
		@iface) compadd -- ${(f)"$(ls /sys/class/net 2>/dev/null || ifconfig -l 2>/dev/null)"} ;;
		@command) _command_names -e ;;
		?*) compadd -- ${=hint} ;;
		*) _message 'value' ;;
		esac
		return
	fi
	if [[ $cur == -* ]]; then
		local -a flags
		flags=(${(f)"$(_herald_described_flags "$cmdpath")"})
		_describe -t flags 'flag' flags
		return
	fi
	if ((nargs == 0)); then
		local -a subcmds args
		subcmds=(${(f)"$(_herald_described_commands "$cmdpath")"})
		args=(${=$(_herald_args "$cmdpath")})
		if ((${#subcmds})); then
			_describe -t commands 'command' subcmds
			return
		fi
		if ((${#args})); then
			compadd -- $args
			return
		fi
	fi
	_files
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
	_herald "$@"
else
	compdef _herald herald
fi
`,

	"fish": `# fish completion for herald, generated by 'herald completion fish'
# from herald's command definitions. Install:
#   herald completion fish > ~/.config/fish/completions/herald.fish

function __herald_commands --argument-names cmdpath
	switch $cmdpath
{{- range .}}{{if .Commands}}
	case {{fishq .Path}}
		string split ' ' -- {{fishq (names .Commands)}}{{end}}{{end}}
	end
end

function __herald_value_flags --argument-names cmdpath
	switch $cmdpath
{{- range .}}{{$path := .Path}}{{with valueFlags .Flags}}
	case {{fishq $path}}
		string split ' ' -- {{fishq .}}{{end}}{{end}}
	end
end

# __herald_state: the command path typed so far, then the number of
# positional arguments after it.
function __herald_state
	set -l tokens (commandline -opc)
	set -l cmdpath herald
	set -l nargs 0
	set -l skip 0
	for w in $tokens[2..-1]
		if test $skip -eq 1
			set skip 0
			continue
		end
		switch $w
			case '--*=*'
			case '-*'
				if contains -- $w (__herald_value_flags $cmdpath)
					set skip 1
				end
			case '*'
				if test $nargs -eq 0; and contains -- $w (__herald_commands $cmdpath)
					set cmdpath "$cmdpath $w"
				else
					set nargs (math $nargs + 1)
				end
		end
	end
	echo $cmdpath
	echo $nargs
end

# __herald_at PATH [NARGS]: the cursor is after command path PATH (and
# after NARGS positional arguments).
function __herald_at --argument-names want nargs
	set -l state (__herald_state)
	test "$state[1]" = "$want"; or return 1
	test -z "$nargs"; or test "$state[2]" = "$nargs"
end

complete -c herald -e
{{- range .}}
{{- $path := .Path}}
{{- if .Commands}}
complete -c herald -f -n {{fishq (printf "__herald_at '%s'" $path)}}
{{- range .Commands}}
complete -c herald -f -n {{fishq (printf "__herald_at '%s' 0" $path)}} -a {{fishq .Name}} -d {{fishq (oneLine .Usage)}}
{{- end}}{{end}}
{{- if .Args}}
complete -c herald -f -n {{fishq (printf "__herald_at '%s' 0" $path)}} -a {{fishq (join .Args " ")}}
{{- end}}
{{- range .Flags}}
complete -c herald -n {{fishq (printf "__herald_at '%s'" $path)}} {{if short .Name}}-s{{else}}-l{{end}} {{bare .Name}}
{{- if .TakesValue}} -x{{if eq .Hint "@dir"}} -a '(__fish_complete_directories)'{{else if eq .Hint "@iface"}} -a '(ls /sys/class/net 2>/dev/null; or ifconfig -l 2>/dev/null)'{{else if eq .Hint "@command"}} -a '(__fish_complete_command)'{{else if .Hint}} -a {{fishq .Hint}}{{end}}{{end}} -d {{fishq (oneLine .Usage)}}
{{- end}}
{{- end}}
`,
}
