//! The steps the stories are made of: people and their numbers, clients and joint clients,
//! reading and writing a client's record, consents, attests and the change feed.

use super::callers::{Answer, CASE_WORK, Caller, Endpoint, Session, client_id, status_and_body};
use super::library::Ssin;
use super::server::{TestGateway, repo_path};
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// The case workers most stories are told with.
pub const GENT: (&str, &str) = ("ocmw-gent", "sw-1");
pub const AMAL: (&str, &str) = ("amal", "tb-1");
pub const EEKLO: (&str, &str) = ("ocmw-eeklo", "sw-9");

/// A national register number: the nine digits `body` and their check (97 − body mod 97,
/// for people born before 2000).
fn with_check(body: u64) -> String {
    let ssin = format!("{body:09}{:02}", 97 - body % 97);
    assert!(Ssin::parse(&ssin).is_ok(), "{ssin}");
    ssin
}

/// A valid national register number (born 30 July 1985, sequence `n`), so that tests can make
/// as many distinct clients as they need.
pub fn generated_ssin(n: u32) -> String {
    assert!((1..=998).contains(&n), "sequence {n}");
    with_check(850_730_000 + u64::from(n))
}

/// The `n`-th of many distinct valid national register numbers (born 1950–1999), for loads.
pub fn ssin(n: u32) -> String {
    let sequence = n % 998 + 1;
    let day = n / 998;
    let (dd, mm, yy) = (day % 28 + 1, (day / 28) % 12 + 1, 50 + (day / 336) % 50);
    with_check(
        format!("{yy:02}{mm:02}{dd:02}{sequence:03}")
            .parse()
            .unwrap(),
    )
}

/// The lines of a file under `tests/data/`.
pub fn data_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(repo_path(&format!("tests/data/{name}")))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The body of a registration with a valid legal basis and dossier.
pub fn registration(ssin: &str) -> Value {
    json!({
        "ssin": ssin,
        "legalBasis": "publicTask",
        "dossierReference": "GPMI-2025/0042",
    })
}

impl Session {
    /// `POST /v1/clients` with a valid legal basis and dossier.
    pub async fn register(&self, ssin: &str) -> Response {
        self.post("/v1/clients", &registration(ssin)).await
    }

    /// `POST /v1/clients/lookup`.
    pub async fn lookup(&self, ssin: &str) -> Response {
        self.post("/v1/clients/lookup", &json!({ "ssin": ssin }))
            .await
    }

    /// `DELETE /v1/clients/{id}/link`.
    pub async fn unlink(&self, client: &str) -> Response {
        self.delete(&format!("/v1/clients/{client}/link")).await
    }

    /// Registers `ssin`, which must be new to this party (201); the client id.
    pub async fn new_client(&self, ssin: &str) -> String {
        let response = self.register(ssin).await;
        assert_eq!(response.status(), 201, "registration of a new client");
        client_id(response).await
    }

    /// `GET /v1/clients/{id}`.
    pub async fn read_record(&self, client: &str) -> Answer {
        Answer::of(self.get(&format!("/v1/clients/{client}")).await).await
    }

    /// `PATCH /v1/clients/{id}` with `patch` as a merge patch, against the version `if_match`.
    pub async fn patch_record(
        &self,
        client: &str,
        if_match: Option<&str>,
        patch: &Value,
    ) -> Answer {
        let mut request = self
            .request(Method::PATCH, &format!("/v1/clients/{client}"))
            .header("Content-Type", "application/merge-patch+json")
            .body(patch.to_string());
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        Answer::of(request.send().await.unwrap()).await
    }

    /// Reads a client's record, then patches it against the version read; both must succeed.
    pub async fn write_record(&self, client: &str, patch: Value) -> Answer {
        let current = self.read_record(client).await;
        assert_eq!(current.status, 200, "{}", current.body);
        let written = self
            .patch_record(client, current.etag.as_deref(), &patch)
            .await;
        assert_eq!(written.status, 200, "{}", written.body);
        written
    }

