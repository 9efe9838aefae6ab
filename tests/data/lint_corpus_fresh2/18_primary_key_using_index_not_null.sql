CREATE UNIQUE INDEX CONCURRENTLY api_tokens_pkey_idx ON api_tokens (token);
ALTER TABLE api_tokens ADD PRIMARY KEY USING INDEX api_tokens_pkey_idx;
