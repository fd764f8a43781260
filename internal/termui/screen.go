package termui

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/term"
)

// Screen is what chat shows: message lines scroll above one input
// line. On a terminal in raw mode it edits the input line itself and
// redraws it after every message; otherwise it reads plain lines. Safe
// for concurrent use: println may be called from any goroutine.
type Screen struct {
	in     io.Reader
	raw    bool
	width  func() int // terminal columns, 0 when unknown
	prompt string
	maxLen int // bytes of UTF-8 a line may hold

	mu   sync.Mutex
	out  io.Writer
	line []rune // the input being typed (raw mode)
}

// NewScreen puts a terminal on in into raw mode (restore undoes it) or
// falls back to plain lines. A line typed is cut at maxLen bytes.
func NewScreen(in io.Reader, out io.Writer, prompt string, maxLen int) (*Screen, func(), error) {
	ui := &Screen{in: in, out: out, prompt: prompt, maxLen: maxLen, width: func() int { return 0 }}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return ui, func() {}, nil
	}
	fd := int(f.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, nil, fmt.Errorf("terminal raw mode: %w", err)
	}
	ui.raw = true
	ui.width = func() int {
		w, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return w
	}
	ui.redraw()
	return ui, func() {
		ui.mu.Lock()
		fmt.Fprint(ui.out, "\r\x1b[K")
		ui.mu.Unlock()
		term.Restore(fd, state)
	}, nil
}

// Println shows text above the input line, which is redrawn intact.
func (u *Screen) Println(text string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.raw {
		fmt.Fprintln(u.out, text)
		return
	}
	fmt.Fprint(u.out, "\r\x1b[K"+strings.ReplaceAll(text, "\n", "\r\n")+"\r\n")
	u.redrawLocked()
}

func (u *Screen) redraw() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.redrawLocked()
}

// redrawLocked rewrites the input line; when it is wider than the
// terminal, its end is shown, where the cursor is.
func (u *Screen) redrawLocked() {
	visible := u.line
	if w := u.width(); w > 0 {
		if room := w - utf8.RuneCountInString(u.prompt) - 1; room > 0 && len(visible) > room {
			visible = visible[len(visible)-room:]
		}
	}
	fmt.Fprint(u.out, "\r\x1b[K"+u.prompt+string(visible))
}

// ReadLines sends each line typed to lines and closes it at the end of
// input, Ctrl-C, or Ctrl-D on an empty line. It gives up on a line when
// quit is closed.
func (u *Screen) ReadLines(lines chan<- string, quit <-chan struct{}) {
	defer close(lines)
	send := func(line string) bool {
		select {
		case lines <- line:
			return true
		case <-quit:
			return false
		}
	}
	if !u.raw {
		sc := bufio.NewScanner(u.in)
		sc.Buffer(make([]byte, 4096), u.maxLen+64)
		for sc.Scan() {
			if !send(sc.Text()) {
				return
			}
		}
		return
	}
	ed := lineEditor{max: u.maxLen}
	buf := make([]byte, 256)
	for {
		n, err := u.in.Read(buf)
		for _, b := range buf[:n] {
			u.mu.Lock()
			action := ed.feed(b, &u.line)
			line := string(u.line)
			if action == editSubmit {
				u.line = u.line[:0]
			}
			u.redrawLocked()
			u.mu.Unlock()
			if action == editQuit || action == editSubmit && !send(line) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Results of feeding one byte to the line editor.
const (
	editNone = iota
	editSubmit
	editQuit
)

// lineEditor turns raw terminal bytes into edits of one line: runes are
// appended (up to max bytes), Backspace deletes one,
// Ctrl-U clears, Enter submits, Ctrl-C or Ctrl-D on an empty line quits,
// and escape sequences (arrow keys and the like) are skipped.
type lineEditor struct {
	pending []byte // bytes of an incomplete UTF-8 rune
	esc     int    // 0 none, 1 after ESC, 2 inside a CSI/SS3 sequence
	size    int    // UTF-8 bytes in the line
	max     int    // bound of size
}

func (ed *lineEditor) feed(b byte, line *[]rune) int {
	switch ed.esc {
	case 1:
		ed.esc = 0
		if b == '[' || b == 'O' {
			ed.esc = 2
		}
		return editNone
	case 2:
		if b >= 0x40 && b <= 0x7e {
			ed.esc = 0
		}
		return editNone
	}
	switch b {
	case '\r', '\n':
		ed.size = 0
		return editSubmit
	case 0x03:
		return editQuit
	case 0x04:
		if len(*line) == 0 {
			return editQuit
		}
		return editNone
	case 0x7f, 0x08:
		if n := len(*line); n > 0 {
			ed.size -= utf8.RuneLen((*line)[n-1])
			*line = (*line)[:n-1]
		}
		return editNone
	case 0x15:
		*line = (*line)[:0]
		ed.size = 0
		return editNone
	case 0x1b:
		ed.esc = 1
		return editNone
	}
	if b < 0x20 {
		return editNone
	}
	ed.pending = append(ed.pending, b)
	if !utf8.FullRune(ed.pending) {
		if len(ed.pending) >= utf8.UTFMax {
			ed.pending = ed.pending[:0]
		}
		return editNone
	}
	r, _ := utf8.DecodeRune(ed.pending)
	ed.pending = ed.pending[:0]
	if r != utf8.RuneError && ed.size+utf8.RuneLen(r) <= ed.max {
		*line = append(*line, r)
		ed.size += utf8.RuneLen(r)
	}
	return editNone
}
