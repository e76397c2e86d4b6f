-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): one row per key a caller sent
-- on a POST, so that a retry answers the first answer again, on any instance, after a restart.
-- The key itself is never stored: `key_digest` is a digest of the key under its party and user.
-- `attempt` names the request that holds the key; while it runs, `lease_until` bounds how long
-- (a crashed attempt frees the key when its lease ends); `applied_at` is set in the very
-- transaction that commits the request's change, so a change that committed is never made
-- twice even when its answer was lost. `response` is the answer, sealed like the other
-- personal text and bound to its row (see src/store/sealing.rs); `client_id` names the client
-- it concerns, for the replay's audit record and for the client's erasure.
CREATE TABLE idempotency_keys (
    key_digest  TEXT PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    attempt     TEXT NOT NULL,
    lease_until INTEGER,
    applied_at  INTEGER,
    client_id   TEXT,
    status      INTEGER,
    response    TEXT,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_client ON idempotency_keys (client_id);
