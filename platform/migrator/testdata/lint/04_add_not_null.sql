-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "plan" character varying NOT NULL, ADD COLUMN "note" text NULL;
