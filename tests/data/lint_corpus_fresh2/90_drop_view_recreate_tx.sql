BEGIN;
DROP VIEW popular_posts;
CREATE VIEW popular_posts AS SELECT id, user_id, views FROM posts WHERE views > 50;
COMMIT;
