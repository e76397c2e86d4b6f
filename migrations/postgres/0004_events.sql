-- The outbox: events written in the same transaction as the change they announce. Events are
-- thin (type, client, changed categories — never values). `position` orders them for the whole
-- deployment: appends are serialised by the audit log head, so positions follow commit order.
CREATE TABLE events (
    position    BIGSERIAL PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    event_type  TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    categories  TEXT NOT NULL,
    significant INTEGER NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX events_client ON events (client_id, position);
