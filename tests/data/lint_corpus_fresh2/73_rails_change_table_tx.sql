-- Rails: change_table :users { |t| t.string :phone; t.index :phone } (one transaction)
BEGIN;
ALTER TABLE "users" ADD "phone" character varying;
CREATE INDEX "index_users_on_phone" ON "users" ("phone");
COMMIT;
