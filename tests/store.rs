//! The store's contract: every case runs against SQLite (a temporary file) and, when
//! TEST_DATABASE_URL is set, against PostgreSQL (a fresh schema per test), through the store's
//! public reads and, for every change, through the audit writer as the gate submits it. Both
//! backends must give the same answers; a case that passes on one only is a bug in the store.

use gateway::audit::record::{AuditDraft, AuditRecord, Outcome};
use gateway::config::DatabaseConfig;
use gateway::crypto::cipher::FieldCipher;
use gateway::crypto::keyring::CipherRing;
use gateway::domain::competence::{ClaimEffect, LinkRole};
use gateway::domain::event::EventType;
use gateway::domain::purpose::Purpose;
use gateway::domain::record::field::Category;
use gateway::store::audit_writer::{AuditWriter, NewEvent};
use gateway::store::clients::{self, Presence};
use gateway::store::mutations::{
    Applied, ConsentRow, DecisionRow, InfractionRow, LinkGuard, MessageRow, Mutation, ReferralRow,
    Registration,
};
use gateway::store::records::Reading;
use gateway::store::sealing::{self, Census};
use gateway::store::{
    Db, audit, connect, consents, events, infractions, monitoring, records, referrals,
};
use std::sync::Arc;
use time::macros::date;
use tokio::sync::Notify;

/// One store under test: a migrated database and its audit writer.
struct Store {
    db: Db,
    writer: AuditWriter,
    /// Holds the SQLite file for the length of the test.
    _dir: Option<tempfile::TempDir>,
}

impl Store {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        Self::open(url, None, Some(dir)).await
    }

    /// `None` when TEST_DATABASE_URL is not set.
    async fn postgres() -> Option<Self> {
        let url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())?;
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        Some(Self::open(url, Some(schema), None).await)
    }

    async fn open(url: String, schema: Option<String>, dir: Option<tempfile::TempDir>) -> Self {
        let config = DatabaseConfig {
            url,
            schema,
            max_connections: 4,
            migrate_url: None,
            require_least_privilege: false,
        };
        let cipher = CipherRing::fixed(test_cipher());
        let db = connect::connect(&config)
            .await
            .expect("database opens")
            .with_sealing(Arc::new(cipher));
        db.migrate().await.expect("migrations apply");
        let writer = AuditWriter::spawn(db.clone(), 64, Arc::new(Notify::new()));
        Self {
            db,
            writer,
            _dir: dir,
        }
    }

    /// Applies `mutation` as the gate does: with its audit record, durably.
    async fn apply(&self, mutation: Mutation) -> Applied {
        self.apply_with_events(mutation, Vec::new()).await
    }

    async fn apply_with_events(&self, mutation: Mutation, events: Vec<NewEvent>) -> Applied {
        self.writer
            .submit_with_events(Some(mutation), events, draft())
            .await
            .expect("the audit log takes the record")
    }

    /// Registers `party` with the client of pseudonym `n`; the client's id.
    async fn register(&self, party: &str, n: u8) -> String {
        match self
            .apply(Mutation::RegisterClient(registration(party, n)))
            .await
        {
            Applied::Registered { client_id, .. } => client_id,
            other => panic!("registering answered {other:?}"),
        }
    }

    /// How `party` finds the client of pseudonym `n`.
    async fn presence(&self, n: u8, party: &str) -> Presence {
        clients::find_by_pseudonym(&self.db, &[[n; 32]], party)
            .await
            .unwrap()
    }

    /// The legal basis of `party`'s active link with the client, if it has one.
    async fn link(&self, client_id: &str, party: &str) -> Option<String> {
        clients::active_link(&self.db, client_id, party)
            .await
            .unwrap()
            .map(|link| link.legal_basis)
    }

    /// The role of `party`'s active link with the client, if it has one.
    async fn role(&self, client_id: &str, party: &str) -> Option<String> {
        clients::active_link(&self.db, client_id, party)
            .await
            .unwrap()
            .map(|link| link.role)
    }

    /// The reading of the client by `party` for trajectory guidance on `day`.
    async fn reading(&self, client_id: &str, party: &str, day: time::Date) -> Option<Reading> {
        let purpose = Purpose::TrajectoryGuidance;
        records::reading(&self.db, client_id, party, purpose, day)
            .await
            .unwrap()
    }

    /// The audit record appended last.
    async fn last_audit_record(&self) -> AuditRecord {
        let size = audit::log_size(&self.db).await.unwrap();
        let bytes = audit::record(&self.db, size - 1).await.unwrap().unwrap();
        AuditRecord::decode(&bytes).unwrap()
    }
}

/// Runs each case once per backend: `case::sqlite` always, `case::postgres` when
/// TEST_DATABASE_URL is set (without it, the PostgreSQL test says so and passes).
macro_rules! contract {
    ($($case:ident),+ $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn sqlite() {
                super::$case(super::Store::sqlite().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                match super::Store::postgres().await {
                    Some(store) => super::$case(store).await,
                    None => eprintln!("TEST_DATABASE_URL is not set: not run on PostgreSQL"),
                }
            }
        }
    )+};
}

contract!(
    registering_twice_links_once,
    one_party_per_kind_is_competent_and_a_claim_waits_for_it,
    links_made_before_competence_get_their_kind_and_one_competent_party,
    an_ended_link_hides_the_client_until_linked_again,
    a_record_is_written_only_at_the_version_read,
    a_consent_is_active_in_its_period_until_withdrawn,
    a_referral_moves_only_from_the_status_it_was_read_in,
    an_agency_referral_stands_until_refused_or_withdrawn,
    an_infraction_is_decided_once,
    an_attest_is_recorded_once_per_reference,
    an_attest_on_an_unreadable_record_fails_and_changes_nothing,
    a_failed_change_leaves_the_rest_of_its_batch,
    events_are_written_with_their_change_and_read_by_position,
    the_joint_clients_of_a_scope_are_read_a_page_at_a_time,
    personal_text_is_sealed_at_rest_and_bound_to_its_row,
    a_rotated_key_reads_the_old_values_and_the_migration_moves_them,
);

