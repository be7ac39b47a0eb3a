-- Create "password_resets" table
CREATE TABLE "password_resets" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "token_hash" character(64) NOT NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "passwordreset_token_hash" to table: "password_resets"
CREATE UNIQUE INDEX "passwordreset_token_hash" ON "password_resets" ("token_hash");
-- Create index "passwordreset_user_id" to table: "password_resets"
CREATE INDEX "passwordreset_user_id" ON "password_resets" ("user_id");
-- Create "refresh_tokens" table
CREATE TABLE "refresh_tokens" ("id" uuid NOT NULL, "session_id" uuid NOT NULL, "token_hash" character(64) NOT NULL, "created_at" timestamptz NOT NULL, "rotated_at" timestamptz NULL, "child_nonce" character varying(64) NULL, PRIMARY KEY ("id"));
-- Create index "refreshtoken_session_id" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_session_id" ON "refresh_tokens" ("session_id");
-- Create index "refreshtoken_token_hash" to table: "refresh_tokens"
CREATE UNIQUE INDEX "refreshtoken_token_hash" ON "refresh_tokens" ("token_hash");
-- Create "sessions" table
CREATE TABLE "sessions" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "client_id" character varying(64) NOT NULL, "user_agent" character varying(256) NOT NULL DEFAULT '', "ip" character varying(64) NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "last_used_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "revoked_at" timestamptz NULL, "revoke_reason" character varying(32) NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "session_user_id_created_at" to table: "sessions"
CREATE INDEX "session_user_id_created_at" ON "sessions" ("user_id", "created_at");
-- Create "signing_keys" table
CREATE TABLE "signing_keys" ("id" character varying(64) NOT NULL, "alg" character varying(16) NOT NULL, "state" character varying NOT NULL, "private_sealed" bytea NOT NULL, "created_at" timestamptz NOT NULL, "activated_at" timestamptz NULL, "verify_until" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "signingkey_state" to table: "signing_keys"
CREATE INDEX "signingkey_state" ON "signing_keys" ("state");
-- Create "throttles" table
CREATE TABLE "throttles" ("id" character varying(128) NOT NULL, "count" bigint NOT NULL DEFAULT 0, "window_start" timestamptz NOT NULL, "blocked_until" timestamptz NULL, PRIMARY KEY ("id"));
