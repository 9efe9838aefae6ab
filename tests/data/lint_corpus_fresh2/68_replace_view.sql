CREATE OR REPLACE VIEW popular_posts AS SELECT id, user_id, title FROM posts WHERE views > 10;
