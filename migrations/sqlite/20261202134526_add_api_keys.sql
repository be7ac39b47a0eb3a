-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` uuid NOT NULL, `user_id` uuid NOT NULL, `name` text NOT NULL, `hint` text NOT NULL, `secret_hash` text NOT NULL, `permissions` json NOT NULL, `created_at` datetime NOT NULL, `last_used_at` datetime NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "apikey_secret_hash" to table: "api_keys"
CREATE UNIQUE INDEX `apikey_secret_hash` ON `api_keys` (`secret_hash`);
-- Create index "apikey_user_id_created_at" to table: "api_keys"
CREATE INDEX `apikey_user_id_created_at` ON `api_keys` (`user_id`, `created_at`);
