package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Passphrase limits: a line longer than maxPassphrase is refused rather
// than read into memory without bound; shorter than weakPassphrase earns a
// warning.
const (
	maxPassphrase  = 1024
	weakPassphrase = 12
)

// readPassphrase reads a channel passphrase: twice without echo from a
// terminal (a typo would silently join another channel), or the first
// line of the app's input otherwise.
func readPassphrase(c *cli.Context, channel string) (string, error) {
	var pass string
	if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		first, err := promptHidden(c, f, fmt.Sprintf("passphrase for channel %s: ", channel))
		if err != nil {
			return "", err
		}
		again, err := promptHidden(c, f, "again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", usageErrorf("the two passphrases differ; try again")
		}
		pass = first
	} else {
		line, err := bufio.NewReader(io.LimitReader(c.App.Reader, maxPassphrase+1)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read passphrase: %w", err)
		}
		if len(line) > maxPassphrase {
			return "", usageErrorf("passphrase longer than %d bytes", maxPassphrase)
		}
		pass = strings.TrimRight(line, "\r\n")
	}
	if strings.TrimSpace(pass) == "" {
		return "", usageErrorf("empty passphrase: type one, or pipe it on stdin")
	}
	if len(pass) < weakPassphrase {
		fmt.Fprintf(c.App.ErrWriter, "warning: a passphrase under %d characters can be guessed offline by anyone recording traffic\n", weakPassphrase)
	}
	return pass, nil
}

func promptHidden(c *cli.Context, f *os.File, prompt string) (string, error) {
	fmt.Fprint(c.App.ErrWriter, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.App.ErrWriter)
	if err != nil {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	return string(b), nil
}
