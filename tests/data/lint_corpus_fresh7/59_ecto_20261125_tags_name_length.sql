-- priv/repo/migrations/20261125083000_widen_tag_names.exs
--   alter table(:tags) do
--     modify :name, :string, size: 100, null: false
--     modify :color, :string, default: "#9e9e9e"
--   end
BEGIN;
ALTER TABLE "tags" ALTER COLUMN "name" TYPE varchar(100), ALTER COLUMN "name" SET NOT NULL, ALTER COLUMN "color" TYPE varchar(255), ALTER COLUMN "color" SET DEFAULT '#9e9e9e';
COMMIT;
