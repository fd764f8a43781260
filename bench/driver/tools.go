package main

import (
	"fmt"
	"net/netip"
	"os"
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
	// prepare, if set, readies a host's home before the run (not timed).
	prepare func(env runEnv, home string) error
}

// toolPaths is where the driver's own programs are, found once per driver
// run and passed down to everything that starts them.
type toolPaths struct {
	blast      string // bench/cmd/blast
	herald     string // "" when heraldSkip says why herald cannot run
	heraldSkip string
	// channel is the bench channel every herald host joins.
	channel *benchChannel
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

// heraldTool is herald as a user runs it. Encryption on: every host joins
// the channel "bench" from a shared passphrase, and the push is sealed to
// it. "herald" is the default push (auto rate, issue 12's targets);
// "herald-fixed" is given the link rate, as udpcast and uftp are.
func heraldTool(name, skip string, rateArgs func(scenario) []string) toolSpec {
	return toolSpec{
		name:    name,
		skip:    skip,
		prepare: heraldJoin,
		receiver: func(env runEnv, i int, dir, scratch string) []string {
			return []string{env.herald, "receive", "--once", "--accept-any", "--dir", dir}
		},
		sender: func(env runEnv) []string {
			args := append([]string{env.herald, "push", "--channel", "bench"}, rateArgs(env.sc)...)
			return append(args, "--min-receivers", fmt.Sprint(env.sc.Receivers), env.src)
		},
	}
}

// benchChannel is the bench channel every herald host joins, so pushes run
// encrypted as users run them. Its join code is made by the first join of a
// driver run; joins run one at a time.
type benchChannel struct {
	joinCode string
}

// heraldJoin joins the bench channel in home (HOME of a host; herald's
// home is its config dir) before the timed run.
func heraldJoin(env runEnv, home string) error {
	heraldHome := filepath.Join(home, ".config", "herald")
	bench := env.channel
	if bench.joinCode == "" {
		tmp, err := os.MkdirTemp("", "herald-bench-channel-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		out, err := exec.Command(env.herald, "--home", tmp, "channel", "new", "bench").Output()
		if err != nil {
			return fmt.Errorf("herald channel new: %w", err)
		}
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, "bench-") {
				bench.joinCode = f
			}
		}
		if bench.joinCode == "" {
			return fmt.Errorf("no join code in %q", out)
		}
	}
	// Each host gets its own name (r1, r2, ... from .../rN/home; the
	// sender's from its home), or every identity would be user@hostname,
	// the second one seen would show as a changed key, and the report
	// could not tell the receivers apart.
	name := filepath.Base(home)
	if name == "home" {
		name = filepath.Base(filepath.Dir(home))
	}
	if out, err := exec.Command(env.herald, "--home", heraldHome, "--name", name, "channel", "join", bench.joinCode).CombinedOutput(); err != nil {
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
