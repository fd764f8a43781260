package push

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrUnsafePath rejects a manifest path a receiver will not create.
var ErrUnsafePath = errors.New("push: unsafe path in manifest")

// reservedNames are device names Windows resolves in any directory.
var reservedNames = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
}

// checkPath accepts only a relative, slash-separated path whose every
// element is a plain name (SPEC.md §6.4.2). It never rewrites a path:
// a sender that sends a bad one gets its push refused.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return fmt.Errorf("%w: %q", ErrUnsafePath, p)
	}
	for _, elem := range strings.Split(p, "/") {
		if err := checkName(elem); err != nil {
			return fmt.Errorf("%w: %q: %s", ErrUnsafePath, p, err.Error())
		}
	}
	return nil
}

func checkName(elem string) error {
	switch {
	case elem == "" || elem == "." || elem == "..":
		return errors.New("empty, . or .. element")
	case strings.HasPrefix(elem, StagingPrefix):
		return errors.New("element starts with " + StagingPrefix + ", the prefix of receivers' staging folders")
	case len(elem) > 255:
		return errors.New("element longer than 255 bytes")
	case strings.HasSuffix(elem, " ") || strings.HasSuffix(elem, "."):
		return errors.New("element ends in space or dot")
	case strings.ContainsRune(elem, ':'):
		return errors.New("element contains ':'")
	}
	for _, r := range elem {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return errors.New("control character or invalid UTF-8")
		}
	}
	base, _, _ := strings.Cut(elem, ".")
	if reservedNames[strings.ToUpper(base)] {
		return errors.New("reserved device name")
	}
	return nil
}
