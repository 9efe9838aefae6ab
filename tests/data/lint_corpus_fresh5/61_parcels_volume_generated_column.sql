ALTER TABLE parcels
    ADD COLUMN volume_cm3 integer GENERATED ALWAYS AS (length_cm::integer * width_cm * height_cm) STORED;
ALTER TABLE parcels ALTER COLUMN contents SET STORAGE EXTERNAL;
