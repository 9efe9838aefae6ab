-- knex migrate:latest --debug (20261115103000_alter_driver_status.js: table.string('status', 40).alter())
alter table "drivers" alter column "status" drop default;
alter table "drivers" alter column "status" drop not null;
alter table "drivers" alter column "status" type varchar(40) using ("status"::varchar(40));
alter table "drivers" alter column "status" set default 'active';
alter table "drivers" alter column "status" set not null;
