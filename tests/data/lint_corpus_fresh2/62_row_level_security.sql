ALTER TABLE posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY posts_owner ON posts USING (user_id = current_setting('app.user_id', true)::bigint);
