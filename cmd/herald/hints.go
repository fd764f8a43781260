package main

import (
	"errors"

	"github.com/herald-lan/herald/internal/recipient"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/push"
)

// hintFor is the advice printed under an error: what to do next, in terms
// of herald's own flags and commands. The packages below say only what
// went wrong, since they do not know the flags of the program using them;
// the advice lives here, next to the exit-code mapping.
func hintFor(err error) string {
	switch {
	case errors.Is(err, multicast.ErrInterfaceNotFound):
		return "list the interfaces with 'ip link' and name an existing one: herald --iface NAME COMMAND"
	case errors.Is(err, multicast.ErrNoMulticastInterface):
		return "bring an interface up ('ip link set NAME up multicast on') or name one: herald --iface NAME COMMAND"
	case errors.Is(err, multicast.ErrPortInUse):
		return "stop the program holding the port, or give every herald on the LAN another one: herald --group ADDR:PORT"
	case errors.Is(err, multicast.ErrPermission):
		return "run with the needed privileges, or use a port above 1023: herald --group ADDR:PORT"
	case errors.Is(err, multicast.ErrNotMulticastGroup):
		return "--group takes a multicast address (239.0.0.0/8, ff1x::/16) with a non-zero port"
	case errors.Is(err, push.ErrOpenChannel):
		return "name recipients with --to, join a channel ('herald channel join CODE') and push with --channel, or pass --no-encrypt"
	case errors.Is(err, recipient.ErrNotSeen):
		return "the recipient must run 'herald receive', 'listen' or 'chat' on this LAN; 'herald peers' lists who is heard"
	case errors.Is(err, push.ErrNoReceivers):
		return "each receiver must run 'herald receive' on this LAN and trust you ('herald trust FINGERPRINT'); --wait DUR waits longer"
	}
	return ""
}
