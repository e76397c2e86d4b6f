-- Every gateway process that serves registers itself, so operators can see which instances
-- share this database and which software version each ran.
CREATE TABLE gateway_instances (
    instance_id TEXT PRIMARY KEY NOT NULL,
    version     TEXT NOT NULL,
    started_at  TEXT NOT NULL
) STRICT;
