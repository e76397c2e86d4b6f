-- Webhook delivery state, one stream per party and purpose ("subscription"): how far in the
-- outbox it has been handled, which instance delivers it (a lease, so that two instances on
-- one database never deliver the same stream at once and order is kept), and the events that
-- exhausted their attempts (dead letters) until an operator replays them.
CREATE TABLE webhook_cursors (
    subscription TEXT PRIMARY KEY NOT NULL,
    position     BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT NOT NULL
);

CREATE TABLE webhook_dead_letters (
    subscription        TEXT NOT NULL,
    position            BIGINT NOT NULL,
    event_id            TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    attempts            BIGINT NOT NULL,
    last_error          TEXT NOT NULL,
    dead_at             BIGINT NOT NULL,
    replay_requested_at BIGINT,
    replayed_at         BIGINT,
    PRIMARY KEY (subscription, position)
);
