alter table "public"."driver_locations" add column "heading" numeric
 null;
CREATE  INDEX "driver_locations_driver_id_recorded_at_key" on
  "public"."driver_locations" using btree ("driver_id", "recorded_at");
