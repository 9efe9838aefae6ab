-- audit_log was created without a primary key (logical replication needs one): build the index first, then adopt it
CREATE UNIQUE INDEX CONCURRENTLY audit_log_id_idx ON public.audit_log (id);
ALTER TABLE public.audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY USING INDEX audit_log_id_idx;
