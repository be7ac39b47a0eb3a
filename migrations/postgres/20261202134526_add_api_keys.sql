-- Create "api_keys" table
CREATE TABLE "api_keys" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "hint" character varying(32) NOT NULL, "secret_hash" character(64) NOT NULL, "permissions" jsonb NOT NULL, "created_at" timestamptz NOT NULL, "last_used_at" timestamptz NULL, "expires_at" timestamptz NOT NULL, "revoked_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "apikey_secret_hash" to table: "api_keys"
CREATE UNIQUE INDEX "apikey_secret_hash" ON "api_keys" ("secret_hash");
-- Create index "apikey_user_id_created_at" to table: "api_keys"
CREATE INDEX "apikey_user_id_created_at" ON "api_keys" ("user_id", "created_at");
