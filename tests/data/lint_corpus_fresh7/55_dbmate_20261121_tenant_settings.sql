-- migrate:up
alter table tenants add column settings jsonb not null default '{}'::jsonb;
alter table tenants add column trial_ends_at timestamptz default (now() + interval '14 days');

-- migrate:down
alter table tenants drop column trial_ends_at;
alter table tenants drop column settings;
