-- retire the import tables of the 2019 migration off the old CRM
DROP TABLE IF EXISTS "LegacyCustomers" CASCADE;
DROP SCHEMA IF EXISTS legacy_import CASCADE;
