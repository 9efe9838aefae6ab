-- knex migrate:latest --debug (20261123_widen_room_label.js)
-- table.string('label', 60).notNullable().alter()
begin;
alter table "rooms" alter column "label" drop default;
alter table "rooms" alter column "label" drop not null;
alter table "rooms" alter column "label" type varchar(60) using ("label"::varchar(60));
alter table "rooms" alter column "label" set not null;
commit;
