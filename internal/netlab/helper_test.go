package netlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the helper that runs inside namespaces: when
// NETLAB_HELPER is set, TestMain runs the helper instead of the tests, so no
// extra binary has to be built. Arguments come in NETLAB_ARGS (space
// separated), since `go test` owns the command line.
const (
	helperEnv     = "NETLAB_HELPER"
	helperArgsEnv = "NETLAB_ARGS"
	helperToken   = "netlab-probe"
	// exitTimeout is the helper's exit code when nothing arrived in time.
	exitTimeout = 3
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, strings.Fields(os.Getenv(helperArgsEnv))))
	}
	// A test run killed by Ctrl-C cannot close its labs; the next run
	// removes them. Only labs whose owner is dead are touched.
	if Available() == nil {
		if _, err := Sweep(context.Background(), DefaultPrefix); err != nil {
			fmt.Fprintln(os.Stderr, "netlab: sweep of stale labs:", err)
		}
	}
	os.Exit(m.Run())
}

func runHelper(mode string, args []string) int {
	var err error
	switch mode {
	case "listen": // group:port iface timeout
		err = helperListen(args)
	case "count": // group:port iface duration
		err = helperCount(args)
	case "send": // group:port count interval
		err = helperSend(args)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		fmt.Println("timeout")
		return exitTimeout
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

// helperListen joins the group, prints "ready", and prints "got" when the
// token arrives before the timeout.
func helperListen(args []string) error {
	conn, timeout, err := helperJoin(args)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Println("ready")
	if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) == helperToken {
			fmt.Println("got")
			return nil
		}
	}
}

// helperCount joins the group, prints "ready", counts token datagrams for
// the given duration and prints the count.
func helperCount(args []string) error {
	conn, duration, err := helperJoin(args)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Println("ready")
	if err := conn.SetReadDeadline(time.Now().Add(duration)); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	count := 0
	for {
		n, _, err := conn.ReadFromUDP(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			fmt.Println(count)
			return nil
		}
		if err != nil {
			return err
		}
		if string(buf[:n]) == helperToken {
			count++
		}
	}
}

// helperJoin parses group:port iface duration and joins the group.
func helperJoin(args []string) (*net.UDPConn, time.Duration, error) {
	if len(args) != 3 {
		return nil, 0, fmt.Errorf("want group:port iface duration, got %q", args)
	}
	group, err := net.ResolveUDPAddr("udp4", args[0])
	if err != nil {
		return nil, 0, err
	}
	ifi, err := net.InterfaceByName(args[1])
	if err != nil {
		return nil, 0, err
	}
	d, err := time.ParseDuration(args[2])
	if err != nil {
		return nil, 0, err
	}
	conn, err := net.ListenMulticastUDP("udp4", ifi, group)
	return conn, d, err
}

// helperSend sends the token count times to the group, interval apart. The
// route 239.0.0.0/8 dev eth0 picks the interface.
func helperSend(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("send wants group:port count interval, got %q", args)
	}
	group, err := net.ResolveUDPAddr("udp4", args[0])
	if err != nil {
		return err
	}
	count, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	interval, err := time.ParseDuration(args[2])
	if err != nil {
		return err
	}
	conn, err := net.DialUDP("udp4", nil, group)
	if err != nil {
		return err
	}
	defer conn.Close()
	for range count {
		if _, err := conn.Write([]byte(helperToken)); err != nil {
			return err
		}
		time.Sleep(interval)
	}
	return nil
}

// startHelper starts the test binary in h's namespace in the given mode and
// returns the process and a reader of its stdout.
func startHelper(ctx context.Context, t *testing.T, l *Lab, h Host, mode string, args ...string) (*helperProc, error) {
	t.Helper()
	cmd := l.Command(ctx, h, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperArgsEnv+"="+strings.Join(args, " "))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &helperProc{wait: cmd.Wait, lines: bufio.NewScanner(out)}, nil
}

type helperProc struct {
	wait  func() error
	lines *bufio.Scanner
}

// nextLine returns the helper's next stdout line, or "" at EOF.
func (p *helperProc) nextLine() string {
	if p.lines.Scan() {
		return p.lines.Text()
	}
	return ""
}

// finish drains stdout and returns the helper's exit code.
func (p *helperProc) finish() (rest string, code int, err error) {
	var b strings.Builder
	for p.lines.Scan() {
		b.WriteString(p.lines.Text())
		b.WriteByte('\n')
	}
	err = p.wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return b.String(), exit.ExitCode(), nil
	}
	return b.String(), 0, err
}
