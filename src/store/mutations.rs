//! Changes to personal data. Each is applied by the audit writer inside the transaction that
//! also appends its audit record, so that a change and its record commit together or not at
//! all (product brief §6).

/// A change requested through the gate.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Link the caller's party to a client, creating the client if it is new.
    RegisterClient(Registration),
    /// End the caller's party's active link with a client.
    EndLink { client_id: String, party: String },
    /// Replace a record, only if it is still at `expected_version` (optimistic concurrency).
    UpdateRecord {
        client_id: String,
        expected_version: i64,
        record_json: String,
    },
    /// Record a consent.
    RecordConsent(ConsentRow),
    /// Record an attest from KBI: the client (created if new), KBI's link, the attest on the
    /// record — once per KBI reference.
    RecordAttest {
        registration: Registration,
        reference: String,
        /// The attest as the record stores it (`{"kind", "issuedOn"}`).
        attest: serde_json::Value,
        kind: String,
        issued_on: String,
    },
    /// Propose a referral.
    CreateReferral(ReferralRow),
    /// Move a referral on, only from the status it was read in; accepting links the receiver.
    TransitionReferral {
        referral_id: String,
        from_status: String,
        to_status: String,
        /// On acceptance: the receiver's new link (client, party).
        link_receiver: Option<(String, String)>,
        message: Option<MessageRow>,
    },
    /// A message on a referral (feedback, SWO art. 4 "terugkoppeling").
    AddReferralMessage(MessageRow),
    /// Record an infraction, routed as the domain decided.
    RecordInfraction(InfractionRow),
    /// Record the decision on an infraction, only if none is recorded yet.
    DecideInfraction {
        infraction_id: String,
        decision: String,
        decided_on: String,
        note: String,
        party: String,
        user: String,
    },
    /// Withdraw a consent (effective at once).
    WithdrawConsent {
        client_id: String,
        consent_id: String,
        party: String,
        user: String,
    },
}

/// A referral as written.
#[derive(Debug, Clone)]
pub struct ReferralRow {
    pub referral_id: String,
    pub client_id: String,
    pub from_party: String,
    pub to_party: String,
    pub direction: String,
    pub reason: String,
    pub evidence_reference: Option<String>,
    pub created_by: String,
}

/// An infraction as written.
#[derive(Debug, Clone)]
pub struct InfractionRow {
    pub infraction_id: String,
    pub client_id: String,
    pub kind: String,
    pub occurred_on: String,
    pub description: String,
    pub routed_to: String,
    pub party: String,
    pub user: String,
}

/// A message on a referral as written.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub referral_id: String,
    pub kind: String,
    pub party: String,
    pub user: String,
    pub message: String,
}

/// A consent as written: the domain values rendered to the portable column types.
#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub consent_id: String,
    pub client_id: String,
    pub recipient_party: String,
    pub purpose: String,
    pub categories: String,
    pub legal_text_version: String,
    pub language: String,
    pub evidence_reference: String,
    pub recorded_by_party: String,
    pub recorded_by_user: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub pseudonym: [u8; 32],
    pub pseudonym_key_id: String,
    /// Used only if the client is new; its ciphertext is bound to it.
    pub new_client_id: String,
    pub ciphertext: Vec<u8>,
    pub encryption_key_id: String,
    pub party: String,
    pub legal_basis: String,
    pub dossier_reference: String,
}

/// What applying a mutation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Nothing,
    Registered {
        client_id: String,
        new_link: bool,
    },
    LinkEnded,
    NotLinked,
    RecordUpdated {
        version: i64,
    },
    /// The record changed since the caller read it.
    Stale,
    ConsentRecorded,
    ConsentWithdrawn,
    /// No such consent for this client, or it was withdrawn before.
    ConsentNotWithdrawable,
    AttestRecorded {
        client_id: String,
    },
    /// The reference was seen before: nothing changed. `same` tells whether the content agrees.
    AttestKnown {
        client_id: String,
        same: bool,
    },
    ReferralCreated,
    ReferralMoved,
    /// The referral changed since it was read.
    ReferralStale,
    MessageAdded,
    InfractionRecorded,
    InfractionDecided,
    /// A decision was recorded on the infraction in the meantime.
    InfractionAlreadyDecided,
    /// The change failed in the database and was rolled back.
    Failed,
}

impl Applied {
    /// The client a change resolved, where it resolves one.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Applied::Registered { client_id, .. } | Applied::AttestRecorded { client_id } => {
                Some(client_id)
            }
            _ => None,
        }
    }

    /// Whether the change took effect (and its events may be written).
    pub const fn is_success(&self) -> bool {
        matches!(
            self,
            Applied::Nothing
                | Applied::Registered { .. }
                | Applied::LinkEnded
                | Applied::RecordUpdated { .. }
                | Applied::ConsentRecorded
                | Applied::ConsentWithdrawn
                | Applied::AttestRecorded { .. }
                | Applied::ReferralCreated
                | Applied::ReferralMoved
                | Applied::MessageAdded
                | Applied::InfractionRecorded
                | Applied::InfractionDecided
        )
    }
}

