-- Cosignatures of the audit log's checkpoints by the parties' witnesses (C2SP
-- tlog-cosignature, Ed25519 cosignature/v1). A witness cosigns a checkpoint after checking
-- that it is consistent with the last one it saw, so that the operator cannot show the
-- parties two histories; the gateway keeps every cosignature it verified.
CREATE TABLE audit_cosignatures (
    tree_size    BIGINT NOT NULL REFERENCES audit_checkpoints (tree_size),
    witness_name TEXT NOT NULL,
    key_id       BYTEA NOT NULL,
    -- The witness's own time of signing (POSIX seconds), part of what it signed.
    timestamp    BIGINT NOT NULL,
    signature    BYTEA NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (tree_size, witness_name, key_id, timestamp)
);
