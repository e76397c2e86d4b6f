-- Competence (issue 13): for each client and party kind at most one party is competent (the
-- OCMW that grants the living wage, the agency that runs the trajectory, KBI); the others
-- linked are involved. Authority (writing, reading one's own fields, deciding an infraction,
-- recording consent) belongs to the competent party, never to a kind.
--
-- party_kind is the kind of party_id when the link was made (NULL on links made before this
-- migration: the gateway fills it in at start from the configured parties). claimed_at is set
-- on an involved link that claims competence; the claim takes effect when the competent
-- party's link ends or that party hands competence over.
ALTER TABLE client_links ADD COLUMN role TEXT NOT NULL DEFAULT 'competent' CHECK (role IN ('competent', 'involved'));
ALTER TABLE client_links ADD COLUMN party_kind TEXT;
ALTER TABLE client_links ADD COLUMN claimed_at INTEGER;
CREATE UNIQUE INDEX client_links_competent ON client_links (client_id, party_kind)
    WHERE ended_at IS NULL AND role = 'competent';

-- An infraction is routed to the competent party of the sanctioning kind (SWO art. 12), and
-- decided only by it. NULL when no party of that kind was competent when it was recorded.
ALTER TABLE infractions ADD COLUMN routed_party TEXT;
