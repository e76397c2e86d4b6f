-- The audit log's tables take appends only, whatever the statement form. 0002 refused UPDATE
-- and DELETE on audit_log, but INSERT OR REPLACE (and REPLACE) deletes the conflicting row
-- without firing DELETE triggers (recursive_triggers is off), so a row could be rewritten.
-- Each table now refuses an insert that meets an existing key, and UPDATE and DELETE.
-- Nodes, checkpoints and cosignatures are computed identically by every instance, so an
-- insert identical to the stored row is skipped (what ON CONFLICT DO NOTHING did); any other
-- meets the refusal. The head moves forward only. What SQLite cannot prevent (a tamperer
-- dropping these triggers) the tree, the signed checkpoints and the anchor outside the
-- database detect.

CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TRIGGER audit_nodes_no_replace BEFORE INSERT ON audit_nodes
WHEN EXISTS (SELECT 1 FROM audit_nodes WHERE level = NEW.level AND idx = NEW.idx AND hash IS NOT NEW.hash)
BEGIN SELECT RAISE(ABORT, 'audit_nodes is append-only'); END;
CREATE TRIGGER audit_nodes_same_again BEFORE INSERT ON audit_nodes
WHEN EXISTS (SELECT 1 FROM audit_nodes WHERE level = NEW.level AND idx = NEW.idx AND hash IS NEW.hash)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'audit_nodes is append-only'); END;
CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'audit_nodes is append-only'); END;

CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE tree_size = NEW.tree_size
             AND (root_hash IS NOT NEW.root_hash OR note IS NOT NEW.note))
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_same_again BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE tree_size = NEW.tree_size
             AND root_hash IS NEW.root_hash AND note IS NEW.note)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

CREATE TRIGGER audit_cosignatures_no_replace BEFORE INSERT ON audit_cosignatures
WHEN EXISTS (SELECT 1 FROM audit_cosignatures WHERE tree_size = NEW.tree_size
             AND witness_name = NEW.witness_name AND key_id = NEW.key_id
             AND timestamp = NEW.timestamp AND signature IS NOT NEW.signature)
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;
CREATE TRIGGER audit_cosignatures_same_again BEFORE INSERT ON audit_cosignatures
WHEN EXISTS (SELECT 1 FROM audit_cosignatures WHERE tree_size = NEW.tree_size
             AND witness_name = NEW.witness_name AND key_id = NEW.key_id
             AND timestamp = NEW.timestamp AND signature IS NEW.signature)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER audit_cosignatures_no_update BEFORE UPDATE ON audit_cosignatures
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;
CREATE TRIGGER audit_cosignatures_no_delete BEFORE DELETE ON audit_cosignatures
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;

-- Every append moves the head forward; nothing may move it back (which would have the next
-- appends meet the refusal above) or remove it.
CREATE TRIGGER audit_head_no_replace BEFORE INSERT ON audit_head
WHEN EXISTS (SELECT 1 FROM audit_head WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NEW.id IS NOT OLD.id OR NEW.next_seq < OLD.next_seq
BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END;
