-- The audit log's own retention (`retention.audit_log_days`): records older than it may be
-- reduced to their leaf hashes, which the tree keeps (audit_nodes, level 0), so that every
-- checkpoint, consistency proof and `audit verify` still holds over the whole tree. What is
-- reduced is always a prefix of the log, [0, below), ending at the tree size of a checkpoint
-- signed before `cutoff`: `below` only moves forward, and a record may be removed only below
-- it and only once its leaf hash is in the tree. Anything else stays refused.
CREATE TABLE audit_reduced (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    below      INTEGER NOT NULL,
    -- Every reduced record was appended before this time (microseconds): the checkpoint
    -- ending the reduced prefix was signed before it.
    cutoff     INTEGER NOT NULL,
    reduced_at INTEGER NOT NULL
) STRICT;
INSERT INTO audit_reduced (id, below, cutoff, reduced_at) VALUES (1, 0, 0, 0);

CREATE TRIGGER audit_reduced_no_replace BEFORE INSERT ON audit_reduced
WHEN EXISTS (SELECT 1 FROM audit_reduced WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'audit_reduced only moves forward'); END;
CREATE TRIGGER audit_reduced_forward_only BEFORE UPDATE ON audit_reduced
WHEN NEW.id IS NOT OLD.id OR NEW.below < OLD.below
  OR NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE tree_size = NEW.below AND created_at < NEW.cutoff)
BEGIN SELECT RAISE(ABORT, 'audit_reduced only moves forward, to a checkpoint signed before its cutoff'); END;
CREATE TRIGGER audit_reduced_no_delete BEFORE DELETE ON audit_reduced
BEGIN SELECT RAISE(ABORT, 'audit_reduced only moves forward'); END;

DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq >= (SELECT below FROM audit_reduced WHERE id = 1)
  OR NOT EXISTS (SELECT 1 FROM audit_nodes WHERE level = 0 AND idx = OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

DROP TRIGGER audit_record_clients_no_delete;
CREATE TRIGGER audit_record_clients_no_delete BEFORE DELETE ON audit_record_clients
WHEN OLD.seq >= (SELECT below FROM audit_reduced WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit_record_clients is append-only'); END;
