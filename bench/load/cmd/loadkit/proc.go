package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// portsCmd prints two free loopback TCP ports (gRPC, HTTP).
func portsCmd([]string) error {
	var ports []string
	var ls []net.Listener
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	for _, l := range ls {
		l.Close()
	}
	fmt.Println(strings.Join(ports, " "))
	return nil
}

// waitCmd waits until the gRPC health service reports the coverage service
// SERVING and the gateway's GET /healthz answers 200.
func waitCmd(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	grpcAddr := fs.String("grpc", "", "gRPC address")
	httpAddr := fs.String("http", "", "HTTP address")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after")
	pid := fs.Int("pid", 0, "fail at once if this process is gone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	deadline := time.Now().Add(*timeout)
	conn, err := grpc.NewClient(*grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		if *pid > 0 && syscall.Kill(*pid, 0) != nil {
			return fmt.Errorf("the server (pid %d) exited", *pid)
		}
		last = func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "coverage.v1.CoverageService"})
			if err != nil {
				return err
			}
			if r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("gRPC health: %v", r.GetStatus())
			}
			resp, err := client.Get("http://" + *httpAddr + "/healthz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET /healthz: %s", resp.Status)
			}
			return nil
		}()
		if last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not healthy after %s: %v", *timeout, last)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU returns the user + system CPU seconds of a process so far.
func procCPU(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64) // field 14
	stime, err2 := strconv.ParseFloat(f[12], 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (utime + stime) / clockTicks, nil
}

// systemCPU returns the busy CPU seconds of the whole machine so far (every
// state of /proc/stat's "cpu" line but idle and iowait).
func systemCPU() (float64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat")
	}
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, err
		}
		busy += x
	}
	return busy / clockTicks, nil
}

// cpuCmd prints the CPU seconds of a process so far, or with "all" those of
// the whole machine.
func cpuCmd(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: loadkit cpu PID|all")
	}
	var s float64
	var err error
	if args[0] == "all" {
		s, err = systemCPU()
	} else {
		var pid int
		if pid, err = strconv.Atoi(args[0]); err != nil {
			return err
		}
		s, err = procCPU(pid)
	}
	if err != nil {
		return err
	}
	fmt.Printf("%.2f\n", s)
	return nil
}

// quietCmd waits, up to -max, until the machine's CPU use over a 2-second
// window is below -below cores: other work on a shared host would otherwise
// take cores from the server and the load generator. It reports what it saw
// and never fails.
func quietCmd(args []string) error {
	fs := flag.NewFlagSet("quiet", flag.ContinueOnError)
	maxWait := fs.Duration("max", 2*time.Minute, "wait at most this long")
	below := fs.Float64("below", 0.25, "cores")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	for {
		c0, err := systemCPU()
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		c1, err := systemCPU()
		if err != nil {
			return err
		}
		used := (c1 - c0) / 2
		if used < *below {
			fmt.Fprintf(os.Stderr, "machine quiet (%.2f cores busy) after %.0f s\n", used, time.Since(start).Seconds())
			return nil
		}
		if time.Since(start) >= *maxWait {
			fmt.Fprintf(os.Stderr, "machine still busy (%.2f cores used by other processes) after %s; going on\n", used, *maxWait)
			return nil
		}
	}
}

// usage is what exec records of a child.
type usage struct {
	Command   []string `json:"command"`
	WallS     float64  `json:"wall_s"`
	CPUS      float64  `json:"cpu_s"`
	UserS     float64  `json:"user_s"`
	SysS      float64  `json:"sys_s"`
	MaxRSSKiB int64    `json:"maxrss_kib"`
	Exit      int      `json:"exit"`
}

// execCmd runs a command with the standard streams passed through and
// writes its rusage (the kernel's own accounting of the child) to a file.
func execCmd(args []string) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	out := fs.String("rusage", "", "file to write the child's wall time, CPU seconds and peak RSS to (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return fmt.Errorf("no command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	runErr := cmd.Run()
	u := usage{Command: argv, WallS: time.Since(start).Seconds()}
	if cmd.ProcessState == nil {
		return runErr
	}
	u.Exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.UserS = time.Duration(ru.Utime.Nano()).Seconds()
		u.SysS = time.Duration(ru.Stime.Nano()).Seconds()
		u.CPUS = u.UserS + u.SysS
		u.MaxRSSKiB = ru.Maxrss
	}
	if *out != "" {
		if err := writeJSON(*out, u); err != nil {
			return err
		}
	}
	if u.Exit != 0 {
		return exitError(u.Exit)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
