package migrator

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
)

// RevisionTable is the Atlas CLI's table name, kept so that a team can switch
// to `atlas migrate apply` on an existing database.
const RevisionTable = "atlas_schema_revisions"

// revisions implements migrate.RevisionReadWriter over any query runner (the
// pool, or the transaction a file is applied in). The Atlas library ships
// only a no-op implementation.
type revisions struct {
	q       schema.ExecQuerier
	dialect string
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

func (r *revisions) ph(n int) string {
	if r.dialect == dialect.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

func (r *revisions) createTable(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS ` + RevisionTable + ` (
  version varchar NOT NULL PRIMARY KEY,
  description varchar NOT NULL,
  type bigint NOT NULL DEFAULT 2,
  applied bigint NOT NULL DEFAULT 0,
  total bigint NOT NULL DEFAULT 0,
  executed_at timestamptz NOT NULL,
  execution_time bigint NOT NULL,
  error text NULL,
  error_stmt text NULL,
  hash varchar NOT NULL,
  partial_hashes jsonb NULL,
  operator_version varchar NOT NULL
)`
	if r.dialect == dialect.SQLite {
		ddl = `CREATE TABLE IF NOT EXISTS ` + RevisionTable + ` (
  version text NOT NULL PRIMARY KEY,
  description text NOT NULL,
  type integer NOT NULL DEFAULT 2,
  applied integer NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 0,
  executed_at datetime NOT NULL,
  execution_time integer NOT NULL,
  error text NULL,
  error_stmt text NULL,
  hash text NOT NULL,
  partial_hashes json NULL,
  operator_version text NOT NULL
)`
	}
	if _, err := r.q.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", RevisionTable, err)
	}
	return nil
}

func (r *revisions) tableExists(ctx context.Context) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if r.dialect == dialect.Postgres {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	rows, err := r.q.QueryContext(ctx, q, RevisionTable)
	if err != nil {
		return false, fmt.Errorf("look for %s: %w", RevisionTable, err)
	}
	defer rows.Close()
	var n int
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
	}
	return n > 0, rows.Err()
}

// Ident implements migrate.RevisionReadWriter.
func (r *revisions) Ident() *migrate.TableIdent {
	if r.dialect == dialect.Postgres {
		return &migrate.TableIdent{Name: RevisionTable, Schema: "public"}
	}
	return &migrate.TableIdent{Name: RevisionTable}
}

const selectRevisions = `SELECT version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version FROM ` + RevisionTable

// ReadRevisions implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, selectRevisions+` ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	return revs, rows.Err()
}

// ReadRevision implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, selectRevisions+` WHERE version = `+r.ph(1), version)
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", version, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev           migrate.Revision
		execNanos     int64
		errText, stmt sql.NullString
		partial       []byte
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &rev.Type, &rev.Applied, &rev.Total,
		&rev.ExecutedAt, &execNanos, &errText, &stmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, fmt.Errorf("scan revision: %w", err)
	}
	rev.ExecutionTime = time.Duration(execNanos)
	rev.Error, rev.ErrorStmt = errText.String, stmt.String
	if len(partial) > 0 {
		if err := json.Unmarshal(partial, &rev.PartialHashes); err != nil {
			return nil, fmt.Errorf("decode partial hashes of %s: %w", rev.Version, err)
		}
	}
	return &rev, nil
}

// WriteRevision implements migrate.RevisionReadWriter (an upsert).
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	var partial any
	if len(rev.PartialHashes) > 0 {
		b, err := json.Marshal(rev.PartialHashes)
		if err != nil {
			return err
		}
		partial = string(b)
	}
	q := `INSERT INTO ` + RevisionTable + ` (version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)
VALUES (` + r.placeholders(12) + `)
ON CONFLICT (version) DO UPDATE SET description = excluded.description, type = excluded.type, applied = excluded.applied,
  total = excluded.total, executed_at = excluded.executed_at, execution_time = excluded.execution_time, error = excluded.error,
  error_stmt = excluded.error_stmt, hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`
	_, err := r.q.ExecContext(ctx, q, rev.Version, rev.Description, rev.Type, rev.Applied, rev.Total,
		rev.ExecutedAt.UTC(), int64(rev.ExecutionTime), nullable(rev.Error), nullable(rev.ErrorStmt), rev.Hash, partial, rev.OperatorVersion)
	if err != nil {
		return fmt.Errorf("write revision %s: %w", rev.Version, err)
	}
	return nil
}

// DeleteRevision implements migrate.RevisionReadWriter.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	if _, err := r.q.ExecContext(ctx, `DELETE FROM `+RevisionTable+` WHERE version = `+r.ph(1), version); err != nil {
		return fmt.Errorf("delete revision %s: %w", version, err)
	}
	return nil
}

func (r *revisions) placeholders(n int) string {
	s := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			s += ", "
		}
		s += r.ph(i)
	}
	return s
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
