ALTER TYPE post_state RENAME VALUE 'draft' TO 'unpublished';
