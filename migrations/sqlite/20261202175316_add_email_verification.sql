-- Add columns "email_verified" and "email_verified_at" to table: "users"
-- (ALTER TABLE rather than Atlas's table rebuild: nothing else changes).
ALTER TABLE `users` ADD COLUMN `email_verified` bool NOT NULL DEFAULT (false);
ALTER TABLE `users` ADD COLUMN `email_verified_at` datetime NULL;
-- Accounts that exist before verification does are taken as verified: they
-- were created by an administrator or signed in without it, and turning
-- EMAIL_VERIFICATION=required on must not lock them out.
UPDATE `users` SET `email_verified` = true, `email_verified_at` = `created_at`;
-- Create "email_tokens" table
CREATE TABLE `email_tokens` (`id` uuid NOT NULL, `user_id` uuid NOT NULL, `purpose` text NOT NULL, `email` text NOT NULL, `token_hash` text NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "emailtoken_token_hash" to table: "email_tokens"
CREATE UNIQUE INDEX `emailtoken_token_hash` ON `email_tokens` (`token_hash`);
-- Create index "emailtoken_user_id_purpose" to table: "email_tokens"
CREATE INDEX `emailtoken_user_id_purpose` ON `email_tokens` (`user_id`, `purpose`);