const TODAY: time::Date = date!(2024 - 06 - 01);

fn draft() -> AuditDraft {
    AuditDraft {
        party: "ocmw-gent".into(),
        user: "tester".into(),
        roles: vec!["caseWorker".into()],
        purpose: Purpose::TrajectoryGuidance.as_str().into(),
        legal_basis: None,
        client: None,
        clients: Vec::new(),
        action: "storeContract",
        fields: Vec::new(),
        outcome: Outcome::Allowed,
        reason: None,
        count: None,
        request_id: uuid::Uuid::new_v4().to_string(),
        related_trace_id: None,
        policy_version: "test".into(),
    }
}

const TEST_KEY_ID: &str = "store-test";

fn test_cipher() -> FieldCipher {
    FieldCipher::new(TEST_KEY_ID, &[9; 32])
}

/// `party`'s registration of the client with pseudonym `n` (a new id each time, used only if
/// the client is new).
fn registration(party: &str, n: u8) -> Registration {
    let new_client_id = uuid::Uuid::new_v4().to_string();
    // The number sealed under the store's key and bound to the new id, as the gate does it.
    let ciphertext = test_cipher()
        .seal(format!("number-{n}").as_bytes(), new_client_id.as_bytes())
        .unwrap();
    Registration {
        pseudonyms: vec![[n; 32]],
        pseudonym_key_id: "pseudonym-1".into(),
        new_client_id,
        ciphertext,
        encryption_key_id: TEST_KEY_ID.into(),
        party: party.into(),
        party_kind: kind_of(party).into(),
        role: Some(LinkRole::Competent),
        legal_basis: "publicTask".into(),
        dossier_reference: format!("dossier-{n}"),
    }
}

/// The kind of the development parties, by their ids.
fn kind_of(party: &str) -> &'static str {
    match party {
        "amal" => "integrationAgency",
        "kbi" => "kbi",
        _ => "ocmw",
    }
}

fn update(client_id: &str, expected_version: i64, record_json: &str) -> Mutation {
    Mutation::UpdateRecord {
        client_id: client_id.into(),
        expected_version,
        record_json: record_json.into(),
    }
}

fn consent(client_id: &str, recipient: &str, categories: &str) -> ConsentRow {
    ConsentRow {
        consent_id: uuid::Uuid::new_v4().to_string(),
        client_id: client_id.into(),
        recipient_party: recipient.into(),
        purpose: Purpose::TrajectoryGuidance.as_str().into(),
        categories: categories.into(),
        legal_text_version: "v1".into(),
        language: "nl".into(),
        evidence_reference: "signed-form-1".into(),
        recorded_by_party: "ocmw-gent".into(),
        recorded_by_user: "tester".into(),
        valid_from: "2024-01-01".into(),
        valid_until: Some("2024-12-31".into()),
    }
}

fn referral(client_id: &str, from: &str, to: &str, direction: &str) -> ReferralRow {
    ReferralRow {
        referral_id: uuid::Uuid::new_v4().to_string(),
        client_id: client_id.into(),
        from_party: from.into(),
        to_party: to.into(),
        direction: direction.into(),
        reason: "guidance".into(),
        evidence_reference: None,
        created_by: "tester".into(),
    }
}

fn transition(referral_id: &str, from: &str, to: &str) -> Mutation {
    Mutation::TransitionReferral {
        referral_id: referral_id.into(),
        from_status: from.into(),
        to_status: to.into(),
        link_receiver: None,
        message: None,
    }
}

fn message(referral_id: &str, party: &str, text: &str) -> MessageRow {
    MessageRow {
        referral_id: referral_id.into(),
        kind: "feedback".into(),
        party: party.into(),
        user: "tester".into(),
        message: text.into(),
    }
}

fn attest(party: &str, n: u8, reference: &str, kind: &str) -> Mutation {
    let issued_on = "2024-05-01";
    Mutation::RecordAttest {
        registration: registration(party, n),
        reference: reference.into(),
        attest: serde_json::json!({"kind": kind, "issuedOn": issued_on}),
        kind: kind.into(),
        issued_on: issued_on.into(),
    }
}

fn decide(client_id: &str, infraction_id: &str, decision: &str) -> Mutation {
    Mutation::DecideInfraction(DecisionRow {
        infraction_id: infraction_id.into(),
        client_id: client_id.into(),
        decision: decision.into(),
        decided_on: "2024-06-01".into(),
        note: format!("decided: {decision}"),
        party: "ocmw-gent".into(),
        user: "bcsd".into(),
    })
}

