DROP TRIGGER IF EXISTS posts_touch ON posts;
