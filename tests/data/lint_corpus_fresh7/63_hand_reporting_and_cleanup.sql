/* reporting access + cleanup, run by hand on prod 2026-12-01
   (copied from the runbook, some of it from the last time we did this) */
\set ON_ERROR_STOP on
\timing on

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'metabase') then
    create role metabase nologin in role reporting_ro;
  end if;
end $$;

grant usage on schema public to reporting_ro;
grant select on all tables in schema public to reporting_ro;
alter default privileges in schema public grant select on tables to reporting_ro;

create extension if not exists pg_trgm;
-- agents search customers by name and email in the sidebar
create index customers_name_trgm_idx on customers using gin (name gin_trgm_ops);
CREATE INDEX customers_email_trgm_idx ON customers USING GIN ((email::text) gin_trgm_ops);

-- audit entries older than 2026-10-15 were exported to S3 yesterday
delete from audit_log where created_at < '2026-10-15';
vacuum (analyze) audit_log;
truncate table email_inbound_log;   -- nobody reads it since the IMAP rewrite
