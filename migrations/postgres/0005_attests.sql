-- Attests notified by KBI (SWO art. 13), one row per KBI reference: a repeated notification
-- with the same reference changes nothing.
CREATE TABLE kbi_attests (
    reference   TEXT PRIMARY KEY NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    kind        TEXT NOT NULL,
    issued_on   TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
