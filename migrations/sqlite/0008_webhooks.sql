-- Webhook delivery state, one stream per party and purpose ("subscription"): how far in the
-- outbox it has been handled, which instance delivers it (a lease, so that two instances on
-- one database never deliver the same stream at once and order is kept), and the events that
-- exhausted their attempts (dead letters) until an operator replays them.
CREATE TABLE webhook_cursors (
    subscription TEXT PRIMARY KEY NOT NULL,
    position     INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_dead_letters (
    subscription        TEXT NOT NULL,
    position            INTEGER NOT NULL,
    event_id            TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    attempts            INTEGER NOT NULL,
    last_error          TEXT NOT NULL,
    dead_at             INTEGER NOT NULL,
    replay_requested_at INTEGER,
    replayed_at         INTEGER,
    PRIMARY KEY (subscription, position)
) STRICT;
