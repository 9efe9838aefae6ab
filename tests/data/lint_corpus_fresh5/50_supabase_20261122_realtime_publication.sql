drop publication if exists logistics_realtime;

create publication logistics_realtime for table "public"."shipments", "public"."tracking_events";

alter table "public"."shipments" replica identity full;
