package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// docField is one row of a table in docs/json.md.
type docField struct {
	name, typ string
	optional  bool // "omitted ..." in its meaning
}

// docSchema reads the first field table after the place docs/json.md
// names typeName (in backquotes).
func docSchema(t *testing.T, typeName string) []docField {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(doc, []byte("`"+typeName+"`"))
	if start < 0 {
		t.Fatalf("docs/json.md never names %s", typeName)
	}
	var fields []docField
	inTable := false
	for _, line := range strings.Split(string(doc[start:]), "\n") {
		switch {
		case strings.HasPrefix(line, "| field |"):
			inTable = true
		case inTable && strings.HasPrefix(line, "|---"):
		case inTable && strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			fields = append(fields, docField{name: strings.Trim(strings.TrimSpace(cells[1]), "`"), typ: strings.TrimSpace(cells[2]),
				optional: strings.Contains(strings.Join(cells[3:], "|"), "omitted")})
		case inTable:
			return fields
		}
	}
	if len(fields) == 0 {
		t.Fatalf("docs/json.md has no field table after %s", typeName)
	}
	return fields
}

// checkLine checks one JSON line a command printed against the schema
// docs/json.md gives for typeName: kind (or event) then time first, no
// undocumented field, every field not marked omitted present, each of
// its documented type.
func checkLine(t *testing.T, typeName, line string) {
	t.Helper()
	schema := docSchema(t, typeName)
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not a JSON object: %s", typeName, line)
	}
	var keys []string
	values := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v in %s", typeName, err, line)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v in %s", typeName, err, line)
		}
		keys = append(keys, tok.(string))
		values[tok.(string)] = v
	}
	if len(keys) < 2 || (keys[0] != "kind" && keys[0] != "event") || keys[1] != "time" {
		t.Errorf("%s: a line starts with %q, want kind (or event) then time: %s", typeName, keys[:min(2, len(keys))], line)
	}
	for _, k := range keys {
		if !slices.ContainsFunc(schema, func(f docField) bool { return f.name == k }) {
			t.Errorf("%s: field %q is not in docs/json.md: %s", typeName, k, line)
		}
	}
	for _, f := range schema {
		v, ok := values[f.name]
		if !ok {
			if !f.optional {
				t.Errorf("%s: documented field %q (not marked omitted) is missing: %s", typeName, f.name, line)
			}
			continue
		}
		if !hasDocType(v, f.typ) {
			t.Errorf("%s: field %q is %T %v, docs/json.md says %s", typeName, f.name, v, v, f.typ)
		}
	}
}

func hasDocType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "bool":
		_, ok := v.(bool)
		return ok
	case "time":
		s, ok := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		return ok && err == nil
	case "array of string":
		a, ok := v.([]any)
		for _, e := range a {
			if _, isStr := e.(string); !isStr {
				return false
			}
		}
		return ok
	case "array of object":
		a, ok := v.([]any)
		for _, e := range a {
			if _, isObj := e.(map[string]any); !isObj {
				return false
			}
		}
		return ok
	case "string, number or bool":
		switch v.(type) {
		case string, float64, bool:
			return true
		}
	}
	return false
}

// checkOutput checks every line of out; typeOf names the documented type
// of a line from its kind or event. It fails when out has no line.
func checkOutput(t *testing.T, out string, typeOf func(kind string) string) {
	t.Helper()
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		lines++
		var head struct{ Kind, Event string }
		if err := json.Unmarshal([]byte(line), &head); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		checkLine(t, typeOf(head.Kind+head.Event), line)
	}
	if lines == 0 {
		t.Fatal("no JSON line printed")
	}
}

func always(name string) func(string) string { return func(string) string { return name } }

// pushTypes names the documented type of each line of push --json and
// receive --json.
func pushTypes(event string) string {
	switch event {
	case "receiver":
		return "receiverJSON"
	case "report":
		return "reportJSON"
	}
	return "jsonEvent"
}

