-- Add column "amr" to table: "sessions"
ALTER TABLE `sessions` ADD COLUMN `amr` json NULL;
-- Create "mfa_challenges" table
CREATE TABLE `mfa_challenges` (`id` uuid NOT NULL, `user_id` uuid NOT NULL, `token_hash` text NOT NULL, `client_id` text NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "mfachallenge_token_hash" to table: "mfa_challenges"
CREATE UNIQUE INDEX `mfachallenge_token_hash` ON `mfa_challenges` (`token_hash`);
-- Create index "mfachallenge_expires_at" to table: "mfa_challenges"
CREATE INDEX `mfachallenge_expires_at` ON `mfa_challenges` (`expires_at`);
-- Create "mfa_factors" table
CREATE TABLE `mfa_factors` (`id` uuid NOT NULL, `user_id` uuid NOT NULL, `secret_sealed` blob NOT NULL, `created_at` datetime NOT NULL, `confirmed_at` datetime NULL, `last_step` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create index "mfafactor_user_id" to table: "mfa_factors"
CREATE UNIQUE INDEX `mfafactor_user_id` ON `mfa_factors` (`user_id`);
-- Create "mfa_recovery_codes" table
CREATE TABLE `mfa_recovery_codes` (`id` uuid NOT NULL, `user_id` uuid NOT NULL, `code_hash` text NOT NULL, `created_at` datetime NOT NULL, `used_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "mfarecoverycode_user_id_code_hash" to table: "mfa_recovery_codes"
CREATE UNIQUE INDEX `mfarecoverycode_user_id_code_hash` ON `mfa_recovery_codes` (`user_id`, `code_hash`);
