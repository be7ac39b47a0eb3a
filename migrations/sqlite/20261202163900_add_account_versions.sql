-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_users" table
CREATE TABLE `new_users` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `full_name` text NOT NULL DEFAULT (''), `password_hash` text NOT NULL, `is_active` bool NOT NULL DEFAULT (true), `is_superuser` bool NOT NULL DEFAULT (false), `kind` text NOT NULL DEFAULT ('user'), `authz_version` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `created_at`, `updated_at`, `email`, `full_name`, `password_hash`, `is_active`, `is_superuser`, `kind`) SELECT `id`, `created_at`, `updated_at`, `email`, `full_name`, `password_hash`, `is_active`, `is_superuser`, `kind` FROM `users`;
-- Drop "users" table after copying rows
DROP TABLE `users`;
-- Rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
-- Create index "user_created_at_id" to table: "users"
CREATE INDEX `user_created_at_id` ON `users` (`created_at`, `id`);
-- Create "authz_epochs" table
CREATE TABLE `authz_epochs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `version` integer NOT NULL DEFAULT (0));
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
