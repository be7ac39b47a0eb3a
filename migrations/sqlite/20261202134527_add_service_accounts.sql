-- Add column "kind" to table: "users"
-- Written as ALTER TABLE, not the table rebuild Atlas generates for
-- SQLite: the rebuild's DROP TABLE "users" would cascade to user_roles,
-- because PRAGMA foreign_keys cannot be turned off inside the
-- transaction each migration file runs in.
ALTER TABLE `users` ADD COLUMN `kind` text NOT NULL DEFAULT ('user');
