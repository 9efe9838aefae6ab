CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tickets_tenant_id_number_key ON tickets (tenant_id, number);
