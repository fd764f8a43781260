package main

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/herald-lan/herald/internal/netlab"
)

// Multicast groups and ports of the compared tools. Every tool is pinned to
// 239.255.77.0/24 because several default to groups outside 239/8
// (udp-sender derives 232.x.y.z from its address, uftp uses 230.4.4.1 and
// 230.5.5.x); the lab's output guard would drop those anyway.
const (
	blastGroup  = "239.255.77.9:7709"
	udpcastRdv  = "239.255.77.1"
	udpcastData = "239.255.77.4"
	uftpPublic  = "239.255.77.2"
	uftpPrivate = "239.255.77.3"
	udpcastFEC  = "8x8/128"
	// udpcastHelloMillis repeats the sender's HELLO: a receiver whose only
	// connect request was lost waits for a HELLO to send another, and
	// without repeats it waits forever (the man page's advice for lossy
	// networks).
	udpcastHelloMillis = "500"
	readyWaitLimit     = 10 // seconds a receiver has to say it is ready
)

// toolSpec says how to run one tool in a lab. Receivers start first, the
// sender once every receiver is ready.
type toolSpec struct {
	name string
	// receiver returns the argv of receiver i (0-based); dir is its
	// destination directory, scratch a private directory for temp files.
	receiver func(env runEnv, i int, dir, scratch string) []string
	// sender returns the sender's argv.
	sender func(env runEnv) []string
	// readyLine, if set, is printed (stdout or stderr) by a receiver once it
	// listens; otherwise the sender starts after receiverSettle.
	readyLine string
	// blast marks the raw ceiling tool: no file, receivers print JSON.
	blast bool
	// skip, if not empty, is why the tool cannot run here.
	skip string
	// prepareSender, if set, readies the sender's home before any receiver
	// starts (not timed) and returns what prepareReceiver needs from it
	// (herald: the join code of the channel the sender made).
	prepareSender func(env runEnv, home string) (string, error)
	// prepareReceiver, if set, readies a receiver's home before it starts
	// (not timed), given what prepareSender returned.
	prepareReceiver func(env runEnv, home, fromSender string) error
}

// toolPaths is where the driver's own programs are, found once per driver
// run and passed down to everything that starts them.
type toolPaths struct {
	blast      string // bench/cmd/blast
	herald     string // "" when heraldSkip says why herald cannot run
	heraldSkip string
}

// runEnv is what a tool needs to build its command lines.
type runEnv struct {
	toolPaths
	sc      scenario
	lab     *netlab.Lab
	src     string // source file
	timeout int    // seconds, for the tools' own start/receive timeouts
}

// outputPath is where receiver dir gets the file: every tool keeps the base
// name of the source.
func outputPath(dir, src string) string { return filepath.Join(dir, filepath.Base(src)) }

// uftpClientID is the UID uftpd derives from an IPv4 address; set it
// explicitly on both sides so the sender can wait for exactly these clients
// (closed group, -H) instead of an announcement timeout.
func uftpClientID(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("0x%02X%02X%02X%02X", b[0], b[1], b[2], b[3])
}

func allTools(heraldSkip string) []toolSpec {
	return []toolSpec{
		{
			name:      "raw",
			blast:     true,
			readyLine: "ready",
			receiver: func(env runEnv, i int, dir, scratch string) []string {
				return []string{env.blast, "recv", "-group", blastGroup, "-iface", netlab.HostIface,
					"-timeout", fmt.Sprintf("%ds", env.timeout), "-idle", "3s"}
			},
			sender: func(env runEnv) []string {
				return []string{env.blast, "send", "-group", blastGroup, "-iface", netlab.HostIface,
					"-bytes", fmt.Sprint(env.sc.fileBytes())}
			},
		},
		udpcast("udpcast", ""),
		udpcast("udpcast-fec", udpcastFEC),
		uftp("uftp", nil, nil),
		uftp("uftp-enc", []string{"-Y", "aes256-gcm", "-h", "sha256", "-e", "ecdh_ecdsa"}, []string{"-K", "ec:prime256v1"}),
		heraldTool("herald", heraldSkip, func(scenario) []string { return nil }),
		heraldTool("herald-fixed", heraldSkip, func(sc scenario) []string { return []string{"--rate", heraldRate(sc)} }),
	}
}

// heraldTool is herald as README's walkthrough runs it: the sender (the
// teacher) makes the channel "bench" in its own home, which also makes it
// its default channel; each receiver (a student) joins with the join code,
// which carries the sender's fingerprint, so receive accepts the sender's
// pushes with no other step (no --accept-any, no herald trust). Every host
// keeps the default name (no --name): see heraldHome. The push is sealed to
// the channel. "herald" is the default push (auto rate, issue 12's
// targets); "herald-fixed" is given the link rate, as udpcast and uftp are.
// --once only makes receive exit after the push, so the driver can time it.
func heraldTool(name, skip string, rateArgs func(scenario) []string) toolSpec {
	return toolSpec{
		name: name,
		skip: skip,
		prepareSender: func(env runEnv, home string) (string, error) {
			return heraldChannelNew(env.herald, home, benchChannelName)
		},
		prepareReceiver: func(env runEnv, home, joinCode string) error {
			return heraldChannelJoin(env.herald, home, joinCode)
		},
		receiver: func(env runEnv, i int, dir, scratch string) []string {
			return []string{env.herald, "receive", "--once", "--dir", dir}
		},
		sender: func(env runEnv) []string {
			args := append([]string{env.herald, "push"}, rateArgs(env.sc)...)
			return append(args, "--min-receivers", fmt.Sprint(env.sc.Receivers), env.src)
		},
	}
}

