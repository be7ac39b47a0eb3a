package httpserver

import "golang.org/x/sys/unix"

// peerHungUp asks the kernel, without waiting, whether the peer has shut
// its side down (POLLRDHUP: a FIN, even behind unread pipelined bytes) or
// the connection has failed (POLLHUP, POLLERR after a reset).
func peerHungUp(fd uintptr) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}} //nolint:gosec // a socket descriptor fits an int32
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
}
