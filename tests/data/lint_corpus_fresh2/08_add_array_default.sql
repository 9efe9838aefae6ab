-- Rails: add_column :users, :roles, :string, array: true, default: [], null: false
ALTER TABLE "users" ADD "roles" character varying[] DEFAULT '{}' NOT NULL;
