-- knex migrate:latest --debug (20261122_add_insurance_card_columns.js)
begin;
alter table "insurance_policies" add column "card_image_url" varchar(255), add column "verified_at" timestamptz;
commit;
