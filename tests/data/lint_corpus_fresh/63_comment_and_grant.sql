-- comment and grant
COMMENT ON COLUMN accounts.email IS 'login';
GRANT SELECT ON accounts TO PUBLIC;
