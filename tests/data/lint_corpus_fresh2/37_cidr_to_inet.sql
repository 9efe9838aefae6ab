ALTER TABLE users ALTER COLUMN signup_ip TYPE inet;
