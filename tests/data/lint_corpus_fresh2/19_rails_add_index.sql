-- Rails: add_index :comments, :user_id
CREATE INDEX "index_comments_on_user_id" ON "comments" ("user_id");
