DROP INDEX "note_body";
ALTER TABLE "notes" DROP CONSTRAINT "body_not_empty";
