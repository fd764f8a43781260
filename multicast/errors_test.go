package multicast

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"syscall"
	"testing"
)

func TestClassifySocketError(t *testing.T) {
	group := netip.MustParseAddrPort("239.255.72.250:47250")
	for _, tc := range []struct {
		cause error
		want  error // nil: no sentinel
	}{
		{syscall.EADDRINUSE, ErrPortInUse},
		{syscall.EACCES, ErrPermission},
		{syscall.EPERM, ErrPermission},
		{fmt.Errorf("bind: %w", syscall.EADDRINUSE), ErrPortInUse},
		{syscall.EINVAL, nil},
	} {
		t.Run(tc.cause.Error(), func(t *testing.T) {
			err := classifySocketError("bind", group, tc.cause)
			if !errors.Is(err, tc.cause) && tc.want == nil {
				t.Errorf("%v does not wrap its cause", err)
			}
			for _, sentinel := range []error{ErrPortInUse, ErrPermission} {
				if errors.Is(err, sentinel) != (sentinel == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, sentinel, !(sentinel == tc.want))
				}
			}
			if !strings.Contains(err.Error(), group.String()) {
				t.Errorf("%q does not name the group", err)
			}
		})
	}
}

func TestWarnIfClamped(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        Buffers
		wantWarn []string
	}{
		{"granted", Buffers{Recv: 8 << 20, Send: 4 << 20, RequestedRecv: 8 << 20, RequestedSend: 4 << 20}, nil},
		{"os default", Buffers{Recv: 212992, Send: 212992, RequestedRecv: -1, RequestedSend: -1}, nil},
		{"recv clamped", Buffers{Recv: 4 << 20, Send: 4 << 20, RequestedRecv: 8 << 20, RequestedSend: 4 << 20}, []string{recvBufferLimit}},
		{"both clamped", Buffers{Recv: 1, Send: 1, RequestedRecv: 2, RequestedSend: 2}, []string{recvBufferLimit, sendBufferLimit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			warnIfClamped(slog.New(slog.NewTextHandler(&logs, nil)), tc.b)
			if got := strings.Count(logs.String(), "level=WARN"); got != len(tc.wantWarn) {
				t.Fatalf("%d warnings, want %d: %s", got, len(tc.wantWarn), logs.String())
			}
			for _, s := range tc.wantWarn {
				if !strings.Contains(logs.String(), s) {
					t.Errorf("warning does not name %q: %s", s, logs.String())
				}
			}
			if tc.b.Clamped() != (len(tc.wantWarn) > 0) {
				t.Errorf("Clamped() = %v", tc.b.Clamped())
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		in      Config
		wantTTL int
		wantErr bool
	}{
		{Config{}, DefaultTTL, false},
		{Config{TTL: 32}, 32, false},
		{Config{TTL: 255}, 255, false},
		{Config{TTL: 256}, 0, true},
		{Config{TTL: -1}, 0, true},
	} {
		got := tc.in.withDefaults()
		err := got.validate()
		if (err != nil) != tc.wantErr || (!tc.wantErr && got.TTL != tc.wantTTL) {
			t.Errorf("withDefaults(%+v) = TTL %d, err %v", tc.in, got.TTL, err)
			continue
		}
		if !tc.wantErr && (got.RecvBuffer != DefaultRecvBuffer || got.SendBuffer != DefaultSendBuffer || got.Logger == nil || got.DisableLoopback) {
			t.Errorf("withDefaults(%+v) = %+v", tc.in, got)
		}
	}
}
