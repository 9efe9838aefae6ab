-- migrations/20261111093012_tickets_snoozed_until.js (knex migrate:latest --debug)
alter table "tickets" add column "snoozed_until" timestamptz;
create index "tickets_snoozed_until_index" on "tickets" ("snoozed_until");
