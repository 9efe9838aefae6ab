SET lock_timeout = '2s';
ALTER TABLE comments ADD CONSTRAINT comments_user_id_not_null CHECK (user_id IS NOT NULL) NOT VALID;
ALTER TABLE comments VALIDATE CONSTRAINT comments_user_id_not_null;
ALTER TABLE comments ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE comments DROP CONSTRAINT comments_user_id_not_null;
