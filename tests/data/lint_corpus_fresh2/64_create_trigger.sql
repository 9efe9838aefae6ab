CREATE OR REPLACE FUNCTION comments_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_entries (action, at) VALUES ('comment', now());
  RETURN NEW;
END
$$;
CREATE TRIGGER comments_audit AFTER INSERT ON comments FOR EACH ROW EXECUTE FUNCTION comments_audit();
