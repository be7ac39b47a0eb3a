-- Create "notes" table
CREATE TABLE "notes" ("id" uuid NOT NULL, "body" text NOT NULL, PRIMARY KEY ("id"));
CREATE INDEX "note_body" ON "notes" ("body");
