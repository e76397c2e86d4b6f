-- Infractions (SWO art. 12): recorded by the integration agency, routed to the party that held
-- the sanction authority when it was recorded, decided once by that party (for the OCMW: its
-- BCSD's decision). Dates are ISO 8601 calendar dates, times microseconds since the epoch.
CREATE TABLE infractions (
    infraction_id     TEXT PRIMARY KEY NOT NULL,
    client_id         TEXT NOT NULL REFERENCES clients (client_id),
    kind              TEXT NOT NULL,
    occurred_on       TEXT NOT NULL,
    description       TEXT NOT NULL,
    routed_to         TEXT NOT NULL,
    recorded_by_party TEXT NOT NULL,
    recorded_by_user  TEXT NOT NULL,
    recorded_at       BIGINT NOT NULL,
    decision          TEXT,
    decided_on        TEXT,
    decision_note     TEXT,
    decided_by_party  TEXT,
    decided_by_user   TEXT,
    decided_at        BIGINT
);
CREATE INDEX infractions_client ON infractions (client_id, recorded_at);

-- Events about a referral or an infraction name it (subject_id) and are meant for the parties
-- concerned only (audience: comma-separated party ids); record events leave both empty.
ALTER TABLE events ADD COLUMN subject_id TEXT;
ALTER TABLE events ADD COLUMN audience TEXT;
