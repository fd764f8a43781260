package main

import (
	"fmt"
	"time"
)

// scenario is one network condition and file size.
type scenario struct {
	Receivers    int  `json:"receivers"`
	LossPermille int  `json:"loss_permille"`
	Burst        bool `json:"burst"` // loss comes in outages of burstMeanOutage instead of per datagram
	RateMbit     int  `json:"rate_mbit"`
	FileMB       int  `json:"file_mb"`
}

// burstMeanOutage is the mean outage length of bursty scenarios. With 20
// permille the good periods between outages average 980 ms.
const burstMeanOutage = 20 * time.Millisecond

func (s scenario) String() string {
	loss := fmt.Sprintf("%d‰", s.LossPermille)
	if s.Burst {
		loss = fmt.Sprintf("%d‰ burst", s.LossPermille)
	}
	return fmt.Sprintf("%d rx, %s, %d Mbit, %d MB", s.Receivers, loss, s.RateMbit, s.FileMB)
}

func (s scenario) fileBytes() int64 { return int64(s.FileMB) << 20 }

// timeout bounds one run: 30 s of set-up slack plus 20 times the time the
// file needs on the bare link.
func (s scenario) timeout() time.Duration {
	ideal := time.Duration(float64(s.fileBytes()*8) / float64(s.RateMbit) / 1e6 * float64(time.Second))
	return 30*time.Second + 20*ideal
}

// plan returns the scenarios and repeat count of a mode.
func plan(mode string) ([]scenario, int, error) {
	switch mode {
	case "quick":
		return []scenario{
			{Receivers: 3, LossPermille: 0, RateMbit: 1000, FileMB: 50},
			{Receivers: 3, LossPermille: 50, RateMbit: 1000, FileMB: 50},
		}, 1, nil
	case "full":
		var out []scenario
		for _, rate := range []int{1000, 100} {
			for _, c := range []struct {
				receivers, loss int
				burst           bool
			}{{3, 0, false}, {3, 50, false}, {10, 50, false}, {3, 200, false}, {3, 20, true}} {
				out = append(out, scenario{Receivers: c.receivers, LossPermille: c.loss, Burst: c.burst, RateMbit: rate, FileMB: 200})
			}
		}
		return out, 3, nil
	}
	return nil, 0, fmt.Errorf("unknown mode %q (quick or full)", mode)
}
