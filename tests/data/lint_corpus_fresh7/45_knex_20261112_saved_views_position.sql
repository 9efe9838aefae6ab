-- migrations/20261112140500_saved_views_position.js
alter table "saved_views" add column "position" integer not null default '0';
alter table "saved_views" add column "updated_at" timestamptz default CURRENT_TIMESTAMP;
