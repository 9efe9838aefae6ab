-- Django: null=True on Post.body
ALTER TABLE "posts" ALTER COLUMN "body" DROP NOT NULL;
