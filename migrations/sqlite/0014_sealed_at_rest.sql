-- Personal text is stored sealed (AES-256-GCM, bound to its table, column and row): the
-- record, referral reasons, evidence references and messages, infraction descriptions and
-- decision notes, consent evidence and dossier references. A sealed value is written as
-- `<key id>.<base64 of the ciphertext>`, so the columns keep their type on both backends and
-- the key a value needs is readable in SQL (`gateway keys status` counts by it). What was
-- stored in clear before gets a `.` in front (a key id is never empty): it reads as before,
-- and `gateway keys migrate` seals it.
UPDATE client_records SET record = '.' || record;
UPDATE referrals SET reason = '.' || reason, evidence_reference = '.' || evidence_reference;
UPDATE referral_messages SET message = '.' || message;
UPDATE infractions SET description = '.' || description, decision_note = '.' || decision_note;
UPDATE consents SET evidence_reference = '.' || evidence_reference;
UPDATE client_links SET dossier_reference = '.' || dossier_reference;