// benchChannelName is the channel the bench's herald sender makes.
const benchChannelName = "bench"

// heraldHome is herald's default home for a host whose HOME is home, as
// startProc sets it (XDG_CONFIG_HOME=home/.config).
//
// The channel commands run on the driver's host, outside the lab, so the
// identity they create carries herald's default name, user@hostname, with
// the machine's one hostname: every lab host gets the same name, as cloned
// lab images do. The name is stored with the identity, so the per-host
// hostname that Lab.Command sets later does not change it.
func heraldHome(home string) string { return filepath.Join(home, ".config", "herald") }

// heraldChannelNew runs `herald channel new NAME` in home, as the teacher
// of README's walkthrough does, and returns the join code it prints.
func heraldChannelNew(herald, home, name string) (string, error) {
	cmd := exec.Command(herald, "--home", heraldHome(home), "channel", "new", name)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("herald channel new %s: %v: %s", name, err, stderr.String())
	}
	code, ok := joinCodeIn(string(out))
	if !ok {
		return "", fmt.Errorf("herald channel new %s: no join code in %q", name, out)
	}
	return code, nil
}

// joinCodeIn finds the code on the "join code: CODE" line that `herald
// channel new` prints.
func joinCodeIn(out string) (string, bool) {
	for line := range strings.Lines(out) {
		if code, ok := strings.CutPrefix(strings.TrimSpace(line), "join code:"); ok {
			if code = strings.TrimSpace(code); code != "" {
				return code, true
			}
		}
	}
	return "", false
}

// heraldChannelJoin runs `herald channel join CODE` in home, as each
// student of README's walkthrough does.
func heraldChannelJoin(herald, home, joinCode string) error {
	if out, err := exec.Command(herald, "--home", heraldHome(home), "channel", "join", joinCode).CombinedOutput(); err != nil {
		return fmt.Errorf("herald channel join: %v: %s", err, out)
	}
	return nil
}

// heraldRate is the link rate less 5 %: herald's best documented setting
// when the link is known, as udpcast and uftp get theirs.
func heraldRate(sc scenario) string {
	if sc.RateMbit <= 0 {
		return "auto"
	}
	return fmt.Sprintf("%dM", sc.RateMbit*95/100)
}

// udpcast: receivers rendezvous with the sender on udpcastRdv, the sender
// starts once all receivers connected (--min-receivers) and multicasts on
// udpcastData. --full-duplex is right for a switched network. fec adds
// --fec (interleave x redundancy / stripe size) on top of retransmission.
// A lost CONNECT_REPLY is never repeated once the transfer started, so under
// loss a udpcast run can hang until the run timeout; that is a result, not a
// lab fault.
func udpcast(name, fec string) toolSpec {
	return toolSpec{
		name: name,
		receiver: func(env runEnv, i int, dir, scratch string) []string {
			return []string{"udp-receiver", "--nokbd", "--interface", netlab.HostIface,
				"--mcast-rdv-address", udpcastRdv, "--file", outputPath(dir, env.src),
				"--start-timeout", fmt.Sprint(env.timeout), "--receive-timeout", fmt.Sprint(env.timeout)}
		},
		sender: func(env runEnv) []string {
			argv := []string{"udp-sender", "--nokbd", "--interface", netlab.HostIface,
				"--mcast-rdv-address", udpcastRdv, "--mcast-data-address", udpcastData,
				"--min-receivers", fmt.Sprint(env.sc.Receivers), "--full-duplex",
				"--rexmit-hello-interval", udpcastHelloMillis,
				"--start-timeout", fmt.Sprint(env.timeout), "--file", env.src}
			if fec != "" {
				argv = append(argv, "--fec", fec)
			}
			return argv
		},
	}
}

// uftp: uftpd receivers in the foreground (-d) with a temp directory (-T),
// so a file appears in -D only when complete; the sender announces on
// uftpPublic, moves data on uftpPrivate, waits for exactly the listed
// clients (-H) and sends as fast as the interface takes (-R -1, the man
// page's advice when the sender's link is the bottleneck, as here: tbf sits
// on the sender's own interface).
func uftp(name string, senderExtra, receiverExtra []string) toolSpec {
	return toolSpec{
		name: name,
		receiver: func(env runEnv, i int, dir, scratch string) []string {
			h := env.lab.Receivers[i]
			argv := []string{"uftpd", "-d", "-q", "-x", "2", "-I", netlab.HostIface, "-M", uftpPublic,
				"-U", uftpClientID(h.Addr), "-D", dir, "-T", scratch, "-B", "4194304"}
			return append(argv, receiverExtra...)
		},
		sender: func(env runEnv) []string {
			var ids []string
			for _, h := range env.lab.Receivers {
				ids = append(ids, uftpClientID(h.Addr))
			}
			argv := []string{"uftp", "-x", "2", "-I", netlab.HostIface, "-M", uftpPublic, "-P", uftpPrivate,
				"-R", "-1", "-B", "4194304", "-H", strings.Join(ids, ",")}
			argv = append(argv, senderExtra...)
			return append(argv, env.src)
		},
	}
}
