// Package processtest runs the real `app` binary as separate processes:
// concurrent `migrate up` runs against one database, SIGTERM while the
// server is under load, and what an operator sees when a start is
// refused. The binary is built once per test run.
package processtest
