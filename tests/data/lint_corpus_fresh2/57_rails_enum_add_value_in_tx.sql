BEGIN;
ALTER TYPE post_state ADD VALUE 'hidden' BEFORE 'published';
COMMIT;
