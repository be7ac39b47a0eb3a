-- Modify "users" table
ALTER TABLE "users" DROP COLUMN "nickname";