// TestJSONSchemaPerCommand runs every command that prints JSON and checks
// each line against docs/json.md, field by field.
func TestJSONSchemaPerCommand(t *testing.T) {
	home := t.TempDir()
	herald(t, "--home", home, "--name", "teacher", "id")

	t.Run("id", func(t *testing.T) {
		checkOutput(t, herald(t, "--home", home, "id", "--json").stdout, always("idJSON"))
	})
	t.Run("channel", func(t *testing.T) {
		checkOutput(t, herald(t, "--home", home, "channel", "new", "--json", "class").stdout, always("channelJSON"))
		checkOutput(t, herald(t, "--home", home, "channel", "list", "--json").stdout, always("channelJSON"))
	})
	t.Run("peers", func(t *testing.T) {
		peerHome := t.TempDir()
		herald(t, "--home", peerHome, "--name", "pupil", "id")
		memnet := multicast.NewMemNet(11)
		defer beaconFrom(t, memnet, peerHome)()
		res := cliRun{args: []string{"--home", home, "peers", "--wait", "1s", "--json"}, network: memnet.Host(multicast.Link{})}.exec(t)
		checkOutput(t, res.stdout, always("peerRow"))
		herald(t, "--home", home, "trust", identityOf(t, peerHome).Fingerprint) // --known lists trusted keys
		checkOutput(t, herald(t, "--home", home, "peers", "--known", "--json").stdout, always("peerRow"))
	})
	t.Run("config", func(t *testing.T) {
		checkOutput(t, herald(t, "--home", home, "config", "--json").stdout, always("configEntry"))
		checkOutput(t, herald(t, "--home", home, "config", "path", "--json").stdout, always("configPathJSON"))
	})
	t.Run("version", func(t *testing.T) {
		checkOutput(t, herald(t, "version", "--json").stdout, always("versionJSON"))
	})
	t.Run("push", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "notes.txt")
		os.WriteFile(file, []byte(strings.Repeat("herald ", 30_000)), 0o644)
		net := multicast.NewMemNet(12)
		receiverOn(t, net)
		phome := t.TempDir()
		res := cliRun{args: []string{"--home", phome, "push", "--json", "--no-encrypt", "--min-receivers", "1", "--wait", "5s", file},
			network: net.Host(multicast.Link{})}.exec(t)
		if res.code != exitOK {
			t.Fatalf("push: exit %d\n%s", res.code, res.stderr)
		}
		log := herald(t, "--home", phome, "history", "--pushes", "--json").stdout
		if !strings.Contains(log, `"direction":"sent"`) || !strings.Contains(log, `"status":"complete"`) {
			t.Errorf("the pushes log lacks the push:\n%s", log)
		}
		checkOutput(t, log, always("pushJSON"))
		for _, want := range []string{`"event":"joined"`, `"event":"progress"`, `"event":"receiver"`, `"event":"report"`} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("push --json printed no %s line", want)
			}
		}
		checkOutput(t, res.stdout, pushTypes)
	})
	t.Run("receive", func(t *testing.T) {
		net := multicast.NewMemNet(13)
		rhome := t.TempDir()
		cli := startCLI(t, net.Host(multicast.Link{}), nil, "--home", rhome, "receive", "--json", "--once", "--accept-any", "--dir", t.TempDir())
		file := filepath.Join(t.TempDir(), "notes.txt")
		os.WriteFile(file, []byte("lesson"), 0o644)
		sender, err := node.Open(node.Config{Home: t.TempDir(), Name: "teacher", Network: net.Host(multicast.Link{})})
		if err != nil {
			t.Fatal(err)
		}
		src, err := push.NewSource([]string{file})
		if err != nil {
			t.Fatal(err)
		}
		err = sender.RunWith(context.Background(), func(ctx context.Context) error {
			_, err := push.Send(ctx, push.SendConfig{Node: sender, Source: src, Channel: identity.OpenChannel(), NoEncrypt: true,
				MinReceivers: 1, Wait: 10 * time.Second})
			return err
		})
		if err != nil {
			t.Fatalf("library push: %v", err)
		}
		checkOutput(t, cli.waitOutput(t, `"event":"complete"`), pushTypes)
		if code := cli.stop(); code != exitOK {
			t.Fatalf("receive --once: exit %d\n%s", code, cli.stderr.String())
		}
		log := herald(t, "--home", rhome, "history", "--pushes", "--json").stdout
		if !strings.Contains(log, `"direction":"received"`) || !strings.Contains(log, `"paths":["notes.txt"]`) {
			t.Errorf("the pushes log lacks the received push:\n%s", log)
		}
		checkOutput(t, log, always("pushJSON"))
	})
	t.Run("listen and history", func(t *testing.T) {
		net := multicast.NewMemNet(14)
		lhome := t.TempDir()
		herald(t, "--home", lhome, "--name", "pupil", "id")
		pupil := identityOf(t, lhome).Fingerprint
		alice := startMsgPeer(t, net, "alice", message.Config{RetainFirst: 50 * time.Millisecond})
		cli := startCLI(t, net.Host(multicast.Link{}), nil, "--home", lhome, "listen", "--json")
		alice.waitPeer(t, pupil)
		go alice.eng.Post(context.Background(), message.Post{Channel: identity.OpenChannel(), Text: "hello", Announce: true, Retain: 3 * time.Second})
		checkOutput(t, cli.waitOutput(t, `"kind":"announce"`), always("messageJSON"))
		cli.stop()
		checkOutput(t, herald(t, "--home", lhome, "history", "--json").stdout, always("messageJSON"))
	})
	t.Run("announce", func(t *testing.T) {
		res := cliRun{args: []string{"--home", home, "announce", "--json", "--channel", "class", "hello"},
			network: multicast.NewMemNet(15).Host(multicast.Link{})}.exec(t)
		if res.code != exitOK {
			t.Fatalf("announce: exit %d\n%s", res.code, res.stderr)
		}
		checkOutput(t, res.stdout, always("announcedJSON"))
	})
	t.Run("send", func(t *testing.T) {
		net := multicast.NewMemNet(16)
		startMsgPeer(t, net, "bob", message.Config{})
		res := cliRun{args: []string{"--home", home, "send", "--json", "--to", "bob", "--wait", "5s", "hi"},
			network: net.Host(multicast.Link{})}.exec(t)
		if res.code != exitOK {
			t.Fatalf("send: exit %d\n%s", res.code, res.stderr)
		}
		checkOutput(t, res.stdout, always("deliveredJSON"))
	})
}
