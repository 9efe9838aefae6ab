-- audit_entries never had a primary key
CREATE UNIQUE INDEX CONCURRENTLY audit_entries_pkey_idx ON audit_entries (entry_id);
ALTER TABLE audit_entries ADD CONSTRAINT audit_entries_pkey PRIMARY KEY USING INDEX audit_entries_pkey_idx;
