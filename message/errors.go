package message

import "errors"

// Sentinel errors; returned errors wrap them, test with errors.Is.
var (
	// ErrEmpty: a message with no text.
	ErrEmpty = errors.New("message: empty message")
	// ErrTooLong: a message longer than protocol.MaxMessageLen bytes.
	ErrTooLong = errors.New("message: message too long")
	// ErrNotText: a message that is not valid UTF-8.
	ErrNotText = errors.New("message: message is not UTF-8 text")
	// ErrNoReceipt: the recipient did not acknowledge a private message
	// in time (it may be offline, or not have our key).
	ErrNoReceipt = errors.New("message: no receipt from the recipient")
	// ErrBusy: too many private messages are waiting for receipts.
	ErrBusy = errors.New("message: too many private messages in flight")
	// ErrRecipient: a private recipient without a usable key.
	ErrRecipient = errors.New("message: recipient has no known box key")
)
