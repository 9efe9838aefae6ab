-- Flyway V31: one price per lane and weight band
CREATE UNIQUE INDEX rate_cards_lane_uq ON rate_cards (carrier_id, origin_country, dest_country, weight_from_g);
