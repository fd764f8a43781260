package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Every field of the types printed with --json is described in
// docs/json.md, so the reference cannot fall behind the code.
func TestJSONDocCoversFields(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	types := []any{idJSON{}, peerRow{}, channelJSON{}, jsonEvent{}, receiverJSON{}, reportJSON{}, messageJSON{},
		announcedJSON{}, deliveredJSON{}, configEntry{}, configPathJSON{}, versionJSON{}, pushJSON{}}
	for _, v := range types {
		typ := reflect.TypeOf(v)
		name := strings.TrimPrefix(typ.String(), "main.")
		t.Run(name, func(t *testing.T) {
			// The section that names the type, up to the next heading.
			start := strings.Index(string(doc), "`"+name+"`")
			if start < 0 {
				t.Fatalf("docs/json.md never names %s", name)
			}
			section := string(doc[start:])
			if end := strings.Index(section, "\n## "); end >= 0 {
				section = section[:end]
			}
			for i := range typ.NumField() {
				tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
				if tag == "" || tag == "-" {
					continue
				}
				if !strings.Contains(section, "| `"+tag+"` |") {
					t.Errorf("docs/json.md: the section on %s has no row for field %q", name, tag)
				}
			}
		})
	}
}
