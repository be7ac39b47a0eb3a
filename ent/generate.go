// Package ent holds the code ent generates from ./schema. Never edit it by
// hand: change the schema and run `make generate`.
package ent

//go:generate go tool ent generate --feature sql/versioned-migration,sql/lock,sql/execquery,sql/modifier ./schema
