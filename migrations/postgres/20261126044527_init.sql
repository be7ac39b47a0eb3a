-- Create "users" table
CREATE TABLE "users" ("id" uuid NOT NULL, "email" character varying(254) NOT NULL, "full_name" character varying(255) NOT NULL DEFAULT '', "password_hash" character varying NOT NULL, "is_active" boolean NOT NULL DEFAULT true, "is_superuser" boolean NOT NULL DEFAULT false, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "user_created_at_id" to table: "users"
CREATE INDEX "user_created_at_id" ON "users" ("created_at", "id");
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX "user_email" ON "users" ("email");
