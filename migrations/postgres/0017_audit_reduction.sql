-- The audit log's own retention (`retention.audit_log_days`): records older than it may be
-- reduced to their leaf hashes, which the tree keeps (audit_nodes, level 0), so that every
-- checkpoint, consistency proof and `audit verify` still holds over the whole tree. What is
-- reduced is always a prefix of the log, [0, below), ending at the tree size of a checkpoint
-- signed before `cutoff`: `below` only moves forward, and a record may be removed only below
-- it and only once its leaf hash is in the tree. Anything else stays refused. Only the owner
-- role reduces: the serving role holds no DELETE on the log (README, production).
CREATE TABLE audit_reduced (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    below      BIGINT NOT NULL,
    -- Every reduced record was appended before this time (microseconds): the checkpoint
    -- ending the reduced prefix was signed before it.
    cutoff     BIGINT NOT NULL,
    reduced_at BIGINT NOT NULL
);
INSERT INTO audit_reduced (id, below, cutoff, reduced_at) VALUES (1, 0, 0, 0);

CREATE FUNCTION audit_reduced_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.below < OLD.below
       OR NOT EXISTS (SELECT 1 FROM audit_checkpoints
                      WHERE tree_size = NEW.below AND created_at < NEW.cutoff) THEN
        RAISE EXCEPTION 'audit_reduced only moves forward, to a checkpoint signed before its cutoff';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_reduced_forward_only BEFORE UPDATE OR DELETE ON audit_reduced
    FOR EACH ROW EXECUTE FUNCTION audit_reduced_forward_only();
CREATE TRIGGER audit_reduced_no_truncate BEFORE TRUNCATE ON audit_reduced
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- A record, or its row of the client index, may be removed only below the reduced mark, and a
-- record only once its leaf hash is in the tree.
CREATE FUNCTION audit_log_reduce_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.seq >= (SELECT below FROM audit_reduced WHERE id = 1)
       OR (TG_TABLE_NAME = 'audit_log' AND NOT EXISTS (
           SELECT 1 FROM audit_nodes WHERE level = 0 AND idx = OLD.seq)) THEN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END IF;
    RETURN OLD;
END;
$$;
DROP TRIGGER audit_log_no_update ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reduce_only();
DROP TRIGGER audit_record_clients_no_update ON audit_record_clients;
CREATE TRIGGER audit_record_clients_no_update BEFORE UPDATE ON audit_record_clients
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_record_clients_no_delete BEFORE DELETE ON audit_record_clients
    FOR EACH ROW EXECUTE FUNCTION audit_log_reduce_only();
