ALTER TABLE "users" RENAME COLUMN "email" TO "mail";
ALTER TABLE "users" ALTER COLUMN "age" TYPE bigint;
