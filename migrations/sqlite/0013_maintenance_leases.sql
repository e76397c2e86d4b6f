-- Jobs that one instance at a time must run (the retention run): the instance holding an
-- unexpired lease runs it; another takes the lease over only once it has expired.
CREATE TABLE maintenance_leases (
    name   TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until  INTEGER NOT NULL
) STRICT;
