ALTER TABLE posts DISABLE TRIGGER posts_touch;
UPDATE posts SET views = 0 WHERE views IS NULL;
ALTER TABLE posts ENABLE TRIGGER posts_touch;
