-- migrations/20261113_refunds_reason_text.js (knex migrate:latest --debug)
-- table.text('reason').nullable().alter()
alter table "refunds" alter column "reason" drop default;
alter table "refunds" alter column "reason" drop not null;
alter table "refunds" alter column "reason" type text using ("reason"::text);
