// Package processtest runs the real `app` binary as separate processes:
// concurrent `migrate up` runs against one database, and SIGTERM while the
// server is under load. The binary is built once per test run.
package processtest
