-- Create "users" table
CREATE TABLE `users` (`id` uuid NOT NULL, `email` text NOT NULL, `full_name` text NOT NULL DEFAULT (''), `password_hash` text NOT NULL, `is_active` bool NOT NULL DEFAULT (true), `is_superuser` bool NOT NULL DEFAULT (false), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
-- Create index "user_created_at_id" to table: "users"
CREATE INDEX `user_created_at_id` ON `users` (`created_at`, `id`);
