package webui

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/node"
)

// readJSON decodes a small JSON request body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxOptions))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			replyError(w, http.StatusRequestEntityTooLarge, err)
		} else {
			replyError(w, http.StatusBadRequest, err)
		}
		return false
	}
	return true
}

// reply writes v as JSON.
func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// replyError writes {"error": ...} with status; the page shows the text.
func replyError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// drain discards what is left of a body so the connection is reused.
func drain(r io.Reader) { io.Copy(io.Discard, io.LimitReader(r, 1<<20)) }

func historyPath(n *node.Node) string { return filepath.Join(n.Home, history.FileName) }
