package webui

import (
	"errors"
	"log/slog"
	"time"

	"github.com/herald-lan/herald/node"
)

// Defaults and bounds.
const (
	// MaxUpdatesPerSecond bounds the event stream each page receives.
	MaxUpdatesPerSecond = 10
	// DefaultMaxUpload bounds the bytes one Send from the page uploads.
	DefaultMaxUpload = 32 << 30
	// maxSendJobs and maxInbox bound the pushes the page lists; the
	// oldest finished one goes first.
	maxSendJobs = 32
	maxInbox    = 256
	// maxMessages is how many messages the page keeps live; older ones
	// stay in the history store.
	maxMessages = 1000
	// maxSending bounds messages being sent at once (as chat does).
	maxSending = 16
	// maxOptions bounds the JSON options of an upload or API call.
	maxOptions = 64 << 10
	// historyLimit bounds a history search's answer.
	historyLimit = 500
	// shutdownGrace is how long open requests get when Run ends.
	shutdownGrace = 2 * time.Second
)

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("webui: bad configuration")

// Config sets up a Server. Node and Dir are required.
type Config struct {
	Node *node.Node
	// Listen is host:port to serve on. Empty: 127.0.0.1 and ::1 on a free
	// port. A non-loopback host is allowed (the caller warns).
	Listen string
	// Dir is the receive folder: pushes are placed there, and it is the
	// only place the page can download from.
	Dir string
	// Channel is the channel the page sends to unless the user picks
	// another; "" is the node's default channel.
	Channel string
	// AcceptAny accepts pushes from senders not trusted yet.
	AcceptAny bool
	// MaxUpload bounds one upload (DefaultMaxUpload).
	MaxUpload int64
	// TempDir holds uploads while they are pushed (os.TempDir()).
	TempDir string
	Logger  *slog.Logger
}
