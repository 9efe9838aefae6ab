-- Rails: change_column :users, :username, :string, limit: 80
ALTER TABLE "users" ALTER COLUMN "username" TYPE character varying(80);
