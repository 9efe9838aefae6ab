-- migrations/20261113101010_customers_name_text.js
--   table.text('name').alter()
alter table "customers" alter column "name" drop default;
alter table "customers" alter column "name" drop not null;
alter table "customers" alter column "name" type text using ("name"::text);
