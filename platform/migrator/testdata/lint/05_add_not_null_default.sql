-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "plan" character varying NOT NULL DEFAULT 'free', ADD COLUMN "note" text NULL;
