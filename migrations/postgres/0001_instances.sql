-- Every gateway process that serves registers itself, so operators can see which instances
-- share this database and which software version each ran.
CREATE TABLE gateway_instances (
    instance_id UUID PRIMARY KEY,
    version     TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL
);
