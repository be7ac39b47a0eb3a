-- Create "roles" table
CREATE TABLE "roles" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying(64) NOT NULL, "permissions" jsonb NOT NULL, "all_permissions" boolean NOT NULL DEFAULT false, "builtin" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"));
-- Create index "role_created_at_id" to table: "roles"
CREATE INDEX "role_created_at_id" ON "roles" ("created_at", "id");
-- Create index "role_name" to table: "roles"
CREATE UNIQUE INDEX "role_name" ON "roles" ("name");
-- Create "user_roles" table
CREATE TABLE "user_roles" ("user_id" uuid NOT NULL, "role_id" uuid NOT NULL, PRIMARY KEY ("user_id", "role_id"), CONSTRAINT "user_roles_role_id" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "user_roles_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Data: the built-in admin role (every permission, declared now or later; its id is usersvc.AdminRoleID), held by every superuser
INSERT INTO "roles" ("id", "created_at", "updated_at", "name", "permissions", "all_permissions", "builtin") VALUES ('00000000-0000-4000-8000-00000000ad01', now(), now(), 'admin', '[]', true, true);
INSERT INTO "user_roles" ("user_id", "role_id") SELECT "id", '00000000-0000-4000-8000-00000000ad01' FROM "users" WHERE "is_superuser";
