-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "kind" character varying NOT NULL DEFAULT 'user';
