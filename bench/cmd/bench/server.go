package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a child process serving HTTP: the application or the baseline.
type server struct {
	cmd     *exec.Cmd
	url     string
	pprof   string // base URL of the pprof listener, if any
	logPath string
	// readyPath answers 200 once the server serves.
	readyPath string
	exited    chan struct{}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

// start runs bin with args and exactly env (plus PATH and HOME), logs to
// logPath, and waits for GET /readyz to answer 200.
func start(bin string, args, env []string, addr, logPath string) (*server, time.Duration, error) {
	return startAt(bin, args, env, addr, logPath, "/readyz")
}

// startReady is start for a server whose readiness is at readyPath.
func startReady(bin string, args, env []string, addr, logPath, readyPath string) (*server, error) {
	s, _, err := startAt(bin, args, env, addr, logPath, readyPath)
	return s, err
}

func startAt(bin string, args, env []string, addr, logPath, readyPath string) (*server, time.Duration, error) {
	logf, err := os.Create(logPath) //nolint:gosec // path built by the harness in its temp dir
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // the harness runs the binaries it just built
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	began := time.Now()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, 0, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, logPath: logPath, readyPath: readyPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(s.exited) }()
	ready, err := s.waitReady(began)
	if err != nil {
		s.stop()
		return nil, 0, err
	}
	return s, ready, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// waitReady polls readyPath with fresh connections every millisecond.
func (s *server) waitReady(began time.Time) (time.Duration, error) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := began.Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return 0, fmt.Errorf("server exited before ready; log %s:\n%s", s.logPath, tail(s.logPath))
		default:
		}
		res, err := c.Get(s.url + s.readyPath)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(began), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("server not ready after 90s; log %s", s.logPath)
}

// stop sends SIGTERM and waits for the graceful shutdown (SIGKILL after 30s).
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// goroutines reads the count from the pprof listener.
func (s *server) goroutines(ctx context.Context) (int, error) {
	if s.pprof == "" {
		return 0, errors.New("no pprof listener")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.pprof+"/debug/pprof/goroutine?debug=1", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	n, err := strconv.Atoi(strings.TrimPrefix(first, "goroutine profile: total "))
	if err != nil {
		return 0, fmt.Errorf("goroutine count from %q: %w", first, err)
	}
	return n, nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path) //nolint:gosec // the harness's own log file
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
