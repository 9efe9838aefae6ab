alter table "public"."invoices" enable row level security;

create policy "Customers see their own invoices"
on "public"."invoices"
as permissive
for select
to logistics_app
using ((customer_id = (current_setting('app.customer_id'::text, true))::bigint));

grant select on table "public"."invoices" to "reporting_ro";