async fn one_party_per_kind_is_competent_and_a_claim_waits_for_it(store: Store) {
    let gent = store
        .apply(Mutation::RegisterClient(registration("ocmw-gent", 1)))
        .await;
    let client_id = gent.client_id().unwrap().to_owned();
    // A second OCMW asking for competence is refused, and no link is made.
    assert_eq!(
        store
            .apply(Mutation::RegisterClient(registration("ocmw-eeklo", 1)))
            .await,
        Applied::CompetenceTaken {
            client_id: client_id.clone()
        }
    );
    assert_eq!(store.role(&client_id, "ocmw-eeklo").await, None);
    // Involved, it is linked; the agency is competent for its own kind beside Gent.
    let involved = Registration {
        role: Some(LinkRole::Involved),
        ..registration("ocmw-eeklo", 1)
    };
    assert!(matches!(
        store.apply(Mutation::RegisterClient(involved)).await,
        Applied::Registered {
            role: LinkRole::Involved,
            ..
        }
    ));
    store.register("amal", 1).await;
    assert_eq!(
        store.role(&client_id, "amal").await.as_deref(),
        Some("competent")
    );
    let claim = |party: &str| Mutation::ClaimCompetence {
        client_id: client_id.clone(),
        party: party.into(),
        kind: "ocmw".into(),
    };
    assert_eq!(
        store.apply(claim("ocmw-eeklo")).await,
        Applied::CompetenceClaimed(ClaimEffect::Pending)
    );
    // A hand-over by a party that is not competent, or to one without a claim, changes nothing.
    let hand_over = |from: &str, to: &str| Mutation::HandOverCompetence {
        client_id: client_id.clone(),
        from: from.into(),
        to: to.into(),
        kind: "ocmw".into(),
    };
    assert_eq!(
        store.apply(hand_over("ocmw-eeklo", "ocmw-eeklo")).await,
        Applied::NotCompetent
    );
    assert_eq!(
        store
            .apply(hand_over("ocmw-gent", "ocmw-geraardsbergen"))
            .await,
        Applied::NoClaim
    );
    assert_eq!(
        store.role(&client_id, "ocmw-gent").await.as_deref(),
        Some("competent")
    );
    // The competent party's link ends: the pending claim takes over.
    let end = Mutation::EndLink {
        client_id: client_id.clone(),
        party: "ocmw-gent".into(),
    };
    assert_eq!(store.apply(end).await, Applied::LinkEnded);
    assert_eq!(
        store.role(&client_id, "ocmw-eeklo").await.as_deref(),
        Some("competent")
    );
    // A write guarded by a competent link commits only while the link is competent.
    let guarded = |party: &str| Mutation::Guarded {
        guard: LinkGuard {
            client_id: client_id.clone(),
            party: party.into(),
            competent: true,
        },
        change: Box::new(update(&client_id, 0, r#"{"receivesLivingWage":true}"#)),
    };
    assert_eq!(store.apply(guarded("ocmw-gent")).await, Applied::NotLinked);
    assert!(matches!(
        store.apply(guarded("ocmw-eeklo")).await,
        Applied::RecordUpdated { .. }
    ));
}

async fn registering_twice_links_once(store: Store) {
    let first = store
        .apply(Mutation::RegisterClient(registration("ocmw-gent", 1)))
        .await;
    let Applied::Registered {
        client_id,
        new_link: true,
        role: LinkRole::Competent,
    } = first
    else {
        panic!("the first registration answered {first:?}");
    };
    // The same party again, with another proposed id: the same client, no second link.
    let again = store
        .apply(Mutation::RegisterClient(registration("ocmw-gent", 1)))
        .await;
    assert_eq!(
        again,
        Applied::Registered {
            client_id: client_id.clone(),
            new_link: false,
            role: LinkRole::Competent,
        }
    );
    // Another party: the same client, its own link.
    assert_eq!(
        store
            .apply(Mutation::RegisterClient(registration("amal", 1)))
            .await,
        Applied::Registered {
            client_id: client_id.clone(),
            new_link: true,
            role: LinkRole::Competent,
        }
    );

    let db = &store.db;
    assert_eq!(
        store.presence(1, "ocmw-gent").await,
        Presence::Linked {
            client_id: client_id.clone(),
            legal_basis: "publicTask".into()
        }
    );
    assert_eq!(
        store.presence(1, "ocmw-eeklo").await,
        Presence::NotLinked {
            client_id: client_id.clone()
        }
    );
    assert_eq!(store.presence(2, "ocmw-gent").await, Presence::Unknown);
    assert_eq!(
        store.link(&client_id, "ocmw-gent").await.as_deref(),
        Some("publicTask")
    );
    let linked: Vec<(String, String)> = clients::competence(db, &client_id)
        .await
        .unwrap()
        .into_iter()
        .map(|link| (link.party_id, link.role))
        .collect();
    assert_eq!(
        linked,
        [
            ("amal".to_owned(), "competent".to_owned()),
            ("ocmw-gent".to_owned(), "competent".to_owned())
        ]
    );
    // Every request is on record, the repeated one too.
    assert_eq!(audit::log_size(db).await.unwrap(), 3);
    assert_eq!(
        store.last_audit_record().await.client.as_deref(),
        Some(client_id.as_str())
    );
}

async fn an_ended_link_hides_the_client_until_linked_again(store: Store) {
    let client_id = store.register("ocmw-gent", 1).await;
    let end = || Mutation::EndLink {
        client_id: client_id.clone(),
        party: "ocmw-gent".into(),
    };
    assert_eq!(store.apply(end()).await, Applied::LinkEnded);
    // Nothing left to end: refused and on record as such.
    assert_eq!(store.apply(end()).await, Applied::NotLinked);
    let refused = store.last_audit_record().await;
    assert_eq!(
        (refused.outcome, refused.reason.as_deref()),
        (Outcome::Denied, Some("notFound"))
    );

    let db = &store.db;
    assert_eq!(store.link(&client_id, "ocmw-gent").await, None);
    assert!(
        clients::ended_link(db, &client_id, "ocmw-gent")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.presence(1, "ocmw-gent").await,
        Presence::NotLinked {
            client_id: client_id.clone()
        }
    );
    assert_eq!(store.reading(&client_id, "ocmw-gent", TODAY).await, None);

    // Linked again: a new link, and the ended one no longer counts.
    assert_eq!(
        store
            .apply(Mutation::RegisterClient(registration("ocmw-gent", 1)))
            .await,
        Applied::Registered {
            client_id: client_id.clone(),
            new_link: true,
            role: LinkRole::Competent,
        }
    );
    assert_eq!(
        clients::ended_link(db, &client_id, "ocmw-gent")
            .await
            .unwrap(),
        None
    );
}

async fn a_record_is_written_only_at_the_version_read(store: Store) {
    let client_id = store.register("ocmw-gent", 1).await;
    let db = &store.db;
    let empty = records::load(db, &client_id).await.unwrap();
    assert_eq!((empty.json.as_str(), empty.version), ("{}", 0));

    // Each writer names the version it read; one that read an older one is refused.
    for (read, json, answer) in [
        (0, r#"{"a":1}"#, Applied::RecordUpdated { version: 1 }),
        (0, r#"{"a":2}"#, Applied::Stale),
        (1, r#"{"a":3}"#, Applied::RecordUpdated { version: 2 }),
        (1, r#"{"a":4}"#, Applied::Stale),
    ] {
        let applied = store.apply(update(&client_id, read, json)).await;
        assert_eq!(applied, answer, "{json} at version {read}");
    }
    assert_eq!(
        store.last_audit_record().await.reason.as_deref(),
        Some("preconditionFailed")
    );
    let stored = records::load(db, &client_id).await.unwrap();
    assert_eq!((stored.json.as_str(), stored.version), (r#"{"a":3}"#, 2));

    let reading = store
        .reading(&client_id, "ocmw-gent", TODAY)
        .await
        .expect("a linked party reads");
    assert_eq!(reading.record, stored);
    assert_eq!(reading.legal_basis, "publicTask");
    assert!(!reading.referred_to_agency);
    assert!(reading.consented.is_empty());
    assert_eq!(
        store.reading(&client_id, "amal", TODAY).await,
        None,
        "a party that is not linked reads nothing"
    );
}

async fn a_consent_is_active_in_its_period_until_withdrawn(store: Store) {
    let client_id = store.register("ocmw-gent", 1).await;
    store.register("amal", 1).await;
    let given = consent(&client_id, "amal", "income,financial");
    let consent_id = given.consent_id.clone();
    assert_eq!(
        store.apply(Mutation::RecordConsent(given)).await,
        Applied::ConsentRecorded
    );
    // For another recipient: never counts for amal.
    store
        .apply(Mutation::RecordConsent(consent(
            &client_id,
            "ocmw-eeklo",
            "attest",
        )))
        .await;

    let db = &store.db;
    let active = |day: time::Date, purpose: Purpose| {
        let client_id = client_id.clone();
        async move {
            consents::active_categories(db, &client_id, "amal", purpose, day)
                .await
                .unwrap()
                .into_iter()
                .map(|(category, recorder)| {
                    assert_eq!(recorder, "ocmw-gent");
                    category
                })
                .collect::<Vec<_>>()
        }
    };
    let both = vec![Category::Income, Category::Financial];
    assert_eq!(active(TODAY, Purpose::TrajectoryGuidance).await, both);
    // Its first and last day count; the days around them do not.
    assert_eq!(
        active(date!(2024 - 01 - 01), Purpose::TrajectoryGuidance).await,
        both
    );
    assert_eq!(
        active(date!(2024 - 12 - 31), Purpose::TrajectoryGuidance).await,
        both
    );
    assert!(
        active(date!(2023 - 12 - 31), Purpose::TrajectoryGuidance)
            .await
            .is_empty()
    );
    assert!(
        active(date!(2025 - 01 - 01), Purpose::TrajectoryGuidance)
            .await
            .is_empty()
    );
    assert!(active(TODAY, Purpose::Sanctioning).await.is_empty());
    // The record read applies the same rule.
    let reading = |day: time::Date| {
        let reading = store.reading(&client_id, "amal", day);
        async move {
            let consented = reading.await.expect("amal is linked").consented;
            consented.into_iter().map(|(c, _)| c).collect::<Vec<_>>()
        }
    };
    assert_eq!(reading(TODAY).await, both);
    assert!(reading(date!(2025 - 01 - 01)).await.is_empty());

    let stored = consents::find(db, &client_id, &consent_id)
        .await
        .unwrap()
        .expect("the consent is stored");
    assert_eq!(stored.categories, both);
    assert_eq!(stored.valid_from, date!(2024 - 01 - 01));
    assert_eq!(stored.valid_until, Some(date!(2024 - 12 - 31)));
    assert!(stored.withdrawn.is_none());
    assert_eq!(consents::for_client(db, &client_id).await.unwrap().len(), 2);

    let withdraw = |consent_id: &str| Mutation::WithdrawConsent {
        client_id: client_id.clone(),
        consent_id: consent_id.into(),
        party: "ocmw-gent".into(),
        user: "tester".into(),
    };
    assert_eq!(
        store.apply(withdraw(&consent_id)).await,
        Applied::ConsentWithdrawn
    );
    assert_eq!(
        store.apply(withdraw(&consent_id)).await,
        Applied::ConsentNotWithdrawable
    );
    assert_eq!(
        store.apply(withdraw("no-such-consent")).await,
        Applied::ConsentNotWithdrawable
    );
    // A withdrawal takes effect at once, in both reads.
    assert!(active(TODAY, Purpose::TrajectoryGuidance).await.is_empty());
    assert!(reading(TODAY).await.is_empty());
    let withdrawn = consents::find(db, &client_id, &consent_id)
        .await
        .unwrap()
        .unwrap()
        .withdrawn
        .expect("the withdrawal is stored");
    assert_eq!(
        (withdrawn.by_party.as_str(), withdrawn.by_user.as_str()),
        ("ocmw-gent", "tester")
    );
}

async fn a_referral_moves_only_from_the_status_it_was_read_in(store: Store) {
    let client_id = store.register("ocmw-gent", 1).await;
    let proposed = referral(&client_id, "ocmw-gent", "ocmw-eeklo", "ocmwToOcmw");
    let referral_id = proposed.referral_id.clone();
    assert_eq!(
        store.apply(Mutation::CreateReferral(proposed)).await,
        Applied::ReferralCreated
    );

    let db = &store.db;
    let find = |party: &'static str| {
        let referral_id = referral_id.clone();
        async move { referrals::find(db, &referral_id, party).await.unwrap() }
    };
    let stored = find("ocmw-gent").await.expect("the sender sees it");
    assert_eq!(
        (stored.status.as_str(), stored.direction.as_str()),
        ("proposed", "ocmwToOcmw")
    );
    assert_eq!(stored.created_at, stored.updated_at);
    assert_eq!(find("ocmw-eeklo").await, Some(stored.clone()));
    assert_eq!(find("amal").await, None, "only sender and receiver see it");
    assert_eq!(
        referrals::list(db, "ocmw-gent", (true, None), None, 10)
            .await
            .unwrap(),
        std::slice::from_ref(&stored)
    );
    assert_eq!(
        referrals::list(db, "ocmw-eeklo", (false, Some("proposed")), None, 10)
            .await
            .unwrap(),
        std::slice::from_ref(&stored)
    );
    assert!(
        referrals::list(db, "ocmw-eeklo", (false, Some("accepted")), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        referrals::list(db, "ocmw-eeklo", (true, None), None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Accepting links the receiver and carries a message.
    let accept = Mutation::TransitionReferral {
        referral_id: referral_id.clone(),
        from_status: "proposed".into(),
        to_status: "accepted".into(),
        link_receiver: Some((client_id.clone(), "ocmw-eeklo".into(), "ocmw".into())),
        message: Some(message(&referral_id, "ocmw-eeklo", "we take it on")),
    };
    assert_eq!(store.apply(accept).await, Applied::ReferralMoved);
    assert_eq!(
        store.link(&client_id, "ocmw-eeklo").await.as_deref(),
        Some("publicTask")
    );
    // A second answer to the proposal it read: refused, nothing changes.
    assert_eq!(
        store
            .apply(transition(&referral_id, "proposed", "refused"))
            .await,
        Applied::ReferralStale
    );
    assert_eq!(
        store.last_audit_record().await.reason.as_deref(),
        Some("conflict")
    );
    assert_eq!(find("ocmw-gent").await.unwrap().status, "accepted");

    assert_eq!(
        store
            .apply(Mutation::AddReferralMessage(message(
                &referral_id,
                "ocmw-gent",
                "thank you"
            )))
            .await,
        Applied::MessageAdded
    );
    let messages = referrals::messages(db, &referral_id).await.unwrap();
    let texts: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m.party.as_str(), m.message.as_str()))
        .collect();
    assert_eq!(
        texts,
        [("ocmw-eeklo", "we take it on"), ("ocmw-gent", "thank you")]
    );
    assert_eq!(messages[0].user, "tester");
}

/// Whether a referral of the client to the agency stands, by both reads of the rule (SWO art.
/// 4), which must agree.
async fn stands(store: &Store, client_id: &str) -> bool {
    let made = referrals::agency_referral_made(&store.db, client_id)
        .await
        .unwrap();
    let read = store.reading(client_id, "ocmw-gent", TODAY).await;
    let read = read.expect("linked").referred_to_agency;
    assert_eq!(made, read, "the two reads of the referral rule disagree");
    made
}

async fn an_agency_referral_stands_until_refused_or_withdrawn(store: Store) {
    let client_id = store.register("ocmw-gent", 1).await;
    assert!(!stands(&store, &client_id).await);
    // A referral the other way never counts.
    let back = referral(&client_id, "amal", "ocmw-gent", "agencyToOcmw");
    store.apply(Mutation::CreateReferral(back)).await;
    assert!(!stands(&store, &client_id).await);

    let to_agency = referral(&client_id, "ocmw-gent", "amal", "ocmwToAgency");
    let id = to_agency.referral_id.clone();
    store.apply(Mutation::CreateReferral(to_agency)).await;
    assert!(stands(&store, &client_id).await, "proposed");
    store.apply(transition(&id, "proposed", "accepted")).await;
    assert!(stands(&store, &client_id).await, "accepted");
    store.apply(transition(&id, "accepted", "completed")).await;
    assert!(stands(&store, &client_id).await, "completed");

    // Refused or withdrawn: as if none was made.
    for (n, outcome) in [(2, "refused"), (3, "withdrawn")] {
        let other = store.register("ocmw-gent", n).await;
        let to_agency = referral(&other, "ocmw-gent", "amal", "ocmwToAgency");
        let id = to_agency.referral_id.clone();
        store.apply(Mutation::CreateReferral(to_agency)).await;
        assert!(stands(&store, &other).await);
        assert_eq!(
            store.apply(transition(&id, "proposed", outcome)).await,
            Applied::ReferralMoved
        );
        assert!(!stands(&store, &other).await, "{outcome}");
    }
}

async fn an_infraction_is_decided_once(store: Store) {
    let client_id = store.register("amal", 1).await;
    let recorded = InfractionRow {
        infraction_id: uuid::Uuid::new_v4().to_string(),
        client_id: client_id.clone(),
        kind: "absence".into(),
        occurred_on: "2024-05-20".into(),
        description: "missed three lessons".into(),
        routed_to: "ocmw-gent".into(),
        routed_party: Some("ocmw-gent".into()),
        party: "amal".into(),
        user: "tester".into(),
    };
    let infraction_id = recorded.infraction_id.clone();
    assert_eq!(
        store.apply(Mutation::RecordInfraction(recorded)).await,
        Applied::InfractionRecorded
    );

    let db = &store.db;
    let find = || {
        let (client_id, infraction_id) = (client_id.clone(), infraction_id.clone());
        async move {
            infractions::find(db, &client_id, &infraction_id)
                .await
                .unwrap()
                .expect("stored")
        }
    };
    let stored = find().await;
    assert_eq!(
        (stored.kind.as_str(), stored.routed_to.as_str()),
        ("absence", "ocmw-gent")
    );
    assert_eq!(stored.recorded_by_party, "amal");
    assert_eq!(stored.decision, None);
    assert_eq!(
        infractions::list(db, &client_id, (&["ocmw-gent"], "ocmw-gent"), None, 10)
            .await
            .unwrap(),
        std::slice::from_ref(&stored)
    );
    assert!(
        infractions::list(
            db,
            &client_id,
            (&["amal", "ocmw-eeklo"], "ocmw-eeklo"),
            None,
            10
        )
        .await
        .unwrap()
        .is_empty()
    );

    assert_eq!(
        store
            .apply(decide(&client_id, &infraction_id, "warning"))
            .await,
        Applied::InfractionDecided
    );
    let decided = find().await.decision.expect("decided");
    assert_eq!(
        (decided.decision.as_str(), decided.note.as_str()),
        ("warning", "decided: warning")
    );
    assert_eq!(
        (decided.party.as_str(), decided.user.as_str()),
        ("ocmw-gent", "bcsd")
    );

    assert_eq!(
        store
            .apply(decide(&client_id, &infraction_id, "sanction"))
            .await,
        Applied::InfractionAlreadyDecided
    );
    assert_eq!(
        store.last_audit_record().await.reason.as_deref(),
        Some("alreadyDecided")
    );
    assert_eq!(find().await.decision, Some(decided));
}

async fn an_attest_is_recorded_once_per_reference(store: Store) {
    // A client known already, with a record: the attest joins what is there.
    let client_id = store.register("ocmw-gent", 1).await;
    store.apply(update(&client_id, 0, r#"{"a":1}"#)).await;
    assert_eq!(
        store.apply(attest("kbi", 1, "kbi-1", "integration")).await,
        Applied::AttestRecorded {
            client_id: client_id.clone()
        }
    );
    let db = &store.db;
    let stored = records::load(db, &client_id).await.unwrap();
    let record: serde_json::Value = serde_json::from_str(&stored.json).unwrap();
    assert_eq!(
        record,
        serde_json::json!({"a": 1, "attest": {"kind": "integration", "issuedOn": "2024-05-01"}})
    );
    assert_eq!(stored.version, 2);
    assert_eq!(
        store.link(&client_id, "kbi").await.as_deref(),
        Some("publicTask")
    );

    // The same notification again: nothing changes.
    assert_eq!(
        store.apply(attest("kbi", 1, "kbi-1", "integration")).await,
        Applied::AttestKnown {
            client_id: client_id.clone(),
            same: true
        }
    );
    // The same reference with other content: a conflict, on record.
    assert_eq!(
        store
            .apply(attest("kbi", 1, "kbi-1", "participation"))
            .await,
        Applied::AttestKnown {
            client_id: client_id.clone(),
            same: false
        }
    );
    assert_eq!(
        store.last_audit_record().await.reason.as_deref(),
        Some("referenceConflict")
    );
    assert_eq!(records::load(db, &client_id).await.unwrap(), stored);

    // A client nobody knew: created, linked, and its record holds the attest alone.
    let Applied::AttestRecorded { client_id: new } =
        store.apply(attest("kbi", 2, "kbi-2", "integration")).await
    else {
        panic!("a new client's attest is recorded");
    };
    let first = records::load(db, &new).await.unwrap();
    assert_eq!(first.version, 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&first.json).unwrap(),
        serde_json::json!({"attest": {"kind": "integration", "issuedOn": "2024-05-01"}})
    );
    assert_eq!(attests_of_2024(db).await, ["integration", "integration"]);
}

async fn an_attest_on_an_unreadable_record_fails_and_changes_nothing(store: Store) {
    for (n, unreadable) in [(1, "not json {"), (2, "[1, 2]")] {
        let client_id = store.register("ocmw-gent", n).await;
        corrupt_record(&store.db, &client_id, unreadable).await;
        let reference = format!("kbi-{n}");
        let announced = NewEvent::record_changed(None, &[Category::Attest], true);
        let applied = store
            .apply_with_events(attest("kbi", n, &reference, "integration"), vec![announced])
            .await;
        assert_eq!(applied, Applied::Failed, "{unreadable:?}");

        // The request is on record as refused (the gate answers 500).
        let refused = store.last_audit_record().await;
        assert_eq!(
            (refused.outcome, refused.reason.as_deref()),
            (Outcome::Denied, Some("internalError"))
        );
        // Nothing of the change remains: the record, the link, the attest, the event.
        let db = &store.db;
        let stored = records::load(db, &client_id).await.unwrap();
        assert_eq!((stored.json.as_str(), stored.version), (unreadable, 1));
        assert_eq!(store.link(&client_id, "kbi").await, None);
        assert!(attests_of_2024(db).await.is_empty());
        assert!(
            events::after(db, "ocmw-gent", 0, 10)
                .await
                .unwrap()
                .0
                .is_empty()
        );
    }
}

/// Makes the links of `client_id` look as they did before migration 0009: no kind, all
/// competent.
async fn forget_kinds(db: &Db, client_id: &str) {
    gateway::with_pool!(db, |pool| {
        sqlx::query(
            "UPDATE client_links SET party_kind = NULL, role = 'competent' WHERE client_id = $1",
        )
        .bind(client_id)
        .execute(pool)
        .await
        .unwrap();
    });
}

async fn links_made_before_competence_get_their_kind_and_one_competent_party(store: Store) {
    let client_id = store.register("ocmw-gent", 1).await;
    let involved = Registration {
        role: Some(LinkRole::Involved),
        ..registration("ocmw-eeklo", 1)
    };
    store.apply(Mutation::RegisterClient(involved)).await;
    store.register("amal", 1).await;
    forget_kinds(&store.db, &client_id).await;
    let parties: Vec<(String, String)> = ["ocmw-gent", "ocmw-eeklo", "amal"]
        .into_iter()
        .map(|p| (p.to_owned(), kind_of(p).to_owned()))
        .collect();
    clients::fill_in_kinds(&store.db, &parties).await.unwrap();
    // In configuration order, the first OCMW stays competent, the second becomes involved.
    let roles = clients::competence(&store.db, &client_id).await.unwrap();
    let roles: Vec<(&str, Option<&str>, &str)> = roles
        .iter()
        .map(|r| {
            (
                r.party_id.as_str(),
                r.party_kind.as_deref(),
                r.role.as_str(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("amal", Some("integrationAgency"), "competent"),
            ("ocmw-gent", Some("ocmw"), "competent"),
            ("ocmw-eeklo", Some("ocmw"), "involved"),
        ]
    );
    // Filled in once: a second start changes nothing.
    clients::fill_in_kinds(&store.db, &parties).await.unwrap();
    assert_eq!(
        clients::competence(&store.db, &client_id)
            .await
            .unwrap()
            .len(),
        3
    );
}

/// Writes a record that does not parse straight into the database, as damage would.
/// Stores `json` as the client's record, as it was stored in clear before encryption at rest
/// (a `.` in front), so that it opens but need not parse.
async fn corrupt_record(db: &Db, client_id: &str, json: &str) {
    let json = format!(".{json}");
    gateway::with_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO client_records (client_id, record, version, updated_at) VALUES ($1, $2, 1, 0)",
        )
        .bind(client_id)
        .bind(&json)
        .execute(pool)
        .await
        .unwrap();
    });
}

/// The stored text of `column` in `table` where `key` is `value`, as the database holds it.
async fn raw(db: &Db, table: &str, column: &str, key: &str, value: &str) -> String {
    let sql = format!("SELECT {column} FROM {table} WHERE {key} = $1");
    gateway::with_pool!(db, |pool| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// Overwrites the stored text of `column` in `table` where `key` is `value`.
async fn overwrite(db: &Db, (table, column): (&str, &str), (key, value): (&str, &str), text: &str) {
    let sql = format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2");
    gateway::with_pool!(db, |pool| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(text)
            .bind(value)
            .execute(pool)
            .await
            .unwrap();
    });
}

const SECRET: &str = "Zeldzame-Waarde-7731";

async fn personal_text_is_sealed_at_rest_and_bound_to_its_row(store: Store) {
    let db = &store.db;
    let (a, b) = (
        store.register("ocmw-gent", 1).await,
        store.register("ocmw-gent", 2).await,
    );
    let record = format!(r#"{{"note":"{SECRET}"}}"#);
    for client in [&a, &b] {
        assert_eq!(
            store.apply(update(client, 0, &record)).await,
            Applied::RecordUpdated { version: 1 }
        );
    }
    let mut proposal = referral(&a, "ocmw-gent", "amal", "ocmwToAgency");
    proposal.reason = format!("reden: {SECRET}");
    let referral_id = proposal.referral_id.clone();
    assert_eq!(
        store.apply(Mutation::CreateReferral(proposal)).await,
        Applied::ReferralCreated
    );

    // What the database holds is the key id and ciphertext, never the text.
    let stored = raw(db, "client_records", "record", "client_id", &a).await;
    assert!(stored.starts_with("store-test."), "{stored}");
    assert!(!stored.contains(SECRET) && !stored.contains("note"));
    let reason = raw(db, "referrals", "reason", "referral_id", &referral_id).await;
    assert!(reason.starts_with("store-test.") && !reason.contains(SECRET));
    let dossier = raw(db, "client_links", "dossier_reference", "client_id", &a).await;
    assert!(dossier.starts_with("store-test."), "{dossier}");
    // Read through the store, it is the text again.
    assert_eq!(records::load(db, &a).await.unwrap().json, record);
    let read = referrals::find(db, &referral_id, "amal").await.unwrap();
    assert_eq!(
        read.expect("visible to the receiver").reason,
        format!("reden: {SECRET}")
    );

    // A's ciphertext copied onto B's row does not open there: an error, not A's record.
    overwrite(db, ("client_records", "record"), ("client_id", &b), &stored).await;
    assert!(records::load(db, &b).await.is_err());
    // Nor does the reason moved into the record's column of its own client.
    overwrite(db, ("client_records", "record"), ("client_id", &a), &reason).await;
    assert!(records::load(db, &a).await.is_err());
}

async fn a_rotated_key_reads_the_old_values_and_the_migration_moves_them(store: Store) {
    let client = store.register("ocmw-gent", 1).await;
    assert_eq!(
        store.apply(update(&client, 0, r#"{"a":1}"#)).await,
        Applied::RecordUpdated { version: 1 }
    );
    let legacy = store.register("ocmw-gent", 2).await;
    corrupt_record(&store.db, &legacy, r#"{"b":2}"#).await;

    // The new key is current; the old one still opens what it sealed.
    let rotated = CipherRing::fixed(
        FieldCipher::new("store-test-2", &[8; 32]).with_older("store-test", &[9; 32]),
    );
    let db = store.db.clone().with_sealing(Arc::new(rotated));
    let ids = ["store-test-2".to_owned(), "store-test".to_owned()];
    let count = |census: &[Census], key: &str| -> i64 {
        census
            .iter()
            .filter(|c| c.key_id == key)
            .map(|c| c.values)
            .sum()
    };
    let before = sealing::census(&db, &ids).await.unwrap();
    assert_eq!(count(&before, "store-test-2"), 0);
    // Two national register numbers, two dossiers, one record under the old key.
    assert_eq!(count(&before, "store-test"), 5);
    assert_eq!(count(&before, sealing::CLEAR_KEY), 1);
    assert_eq!(
        records::load(&db, &client).await.unwrap().json,
        r#"{"a":1}"#
    );

    let mut moved = 0;
    for column in sealing::SEALED_COLUMNS {
        let mut after = String::new();
        while let Some((last, count)) = sealing::reseal_page(&db, column, &after, 1).await.unwrap()
        {
            moved += count;
            after = last;
        }
    }
    assert_eq!(moved, 6);
    let after = sealing::census(&db, &ids).await.unwrap();
    assert_eq!(count(&after, "store-test"), 0);
    assert_eq!(count(&after, sealing::CLEAR_KEY), 0);
    assert_eq!(count(&after, "store-test-2"), 6);
    assert_eq!(
        records::load(&db, &client).await.unwrap().json,
        r#"{"a":1}"#
    );
    assert_eq!(
        records::load(&db, &legacy).await.unwrap().json,
        r#"{"b":2}"#
    );
    // Without the old key nothing is lost: nothing needs it any more.
    let only_new = CipherRing::fixed(FieldCipher::new("store-test-2", &[8; 32]));
    let db = store.db.clone().with_sealing(Arc::new(only_new));
    assert_eq!(
        records::load(&db, &client).await.unwrap().json,
        r#"{"a":1}"#
    );
    // The national register number's row names its key.
    let key: String = raw(&db, "clients", "encryption_key_id", "client_id", &client).await;
    assert_eq!(key, "store-test-2");
}

async fn a_failed_change_leaves_the_rest_of_its_batch(store: Store) {
    let damaged = store.register("ocmw-gent", 1).await;
    corrupt_record(&store.db, &damaged, "not json").await;
    let sound = store.register("ocmw-gent", 2).await;
    let before = audit::log_size(&store.db).await.unwrap();
    // Submitted together, committed in one batch: the failure is rolled back alone.
    let (failed, updated) = tokio::join!(
        store.apply(attest("kbi", 1, "kbi-1", "integration")),
        store.apply(update(&sound, 0, r#"{"a":1}"#)),
    );
    assert_eq!(failed, Applied::Failed);
    assert_eq!(updated, Applied::RecordUpdated { version: 1 });
    assert_eq!(audit::log_size(&store.db).await.unwrap(), before + 2);
    assert_eq!(
        records::load(&store.db, &sound).await.unwrap().json,
        r#"{"a":1}"#
    );
    assert_eq!(
        records::load(&store.db, &damaged).await.unwrap().json,
        "not json"
    );
}

async fn events_are_written_with_their_change_and_read_by_position(store: Store) {
    // An event without a client takes the one its change resolved.
    let registered = store
        .apply_with_events(
            Mutation::RegisterClient(registration("ocmw-gent", 1)),
            vec![NewEvent::record_changed(None, &[Category::Income], false)],
        )
        .await;
    let client_id = registered.client_id().unwrap().to_owned();
    let changed = NewEvent::record_changed(
        Some(client_id.clone()),
        &[Category::Attest, Category::Coordination],
        true,
    );
    let changed_id = changed.event_id.clone();
    store
        .apply_with_events(update(&client_id, 0, "{}"), vec![changed])
        .await;
    // A change that does not apply writes no event.
    let stale = NewEvent::record_changed(Some(client_id.clone()), &[Category::Income], false);
    assert_eq!(
        store
            .apply_with_events(update(&client_id, 0, "{}"), vec![stale])
            .await,
        Applied::Stale
    );
    let about = NewEvent::about(
        EventType::ReferralChanged,
        &client_id,
        "referral-1",
        &["amal", "ocmw-gent"],
        &[],
    );
    store
        .apply_with_events(
            Mutation::RegisterClient(registration("amal", 1)),
            vec![about],
        )
        .await;

    let db = &store.db;
    let (read, scanned) = events::after(db, "ocmw-gent", 0, 10).await.unwrap();
    assert_eq!(read.len(), 3);
    assert!(read.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(scanned, read[2].position);
    assert!(read.iter().all(|e| e.client_id == client_id && e.linked));
    let (first, second, third) = (&read[0], &read[1], &read[2]);
    assert_eq!(
        (first.event_type.as_str(), first.categories.as_str()),
        ("clientRecordChanged", "income")
    );
    assert!(!first.significant);
    assert_eq!(second.event_id, changed_id);
    assert_eq!(second.categories, "attest,coordination");
    assert!(second.significant);
    assert_eq!(second.subject_id, None);
    assert_eq!(
        (third.event_type.as_str(), third.subject_id.as_deref()),
        ("referralChanged", Some("referral-1"))
    );
    assert_eq!(third.audience.as_deref(), Some("amal,ocmw-gent"));

    // Paging: after a position, at most `limit`, and the last position scanned.
    let (page, scanned) = events::after(db, "ocmw-gent", first.position, 1)
        .await
        .unwrap();
    assert_eq!(page, std::slice::from_ref(second));
    assert_eq!(scanned, second.position);
    assert!(
        events::after(db, "ocmw-gent", third.position, 10)
            .await
            .unwrap()
            .0
            .is_empty()
    );

    // One by position, with the reader's link as it is now.
    assert_eq!(
        events::at(db, "ocmw-gent", second.position).await.unwrap(),
        Some(second.clone())
    );
    let unlinked = events::at(db, "ocmw-eeklo", second.position)
        .await
        .unwrap()
        .expect("the event exists");
    assert!(!unlinked.linked);
    assert_eq!(
        events::at(db, "ocmw-gent", third.position + 1)
            .await
            .unwrap(),
        None
    );
}

/// The kinds of the attests stored for 2024, as the database holds them.
async fn attests_of_2024(db: &Db) -> Vec<String> {
    gateway::with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT kind FROM kbi_attests WHERE issued_on >= '2024-01-01' AND issued_on <= '2024-12-31'"
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

/// The monitoring's joint clients: linked to both parties of a pair in scope, read in pages
/// that neither skip nor repeat a client, and none of another pair.
async fn the_joint_clients_of_a_scope_are_read_a_page_at_a_time(store: Store) {
    let mut joint = Vec::new();
    for n in 1..=5 {
        let client = store.register("ocmw-gent", n).await;
        assert_eq!(store.register("amal", n).await, client);
        joint.push(client);
    }
    // Gent alone, and Eeklo with Amal: not joint clients of the pair (Gent, Amal).
    store.register("ocmw-gent", 6).await;
    let eeklo = store.register("ocmw-eeklo", 7).await;
    store.register("amal", 7).await;
    joint.sort();
    let pairs = [("ocmw-gent".to_owned(), "amal".to_owned())];
    let scope = monitoring::Scope {
        start: 0,
        end: i64::MAX,
        pairs: &pairs,
    };
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = monitoring::joint_page(&store.db, &scope, &after, 2)
            .await
            .unwrap();
        assert!(page.len() <= 2);
        let Some((last, _)) = page.last() else { break };
        after = last.clone();
        seen.extend(page.into_iter().map(|(client, _)| client));
    }
    assert_eq!(seen, joint);
    assert!(!seen.contains(&eeklo));
    let nobody = monitoring::Scope {
        pairs: &[],
        ..scope
    };
    assert!(
        monitoring::joint_page(&store.db, &nobody, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