/// Generates one `apply` per backend from the same body (the SQL is portable; the connection
/// types differ).
macro_rules! apply_fn {
    ($name:ident, $db:ty) => {
        pub(super) async fn $name(
            conn: &mut <$db as sqlx::Database>::Connection,
            mutation: &Mutation,
            now: i64,
        ) -> Result<Applied, sqlx::Error> {
            match mutation {
                Mutation::RegisterClient(r) => {
                    sqlx::query(
                        "INSERT INTO clients (client_id, ssin_pseudonym, pseudonym_key_id, ssin_ciphertext, encryption_key_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ssin_pseudonym) DO NOTHING",
                    )
                    .bind(&r.new_client_id)
                    .bind(r.pseudonym.as_slice())
                    .bind(&r.pseudonym_key_id)
                    .bind(&r.ciphertext)
                    .bind(&r.encryption_key_id)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    let client_id: String =
                        sqlx::query_scalar("SELECT client_id FROM clients WHERE ssin_pseudonym = $1")
                            .bind(r.pseudonym.as_slice())
                            .fetch_one(&mut *conn)
                            .await?;
                    let inserted = sqlx::query(
                        "INSERT INTO client_links (client_id, party_id, legal_basis, dossier_reference, linked_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id, party_id) WHERE ended_at IS NULL DO NOTHING",
                    )
                    .bind(&client_id)
                    .bind(&r.party)
                    .bind(&r.legal_basis)
                    .bind(&r.dossier_reference)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(Applied::Registered {
                        client_id,
                        new_link: inserted.rows_affected() == 1,
                    })
                }
                Mutation::UpdateRecord { client_id, expected_version, record_json } => {
                    let written = if *expected_version == 0 {
                        sqlx::query(
                            "INSERT INTO client_records (client_id, record, version, updated_at) VALUES ($1, $2, 1, $3) \
                             ON CONFLICT (client_id) DO NOTHING",
                        )
                        .bind(client_id)
                        .bind(record_json)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?
                    } else {
                        sqlx::query(
                            "UPDATE client_records SET record = $1, version = version + 1, updated_at = $2 \
                             WHERE client_id = $3 AND version = $4",
                        )
                        .bind(record_json)
                        .bind(now)
                        .bind(client_id)
                        .bind(expected_version)
                        .execute(&mut *conn)
                        .await?
                    };
                    Ok(if written.rows_affected() == 1 {
                        Applied::RecordUpdated { version: expected_version + 1 }
                    } else {
                        Applied::Stale
                    })
                }
                Mutation::RecordConsent(c) => {
                    sqlx::query(
                        "INSERT INTO consents (consent_id, client_id, recipient_party, purpose, categories, legal_text_version, \
                         language, evidence_reference, recorded_by_party, recorded_by_user, recorded_at, valid_from, valid_until) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(&c.consent_id)
                    .bind(&c.client_id)
                    .bind(&c.recipient_party)
                    .bind(&c.purpose)
                    .bind(&c.categories)
                    .bind(&c.legal_text_version)
                    .bind(&c.language)
                    .bind(&c.evidence_reference)
                    .bind(&c.recorded_by_party)
                    .bind(&c.recorded_by_user)
                    .bind(now)
                    .bind(&c.valid_from)
                    .bind(&c.valid_until)
                    .execute(&mut *conn)
                    .await?;
                    Ok(Applied::ConsentRecorded)
                }
                Mutation::WithdrawConsent { client_id, consent_id, party, user } => {
                    let withdrawn = sqlx::query(
                        "UPDATE consents SET withdrawn_at = $1, withdrawn_by_party = $2, withdrawn_by_user = $3 \
                         WHERE client_id = $4 AND consent_id = $5 AND withdrawn_at IS NULL",
                    )
                    .bind(now)
                    .bind(party)
                    .bind(user)
                    .bind(client_id)
                    .bind(consent_id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(if withdrawn.rows_affected() == 1 {
                        Applied::ConsentWithdrawn
                    } else {
                        Applied::ConsentNotWithdrawable
                    })
                }
                Mutation::RecordAttest { registration, reference, attest, kind, issued_on } => {
                    let known: Option<(String, String, String)> = sqlx::query_as(
                        "SELECT client_id, kind, issued_on FROM kbi_attests WHERE reference = $1",
                    )
                    .bind(reference)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if let Some((client_id, known_kind, known_issued_on)) = known {
                        let same = &known_kind == kind && &known_issued_on == issued_on;
                        return Ok(Applied::AttestKnown { client_id, same });
                    }
                    let linked = Box::pin($name(&mut *conn, &Mutation::RegisterClient(registration.clone()), now)).await?;
                    let Applied::Registered { client_id, .. } = linked else {
                        return Ok(Applied::Failed);
                    };
                    sqlx::query(
                        "INSERT INTO kbi_attests (reference, client_id, kind, issued_on, recorded_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(reference)
                    .bind(&client_id)
                    .bind(kind)
                    .bind(issued_on)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    let current: Option<(String, i64)> =
                        sqlx::query_as("SELECT record, version FROM client_records WHERE client_id = $1")
                            .bind(&client_id)
                            .fetch_optional(&mut *conn)
                            .await?;
                    let (json, version) = current.unwrap_or_else(|| ("{}".to_owned(), 0));
                    // A stored record that does not parse fails the change (and rolls it back);
                    // replacing it with the attest alone would lose what it held.
                    let mut record: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(&json).map_err(|e| sqlx::Error::ColumnDecode {
                            index: "record".to_owned(),
                            source: Box::new(e),
                        })?;
                    record.insert("attest".to_owned(), attest.clone());
                    let record = serde_json::Value::Object(record).to_string();
                    if version == 0 {
                        sqlx::query("INSERT INTO client_records (client_id, record, version, updated_at) VALUES ($1, $2, 1, $3)")
                            .bind(&client_id)
                            .bind(&record)
                            .bind(now)
                            .execute(&mut *conn)
                            .await?;
                    } else {
                        sqlx::query("UPDATE client_records SET record = $1, version = version + 1, updated_at = $2 WHERE client_id = $3")
                            .bind(&record)
                            .bind(now)
                            .bind(&client_id)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(Applied::AttestRecorded { client_id })
                }
                Mutation::CreateReferral(r) => {
                    sqlx::query(
                        "INSERT INTO referrals (referral_id, client_id, from_party, to_party, direction, status, reason, \
                         evidence_reference, created_by, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $7, $8, $9, $9)",
                    )
                    .bind(&r.referral_id)
                    .bind(&r.client_id)
                    .bind(&r.from_party)
                    .bind(&r.to_party)
                    .bind(&r.direction)
                    .bind(&r.reason)
                    .bind(&r.evidence_reference)
                    .bind(&r.created_by)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(Applied::ReferralCreated)
                }
                Mutation::TransitionReferral { referral_id, from_status, to_status, link_receiver, message } => {
                    let moved = sqlx::query(
                        "UPDATE referrals SET status = $1, updated_at = $2 WHERE referral_id = $3 AND status = $4",
                    )
                    .bind(to_status)
                    .bind(now)
                    .bind(referral_id)
                    .bind(from_status)
                    .execute(&mut *conn)
                    .await?;
                    if moved.rows_affected() == 0 {
                        return Ok(Applied::ReferralStale);
                    }
                    if let Some((client_id, party)) = link_receiver {
                        sqlx::query(
                            "INSERT INTO client_links (client_id, party_id, legal_basis, dossier_reference, linked_at) \
                             VALUES ($1, $2, 'publicTask', $3, $4) ON CONFLICT (client_id, party_id) WHERE ended_at IS NULL DO NOTHING",
                        )
                        .bind(client_id)
                        .bind(party)
                        .bind(format!("referral:{referral_id}"))
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    }
                    if let Some(m) = message {
                        Box::pin($name(&mut *conn, &Mutation::AddReferralMessage(m.clone()), now)).await?;
                    }
                    Ok(Applied::ReferralMoved)
                }
                Mutation::AddReferralMessage(m) => {
                    sqlx::query(
                        "INSERT INTO referral_messages (message_id, referral_id, kind, party, user_id, message, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(&m.referral_id)
                    .bind(&m.kind)
                    .bind(&m.party)
                    .bind(&m.user)
                    .bind(&m.message)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(Applied::MessageAdded)
                }
                Mutation::RecordInfraction(i) => {
                    sqlx::query(
                        "INSERT INTO infractions (infraction_id, client_id, kind, occurred_on, description, routed_to, \
                         recorded_by_party, recorded_by_user, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&i.infraction_id)
                    .bind(&i.client_id)
                    .bind(&i.kind)
                    .bind(&i.occurred_on)
                    .bind(&i.description)
                    .bind(&i.routed_to)
                    .bind(&i.party)
                    .bind(&i.user)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(Applied::InfractionRecorded)
                }
                Mutation::DecideInfraction { infraction_id, decision, decided_on, note, party, user } => {
                    let decided = sqlx::query(
                        "UPDATE infractions SET decision = $1, decided_on = $2, decision_note = $3, decided_by_party = $4, \
                         decided_by_user = $5, decided_at = $6 WHERE infraction_id = $7 AND decision IS NULL",
                    )
                    .bind(decision)
                    .bind(decided_on)
                    .bind(note)
                    .bind(party)
                    .bind(user)
                    .bind(now)
                    .bind(infraction_id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(if decided.rows_affected() == 1 {
                        Applied::InfractionDecided
                    } else {
                        Applied::InfractionAlreadyDecided
                    })
                }
                Mutation::EndLink { client_id, party } => {
                    let ended = sqlx::query(
                        "UPDATE client_links SET ended_at = $1 WHERE client_id = $2 AND party_id = $3 AND ended_at IS NULL",
                    )
                    .bind(now)
                    .bind(client_id)
                    .bind(party)
                    .execute(&mut *conn)
                    .await?;
                    Ok(if ended.rows_affected() == 0 {
                        Applied::NotLinked
                    } else {
                        Applied::LinkEnded
                    })
                }
            }
        }
    };
}

apply_fn!(apply_sqlite, sqlx::Sqlite);
apply_fn!(apply_postgres, sqlx::Postgres);
