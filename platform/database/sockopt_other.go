//go:build !linux

package database

import "syscall"

// setUserTimeout: TCP_USER_TIMEOUT is Linux's; elsewhere keepalive alone
// notices a dead peer.
func setUserTimeout(string, string, syscall.RawConn) error { return nil }
