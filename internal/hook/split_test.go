package hook

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "notify-send herald", want: []string{"notify-send", "herald"}},
		{in: `  a   b  `, want: []string{"a", "b"}},
		{in: `sh -c 'echo "$HERALD_TEXT"'`, want: []string{"sh", "-c", `echo "$HERALD_TEXT"`}},
		{in: `say "two words" and\ more`, want: []string{"say", "two words", "and more"}},
		{in: `"a \"q\" \$x \n"`, want: []string{`a "q" $x \n`}},
		{in: `''`, want: []string{""}},
		{in: `x'y'"z"`, want: []string{"xyz"}},
		{in: `'open`, wantErr: true},
		{in: `"open`, wantErr: true},
		{in: `trailing\`, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := Split(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error %v", err, c.wantErr)
			}
			if !c.wantErr && strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
