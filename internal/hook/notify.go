package hook

import (
	"errors"
	"os/exec"
)

// NotifyBodyLen cuts a desktop notification's text.
const NotifyBodyLen = 300

// ErrNoNotifier: notify-send is not installed.
var ErrNoNotifier = errors.New("notify-send is not installed")

// Notifier shows desktop notifications through notify-send. The zero
// Notifier shows nothing.
type Notifier struct{ path string }

// NewNotifier finds notify-send.
func NewNotifier() (Notifier, error) {
	path, err := exec.LookPath("notify-send")
	if err != nil {
		return Notifier{}, ErrNoNotifier
	}
	return Notifier{path: path}, nil
}

// Notify queues one notification on r. title and body must already be
// safe to show.
func (n Notifier) Notify(r *Runner, title, body string, urgent bool) {
	if n.path == "" {
		return
	}
	urgency := "normal"
	if urgent {
		urgency = "critical"
	}
	if b := []rune(body); len(b) > NotifyBodyLen {
		body = string(append(b[:NotifyBodyLen], '…'))
	}
	r.Run(Command{What: "--notify", Args: []string{n.path, "--app-name=herald", "--urgency=" + urgency, "--", title, body}})
}
