-- Drop "legacy" table
DROP TABLE "legacy";
