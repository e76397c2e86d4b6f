-- Identifiers are TEXT and times are microseconds since the epoch (BIGINT) on both backends,
-- so that one statement with one set of bindings serves SQLite and PostgreSQL.

-- The reference directory: a client is known only by an opaque id, a keyed pseudonym of the
-- national register number (for look-up) and its encryption (bound to the id).
CREATE TABLE clients (
    client_id         TEXT PRIMARY KEY,
    ssin_pseudonym    BYTEA NOT NULL UNIQUE,
    pseudonym_key_id  TEXT NOT NULL,
    ssin_ciphertext   BYTEA NOT NULL,
    encryption_key_id TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);

-- A party sees a client only while it has an active link (ended_at IS NULL).
CREATE TABLE client_links (
    link_id            BIGSERIAL PRIMARY KEY,
    client_id          TEXT NOT NULL REFERENCES clients (client_id),
    party_id           TEXT NOT NULL,
    legal_basis        TEXT NOT NULL,
    dossier_reference  TEXT NOT NULL,
    linked_at          BIGINT NOT NULL,
    ended_at           BIGINT
);
CREATE UNIQUE INDEX client_links_active ON client_links (client_id, party_id) WHERE ended_at IS NULL;
CREATE INDEX client_links_party ON client_links (party_id, client_id);

-- The audit log. `record` is the canonical encoding (the Merkle leaf); the other columns
-- repeat some of its members for searching and are checked against it by `audit verify`.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    recorded_at BIGINT NOT NULL,
    party_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    client_id   TEXT,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    record      BYTEA NOT NULL
);
CREATE INDEX audit_log_client ON audit_log (client_id, seq) WHERE client_id IS NOT NULL;
CREATE INDEX audit_log_request ON audit_log (request_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The next sequence number. Every append updates this one row in its transaction, which
-- gives the log one total order without gaps, also with several gateway instances.
CREATE TABLE audit_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq BIGINT NOT NULL
);
INSERT INTO audit_head (id, next_seq) VALUES (1, 0);

-- Perfect-subtree hashes of the Merkle tree (RFC 9162 §2.1), written off the request path;
-- level 0 holds the leaf hashes. Proofs are computed from O(log n) of these.
CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads (C2SP tlog-checkpoint notes).
CREATE TABLE audit_checkpoints (
    tree_size   BIGINT PRIMARY KEY,
    root_hash   BYTEA NOT NULL,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
