-- Django 4.2: BooleanField(default=False) on posts (one transaction per migration)
BEGIN;
ALTER TABLE "posts" ADD COLUMN "pinned" boolean DEFAULT false NOT NULL;
ALTER TABLE "posts" ALTER COLUMN "pinned" DROP DEFAULT;
COMMIT;
