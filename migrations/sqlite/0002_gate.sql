-- Identifiers are TEXT and times are microseconds since the epoch (INTEGER) on both backends,
-- so that one statement with one set of bindings serves SQLite and PostgreSQL.

-- The reference directory: a client is known only by an opaque id, a keyed pseudonym of the
-- national register number (for look-up) and its encryption (bound to the id).
CREATE TABLE clients (
    client_id         TEXT PRIMARY KEY NOT NULL,
    ssin_pseudonym    BLOB NOT NULL UNIQUE,
    pseudonym_key_id  TEXT NOT NULL,
    ssin_ciphertext   BLOB NOT NULL,
    encryption_key_id TEXT NOT NULL,
    created_at        INTEGER NOT NULL
) STRICT;

-- A party sees a client only while it has an active link (ended_at IS NULL).
CREATE TABLE client_links (
    link_id            INTEGER PRIMARY KEY,
    client_id          TEXT NOT NULL REFERENCES clients (client_id),
    party_id           TEXT NOT NULL,
    legal_basis        TEXT NOT NULL,
    dossier_reference  TEXT NOT NULL,
    linked_at          INTEGER NOT NULL,
    ended_at           INTEGER
) STRICT;
CREATE UNIQUE INDEX client_links_active ON client_links (client_id, party_id) WHERE ended_at IS NULL;
CREATE INDEX client_links_party ON client_links (party_id, client_id);

-- The audit log. `record` is the canonical encoding (the Merkle leaf); the other columns
-- repeat some of its members for searching and are checked against it by `audit verify`.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY NOT NULL,
    recorded_at INTEGER NOT NULL,
    party_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    client_id   TEXT,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    record      BLOB NOT NULL
) STRICT;
CREATE INDEX audit_log_client ON audit_log (client_id, seq) WHERE client_id IS NOT NULL;
CREATE INDEX audit_log_request ON audit_log (request_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The next sequence number. Every append updates this one row in its transaction, which
-- gives the log one total order without gaps, also with several gateway instances.
CREATE TABLE audit_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq INTEGER NOT NULL
) STRICT;
INSERT INTO audit_head (id, next_seq) VALUES (1, 0);

-- Perfect-subtree hashes of the Merkle tree (RFC 9162 §2.1), written off the request path;
-- level 0 holds the leaf hashes. Proofs are computed from O(log n) of these.
CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

-- Signed tree heads (C2SP tlog-checkpoint notes).
CREATE TABLE audit_checkpoints (
    tree_size   INTEGER PRIMARY KEY NOT NULL,
    root_hash   BLOB NOT NULL,
    note        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
