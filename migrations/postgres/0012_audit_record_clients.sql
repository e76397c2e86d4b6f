-- The client index of records that name several clients (a feed page, a listing): one row per
-- (client, record), so that each client's access report and a search by client find a record
-- that showed it among others. Records about one client keep `audit_log.client_id`.
-- Append-only like the log it indexes; `audit verify` checks it against the records.
CREATE TABLE audit_record_clients (
    client_id TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (client_id, seq)
);

CREATE TRIGGER audit_record_clients_no_update BEFORE UPDATE OR DELETE ON audit_record_clients
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_record_clients_no_truncate BEFORE TRUNCATE ON audit_record_clients
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
