-- Create "password_resets" table
CREATE TABLE `password_resets` (`id` uuid NOT NULL, `user_id` uuid NOT NULL, `token_hash` text NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "passwordreset_token_hash" to table: "password_resets"
CREATE UNIQUE INDEX `passwordreset_token_hash` ON `password_resets` (`token_hash`);
-- Create index "passwordreset_user_id" to table: "password_resets"
CREATE INDEX `passwordreset_user_id` ON `password_resets` (`user_id`);
-- Create "refresh_tokens" table
CREATE TABLE `refresh_tokens` (`id` uuid NOT NULL, `session_id` uuid NOT NULL, `token_hash` text NOT NULL, `created_at` datetime NOT NULL, `rotated_at` datetime NULL, `child_nonce` text NULL, PRIMARY KEY (`id`));
-- Create index "refreshtoken_token_hash" to table: "refresh_tokens"
CREATE UNIQUE INDEX `refreshtoken_token_hash` ON `refresh_tokens` (`token_hash`);
-- Create index "refreshtoken_session_id" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_session_id` ON `refresh_tokens` (`session_id`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` uuid NOT NULL, `user_id` uuid NOT NULL, `client_id` text NOT NULL, `user_agent` text NOT NULL DEFAULT (''), `ip` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `last_used_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `revoke_reason` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "session_user_id_created_at" to table: "sessions"
CREATE INDEX `session_user_id_created_at` ON `sessions` (`user_id`, `created_at`);
-- Create "signing_keys" table
CREATE TABLE `signing_keys` (`id` text NOT NULL, `alg` text NOT NULL, `state` text NOT NULL, `private_sealed` blob NOT NULL, `created_at` datetime NOT NULL, `activated_at` datetime NULL, `verify_until` datetime NULL, PRIMARY KEY (`id`));
-- Create index "signingkey_state" to table: "signing_keys"
CREATE INDEX `signingkey_state` ON `signing_keys` (`state`);
-- Create "throttles" table
CREATE TABLE `throttles` (`id` text NOT NULL, `count` integer NOT NULL DEFAULT (0), `window_start` datetime NOT NULL, `blocked_until` datetime NULL, PRIMARY KEY (`id`));
