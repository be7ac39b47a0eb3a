-- destructive: users.nickname is unused since v1.4 and its data was copied to profiles
-- Modify "users" table
ALTER TABLE "users" DROP COLUMN "nickname";
