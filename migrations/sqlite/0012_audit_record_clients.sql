-- The client index of records that name several clients (a feed page, a listing): one row per
-- (client, record), so that each client's access report and a search by client find a record
-- that showed it among others. Records about one client keep `audit_log.client_id`.
-- Append-only like the log it indexes; `audit verify` checks it against the records.
CREATE TABLE audit_record_clients (
    client_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (client_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER audit_record_clients_no_update BEFORE UPDATE ON audit_record_clients
BEGIN SELECT RAISE(ABORT, 'audit_record_clients is append-only'); END;
CREATE TRIGGER audit_record_clients_no_delete BEFORE DELETE ON audit_record_clients
BEGIN SELECT RAISE(ABORT, 'audit_record_clients is append-only'); END;
-- INSERT OR REPLACE removes the conflicting row without a DELETE trigger firing: refuse the
-- insert of a row that exists instead.
CREATE TRIGGER audit_record_clients_no_replace BEFORE INSERT ON audit_record_clients
WHEN EXISTS (SELECT 1 FROM audit_record_clients WHERE client_id = NEW.client_id AND seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit_record_clients is append-only'); END;
