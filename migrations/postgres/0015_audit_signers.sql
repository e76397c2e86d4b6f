-- The keys that signed the audit log's checkpoints, by key hash (the C2SP signed-note key ID),
-- with the first and last tree size each signed: after a rotation of the signing key the
-- verifier-key listing says which key to check which checkpoint with. Kept as the checkpoints
-- are signed; a deployment from before this table fills it from its checkpoints at start.
CREATE TABLE audit_signers (
    key_hash        BYTEA PRIMARY KEY,
    first_tree_size BIGINT NOT NULL,
    last_tree_size  BIGINT NOT NULL,
    checkpoints     BIGINT NOT NULL
);
