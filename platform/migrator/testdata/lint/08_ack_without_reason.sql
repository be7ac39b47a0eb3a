-- destructive: ok
DROP TABLE "legacy";
