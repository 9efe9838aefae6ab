ALTER INDEX IF EXISTS posts_slug_idx RENAME TO index_posts_on_slug;
