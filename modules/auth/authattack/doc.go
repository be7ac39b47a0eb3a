// Package authattack is the attack suite of the auth module: black-box
// tests that attack the running application over HTTP, on SQLite and on
// Postgres, each case citing the RFC or OWASP ASVS 5.0 requirement it
// checks. It has no production code; see attack_test.go.
package authattack
