package httpserver

import (
	"context"
	"net"
	"syscall"

	"github.com/acme/monolith/platform/peer"
)

// withPeerProbe lets the request's work ask whether the client is still
// connected (see package peer): fasthttp does not cancel the request
// context when the client goes away.
func withPeerProbe(ctx context.Context, conn net.Conn) context.Context {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return ctx
	}
	return peer.WithProbe(ctx, func() bool { return peerClosed(sc) })
}

// peerClosed asks the kernel whether the client has closed its side of
// the connection; pending bytes (a pipelined request) do not hide it. It
// never reads: fasthttp owns the connection's data.
func peerClosed(sc syscall.Conn) bool {
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	_ = rc.Control(func(fd uintptr) { gone = peerHungUp(fd) })
	return gone
}
