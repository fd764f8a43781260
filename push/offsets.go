package push

import "github.com/herald-lan/herald/protocol"

// fileHolding returns the index of the file with content that holds
// content-stream offset off, or -1 when off is past the last byte. start[i]
// is the stream offset of files[i]; directories and empty files hold no
// byte and are skipped. Binary search: a push may hold many files.
func fileHolding(files []protocol.FileEntry, start []int64, off int64) int {
	lo, hi := 0, len(files)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if start[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	for lo < len(files) && (files[lo].Size == 0 || off >= start[lo]+int64(files[lo].Size)) {
		lo++
	}
	if lo >= len(files) || off < 0 {
		return -1
	}
	return lo
}
