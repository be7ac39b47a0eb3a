-- DROP TABLE "users"; is only in a comment
INSERT INTO "notes" ("id", "body") VALUES ('00000000-0000-0000-0000-000000000001', 'we will DROP TABLE later; promise');
ALTER TABLE "notes" ADD CONSTRAINT "body_not_empty" CHECK ("body" <> '');
