// Package webui is herald ui: a page served on loopback that drives the
// same engines as the CLI (node, presence, push, message, history), for
// people who do not live in a terminal.
//
// One Server holds one node. Run starts presence, the message engine, a
// push receiver into the receive folder and the HTTP server; the page
// gets its state as one server-sent event stream, coalesced so a client
// sees at most MaxUpdatesPerSecond updates.
//
// Security, since this is a local web server holding keys (guard.go):
// the page is reached once through a URL carrying a random token, which
// is traded for an HttpOnly SameSite=Strict session cookie; every
// request must carry that cookie, name an expected Host (no DNS
// rebinding) and, when it changes anything, come from the page's own
// Origin; no CORS headers are ever sent. Uploads are streamed to a
// temporary folder under the limits of push, and files are served only
// from inside the receive folder, through an os.Root.
package webui
