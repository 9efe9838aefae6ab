/* ticket SHOP-812: care instructions; shown on the product page.
   NB: the default text below contains semicolons; do not split on them */
ALTER TABLE products -- the catalogue
    ADD COLUMN "care instructions" text DEFAULT 'Wash cold; tumble dry low; do not iron'; -- nullable on purpose
COMMENT ON COLUMN products."care instructions" IS 'free text; may contain ''quotes''';
DO $migration$
BEGIN
    -- products imported before 2024 get the generic text; the ; in strings must not end the block
    UPDATE products SET "care instructions" = E'See label;\nask support' WHERE id = 1;
    RAISE NOTICE 'done; %', 'ok';
END
$migration$;
