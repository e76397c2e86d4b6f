-- The joint-client record, one JSON document of the owned fields per client; `version` is
-- the ETag and every write is conditional on it. Derived values are computed, never stored.
CREATE TABLE client_records (
    client_id  TEXT PRIMARY KEY NOT NULL REFERENCES clients (client_id),
    record     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Consent records. Dates are ISO 8601 text (they compare as text); times are microseconds.
CREATE TABLE consents (
    consent_id         TEXT PRIMARY KEY NOT NULL,
    client_id          TEXT NOT NULL REFERENCES clients (client_id),
    recipient_party    TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    categories         TEXT NOT NULL,
    legal_text_version TEXT NOT NULL,
    language           TEXT NOT NULL,
    evidence_reference TEXT NOT NULL,
    recorded_by_party  TEXT NOT NULL,
    recorded_by_user   TEXT NOT NULL,
    recorded_at        INTEGER NOT NULL,
    valid_from         TEXT NOT NULL,
    valid_until        TEXT,
    withdrawn_at       INTEGER,
    withdrawn_by_party TEXT,
    withdrawn_by_user  TEXT
) STRICT;
CREATE INDEX consents_recipient ON consents (client_id, recipient_party, purpose);
