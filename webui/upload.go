package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/push"
)

// Upload errors; each is answered with its own status.
var (
	errTooLarge    = errors.New("upload larger than this herald ui accepts")
	errTooMany     = fmt.Errorf("more than %d files (the most a push carries)", protocol.MaxFiles)
	errBadUpload   = errors.New("bad upload")
	errNoOptions   = errors.New("the send options must come before the files")
	errNothingSent = errors.New("no files in the upload")
)

// multipartOverhead is what headers and boundaries may add to the files'
// bytes in an upload.
const multipartOverhead = 1 << 20

// upload is what the page sent for one push: options, and the files,
// written under dir with the relative paths the browser gave.
type upload struct {
	opts  sendOptions
	dir   string   // temporary folder; the caller removes it
	tops  []string // top-level entries of dir, the push's sources
	files int
	bytes int64
}

// receiveUpload streams a multipart body into a new folder under
// tempDir, one file at a time, refusing before writing anything past
// max bytes, a path push would refuse, or too many files. The first
// part must be the options ("options", JSON); each file part's filename
// is its path relative to what the user picked ("lesson/a.txt").
func receiveUpload(r *http.Request, w http.ResponseWriter, tempDir string, max int64) (*upload, error) {
	if r.ContentLength > max+multipartOverhead {
		return nil, errTooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, max+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadUpload, err)
	}
	dir, err := os.MkdirTemp(tempDir, "herald-ui-send-")
	if err != nil {
		return nil, err
	}
	up := &upload{dir: dir}
	if err := up.read(mr, max); err != nil {
		os.RemoveAll(dir)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = errTooLarge
		}
		return nil, err
	}
	return up, nil
}

func (up *upload) read(mr *multipart.Reader, max int64) error {
	root, err := os.OpenRoot(up.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	gotOptions := false
	seenTop := map[string]bool{}
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errBadUpload, err)
		}
		switch part.FormName() {
		case "options":
			if gotOptions {
				return fmt.Errorf("%w: options given twice", errBadUpload)
			}
			dec := json.NewDecoder(io.LimitReader(part, maxOptions))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&up.opts); err != nil {
				return fmt.Errorf("%w: options: %v", errBadUpload, err)
			}
			gotOptions = true
		case "file":
			if !gotOptions {
				return errNoOptions
			}
			rel, err := partPath(part)
			if err != nil {
				return err
			}
			if up.files++; up.files > protocol.MaxFiles {
				return errTooMany
			}
			n, err := writeFile(root, rel, part, max-up.bytes)
			up.bytes += n
			if err != nil {
				return err
			}
			top, _, _ := strings.Cut(rel, "/")
			if !seenTop[top] {
				seenTop[top] = true
				up.tops = append(up.tops, filepath.Join(up.dir, top))
			}
		default:
			return fmt.Errorf("%w: unexpected part %q", errBadUpload, part.FormName())
		}
		part.Close()
	}
	if !gotOptions {
		return errNoOptions
	}
	if up.files == 0 {
		return errNothingSent
	}
	return nil
}

// partPath is the relative path a file part names, checked as a
// receiver would check it. The raw filename is read, since
// multipart.Part.FileName keeps only its last element.
func partPath(part *multipart.Part) (string, error) {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	rel := params["filename"]
	if err != nil || rel == "" {
		return "", fmt.Errorf("%w: file without a name", errBadUpload)
	}
	if len(rel) > protocol.MaxPathLen {
		return "", fmt.Errorf("%w: path longer than %d bytes", errBadUpload, protocol.MaxPathLen)
	}
	if err := push.CheckPath(rel); err != nil {
		return "", fmt.Errorf("%w: %v", errBadUpload, err)
	}
	return rel, nil
}

// writeFile copies at most budget bytes of r to rel inside root; a file
// that would go past the budget fails with errTooLarge.
func writeFile(root *os.Root, rel string, r io.Reader, budget int64) (int64, error) {
	if dir := path.Dir(rel); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return 0, fmt.Errorf("%w: %v", errBadUpload, err)
		}
	}
	f, err := root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", errBadUpload, rel, err)
	}
	n, err := io.Copy(f, io.LimitReader(r, budget+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case n > budget:
		return n, errTooLarge
	case err != nil:
		return n, err
	}
	return n, nil
}

// uploadStatus maps an upload error to its HTTP status.
func uploadStatus(err error) int {
	switch {
	case errors.Is(err, errTooLarge), errors.Is(err, errTooMany):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadUpload), errors.Is(err, errNoOptions), errors.Is(err, errNothingSent):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
