//go:build linux

package netcheck

import "testing"

func TestJudgeRecvBuffer(t *testing.T) {
	const ask = 8 << 20
	tests := []struct {
		name           string
		granted, limit int
		root           bool
		want           Status
	}{
		{"forced past a 4 MiB limit", ask, 4 << 20, true, Pass},
		{"clamped to 4 MiB", 4 << 20, 4 << 20, false, Warn},
		{"tiny limit, root", ask, 4096, true, Warn},
		{"tiny limit, user", 4096, 4096, false, Fail},
		{"tiny buffer granted", 200 << 10, 16 << 20, true, Fail},
	}
	for _, tt := range tests {
		r := judgeRecvBuffer(ask, tt.granted, tt.limit, tt.root)
		if r.Status != tt.want || (r.Status != Pass && r.Fix == "") {
			t.Errorf("%s: %+v, want %v", tt.name, r, tt.want)
		}
	}
}
