-- Rails: add_column :users, :nickname, :string
ALTER TABLE "users" ADD "nickname" character varying;
