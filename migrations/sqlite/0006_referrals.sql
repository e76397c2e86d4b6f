-- Referrals between parties (SWO art. 4) and the messages on them (decisions' reasons and
-- feedback, "terugkoppeling"). Visible to the sending and the receiving party only.
CREATE TABLE referrals (
    referral_id        TEXT PRIMARY KEY NOT NULL,
    client_id          TEXT NOT NULL REFERENCES clients (client_id),
    from_party         TEXT NOT NULL,
    to_party           TEXT NOT NULL,
    direction          TEXT NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT NOT NULL,
    evidence_reference TEXT,
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX referrals_from ON referrals (from_party, created_at);
CREATE INDEX referrals_to ON referrals (to_party, created_at);
CREATE INDEX referrals_client ON referrals (client_id);

CREATE TABLE referral_messages (
    message_id  TEXT PRIMARY KEY NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (referral_id),
    kind        TEXT NOT NULL,
    party       TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX referral_messages_referral ON referral_messages (referral_id, created_at);
