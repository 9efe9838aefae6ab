ALTER TYPE post_state RENAME TO post_status;
