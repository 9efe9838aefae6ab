-- +goose Up
-- +goose StatementBegin
ALTER TABLE route_stops
    ADD COLUMN lat double precision,
    ADD COLUMN lng double precision;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE route_stops
    DROP COLUMN lat,
    DROP COLUMN lng;
-- +goose StatementEnd