    /// Records `consent` about `client`; the answer.
    pub async fn record_consent(&self, client: &str, consent: &Value) -> Response {
        self.post(&format!("/v1/clients/{client}/consents"), consent)
            .await
    }

    /// Withdraws the consent `consent` about `client`.
    pub async fn withdraw_consent(&self, client: &str, consent: &str) -> Response {
        let path = format!("/v1/clients/{client}/consents/{consent}/withdrawal");
        self.post_empty(&path).await
    }

    /// A page of the change feed (`GET /v1/events?query`), which must be served.
    pub async fn feed(&self, query: &str) -> Value {
        let (status, page) = status_and_body(self.get(&format!("/v1/events?{query}")).await).await;
        assert_eq!(status, 200, "{page}");
        page
    }

    /// Every event on the feed from the start.
    pub async fn events(&self) -> Vec<Value> {
        let page = self.feed("after=0").await;
        page["events"].as_array().unwrap().clone()
    }
}

/// The events of type `kind` on the feed of the case worker `who` working for `purpose`.
pub async fn announced(
    gw: &impl Endpoint,
    who: (&str, &str),
    purpose: &str,
    kind: &str,
) -> Vec<Value> {
    let feed = gw.session(&Caller::case_worker(who).for_purpose(purpose));
    let events = feed.events().await.into_iter();
    events.filter(|e| e["type"] == kind).collect()
}

/// Person `n`, registered as a client of OCMW Gent and then of Amal; the client id.
pub async fn joint_client(gw: &impl Endpoint, n: u32) -> String {
    let ssin = generated_ssin(n);
    gw.case_worker(GENT).new_client(&ssin).await;
    gw.case_worker(AMAL).new_client(&ssin).await
}

/// A fresh gateway with person `n` as a joint client of OCMW Gent and Amal: the gateway, the
/// client id, and Gent's and Amal's case workers.
pub async fn with_joint_client(n: u32) -> (TestGateway, String, Session, Session) {
    let gw = TestGateway::start().await;
    let client = joint_client(&gw, n).await;
    let (gent, amal) = (gw.case_worker(GENT), gw.case_worker(AMAL));
    (gw, client, gent, amal)
}

/// Today, as a consent's first day of validity (a consent is never backdated).
pub fn today() -> String {
    let today = time::OffsetDateTime::now_utc().date();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    today.format(&format).unwrap()
}

/// A consent by which the client lets OCMW Gent see trajectory progress and activation for
/// case work, as Amal records it.
pub fn consent_for_gent() -> Value {
    json!({
        "recipientParty": "ocmw-gent",
        "purpose": CASE_WORK,
        "categories": ["trajectoryProgress", "activation"],
        "legalTextVersion": "amal-privacy-2026-01",
        "language": "nl",
        "evidenceReference": "form-2026-0042",
        "validFrom": today(),
        "validUntil": "2099-12-31",
    })
}

/// Amal records [`consent_for_gent`] about `client` (201); the consent id.
pub async fn give_consent(gw: &impl Endpoint, client: &str) -> String {
    let given = gw
        .case_worker(AMAL)
        .record_consent(client, &consent_for_gent())
        .await;
    assert_eq!(given.status(), 201);
    let body: Value = given.json().await.unwrap();
    body["consentId"].as_str().unwrap().to_owned()
}

/// An attest of KBI about `ssin`.
pub fn attest(ssin: &str, reference: &str, issued_on: &str) -> Value {
    json!({"ssin": ssin, "kind": "integrationAttest", "issuedOn": issued_on, "reference": reference})
}

/// KBI notifies an attest (`POST /v1/kbi/attests` as its system); the status and the body.
pub async fn notify_attest(gw: &impl Endpoint, body: &Value) -> (u16, Value) {
    let kbi = gw.session(&Caller::new(
        "kbi",
        &["system"],
        "kbi-feed",
        "attestRegistration",
    ));
    status_and_body(kbi.post("/v1/kbi/attests", body).await).await
}
