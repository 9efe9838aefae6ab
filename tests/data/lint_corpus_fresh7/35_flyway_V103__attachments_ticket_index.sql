-- V103__attachments_ticket_index.sql
CREATE INDEX IF NOT EXISTS idx_attachments_ticket_id ON attachments (ticket_id);
CREATE INDEX IF NOT EXISTS idx_attachments_created_at ON attachments (created_at DESC);
