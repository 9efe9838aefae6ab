-- statements outside ALTER TABLE
SET lock_timeout = '2s';
VACUUM FULL users;
CLUSTER users USING users_pkey;
LOCK TABLE users IN ACCESS EXCLUSIVE MODE;
REFRESH MATERIALIZED VIEW user_stats;
REFRESH MATERIALIZED VIEW CONCURRENTLY user_stats;
CREATE VIEW adults AS SELECT * FROM users WHERE age >= 18;
UPDATE users SET score = 0 WHERE score IS NULL;
COMMENT ON TABLE users IS 'accounts';
DROP DATABASE legacy;
