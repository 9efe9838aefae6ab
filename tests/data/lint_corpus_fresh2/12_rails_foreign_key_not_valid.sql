-- Rails: add_foreign_key :invoices, :users, validate: false, then validate_foreign_key in the next migration
SET lock_timeout TO '5s';
ALTER TABLE "invoices" ADD CONSTRAINT "fk_rails_invoices_users" FOREIGN KEY ("user_id") REFERENCES "users" ("id") NOT VALID;
ALTER TABLE "invoices" VALIDATE CONSTRAINT "fk_rails_invoices_users";
