-- V102__tag_color_domain.sql
-- colours come from the colour picker as #rrggbb; keep garbage out at the database
CREATE DOMAIN hex_color AS VARCHAR(7) CHECK (VALUE ~ '^#[0-9a-fA-F]{6}$');

ALTER TABLE tags ALTER COLUMN color TYPE hex_color USING color::hex_color;
ALTER TABLE tags ALTER COLUMN color SET DEFAULT '#9e9e9e';
