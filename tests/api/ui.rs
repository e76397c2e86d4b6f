//! The privacy officer's pages (`/ui`): who may open them (a privacy officer's personal
//! certificate, nothing else), the form token on the one state change, refusals on record,
//! the security headers; and, in headless Chromium, every task of the officer with the audit
//! record it leaves.

use crate::harness::library::{Config, PersonConfig, Role};
use crate::harness::{
    AMAL, Caller, Endpoint, TestGateway, another_ca, development_ca, generated_ssin, issue,
    joint_client, repo_path, summary,
};
use reqwest::{Method, StatusCode};

const OFFICER: &str = "ocmw-gent-privacy-officer";
const CASE_WORKER: &str = "ocmw-gent-case-worker";

/// Gent's configuration also knows a case worker by a personal certificate.
async fn start(customize: impl FnOnce(&mut Config)) -> TestGateway {
    let gw = TestGateway::start_with(|config| {
        config.parties[0].people.push(PersonConfig {
            certificate_common_name: CASE_WORKER.into(),
            user: "sw-personal".into(),
            role: Role::CaseWorker,
        });
        customize(config);
    })
    .await;
    let issued = issue(&development_ca(&gw.pki()), CASE_WORKER, |_| {});
    std::fs::write(gw.pki().join(format!("{CASE_WORKER}.crt")), issued.cert).unwrap();
    std::fs::write(gw.pki().join(format!("{CASE_WORKER}.key")), issued.key).unwrap();
    gw
}

async fn get(gw: &TestGateway, who: &str, path: &str) -> (StatusCode, String) {
    let response = gw.session(&Caller::certificate_only(who)).get(path).await;
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// `GET path` as the officer's browser, fetching it with `sec-fetch` headers (site, mode,
/// destination); the status and the page.
async fn fetched(
    gw: &TestGateway,
    path: &str,
    (site, mode, dest): (&str, &str, &str),
) -> (StatusCode, String) {
    let officer = gw.session(&Caller::certificate_only(OFFICER));
    let response = officer
        .request(Method::GET, path)
        .header("sec-fetch-site", site)
        .header("sec-fetch-mode", mode)
        .header("sec-fetch-dest", dest)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

fn form_token(page: &str) -> String {
    let start = page
        .find("name=\"token\" value=\"")
        .expect("the form has a token")
        + 20;
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn only_a_privacy_officers_personal_certificate_opens_the_pages() {
    let gw = start(|_| {}).await;
    let response = gw
        .session(&Caller::certificate_only(OFFICER))
        .get("/ui")
        .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && !csp.contains("script"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
    assert_eq!(headers["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert!(page.contains("Aangemeld als <strong>privacy-officer</strong> (OCMW Gent)"));
    assert!(!page.contains("<script") && !page.contains("style="));

    // The party's own certificate (the API's), and a person in another role: refused.
    let (status, page) = get(&gw, "ocmw-gent", "/ui/audit").await;
    assert_eq!(status, 403);
    assert!(page.contains("Geen toegang") && !page.contains("<nav"));
    let (status, _) = get(&gw, CASE_WORKER, "/ui/audit?client=x").await;
    assert_eq!(status, 403);
    // A certificate chaining to no trusted CA does not even finish the handshake.
    let (_, stranger) = another_ca("Someone else's CA");
    let cert = issue(&stranger, OFFICER, |_| {});
    let impostor = Caller::certificate_only(OFFICER).with_identity(&cert.identity());
    let answer = gw
        .session(&impostor)
        .try_send(Method::GET, "/ui", None)
        .await;
    assert!(answer.is_err());
    // A personal certificate opens no API route: the API takes a party's certificate.
    let (status, body) = get(&gw, OFFICER, "/v1/whoami").await;
    assert_eq!(status, 403);
    assert!(body.contains("unknownClientCertificate"), "{body}");

    // Another site may link to a page, not load one into itself (a look in the officer's name).
    let look = "/ui/audit?client=00000000-0000-0000-0000-000000000000";
    let (embedded, _) = fetched(&gw, look, ("cross-site", "no-cors", "image")).await;
    assert_eq!(embedded, 403);
    let (followed, _) = fetched(&gw, "/ui", ("cross-site", "navigate", "document")).await;
    assert_eq!(followed, 200);
    // A link from another site to a page that looks something up opens a page that asks to
    // continue, and looks nothing up: the officer's own click (same origin) does.
    for site in ["cross-site", "same-site"] {
        let (asked, page) = fetched(&gw, look, (site, "navigate", "document")).await;
        assert_eq!(asked, 200);
        assert!(page.contains("Doorgaan"), "{page}");
        assert!(
            page.contains("href=\"/ui/audit?client=00000000-0000-0000-0000-000000000000\""),
            "{page}"
        );
    }

    assert_eq!(gw.audit_of_user("person:privacy-officer").await, []);
    assert_eq!(
        gw.audit_of_user("person:sw-personal").await,
        [summary("openReviewPages", "denied", Some("roleNotAllowed"))]
    );
}

#[tokio::test]
async fn verifying_the_log_needs_this_officers_form_token_from_this_site() {
    let gw = start(|_| {}).await;
    let verify = |who: &'static str, token: String, origin: Option<&'static str>| {
        let gw = &gw;
        async move {
            let mut request = gw
                .session(&Caller::certificate_only(who))
                .request(Method::POST, "/ui/integrity/verify")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("token={token}"));
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            let response = request.send().await.unwrap();
            (response.status(), response.url().path().to_owned())
        }
    };
    let refused = (StatusCode::FORBIDDEN, "/ui/integrity/verify".to_owned());
    let (status, page) = get(&gw, OFFICER, "/ui/integrity").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<pre class=\"note\">joint-client-gateway.dev.invalid/audit\n"),
        "{page}"
    );
    let token = form_token(&page);
    let (_, other_page) = get(&gw, "amal-privacy-officer", "/ui/integrity").await;

    assert_eq!(verify(OFFICER, String::new(), None).await, refused);
    assert_eq!(verify(OFFICER, format!("{token}0"), None).await, refused);
    let amal = form_token(&other_page);
    assert_eq!(
        verify(OFFICER, amal, None).await,
        refused,
        "Amal's officer's token"
    );
    let elsewhere = Some("https://elsewhere.example");
    assert_eq!(verify(OFFICER, token.clone(), elsewhere).await, refused);
    // Accepted: the browser is sent back to the page (303), which shows the result.
    let accepted = verify(OFFICER, token.clone(), None).await;
    assert_eq!(accepted, (StatusCode::OK, "/ui/integrity".to_owned()));
    let (_, page) = get(&gw, OFFICER, "/ui/integrity").await;
    assert!(page.contains("<strong>In orde.</strong>"), "{page}");

    let records = gw.audit_of_user("person:privacy-officer").await;
    let gent: Vec<_> = gw
        .audit_rows()
        .await
        .into_iter()
        .filter(|row| row.party_id == "ocmw-gent" && row.record.action == "verifyAuditLog")
        .map(|row| (row.outcome, row.record.reason, row.record.purpose))
        .collect();
    let denied = (
        String::from("denied"),
        Some(String::from("formTokenInvalid")),
        String::from("auditReview"),
    );
    let allowed = (String::from("allowed"), None, String::from("auditReview"));
    assert_eq!(
        gent,
        [
            denied.clone(),
            denied.clone(),
            denied.clone(),
            denied,
            allowed
        ]
    );
    assert!(
        records
            .iter()
            .filter(|r| r.0 == "getAuditCheckpoint")
            .count()
            >= 2
    );
}

#[tokio::test]
async fn malformed_form_input_gets_the_form_back_and_is_refused_on_record() {
    let gw = start(|_| {}).await;
    for (path, field) in [
        ("/ui/audit?from=25-11-2026", "from"),
        ("/ui/audit?purpose=gossip", "purpose"),
        ("/ui/audit?after=-4", "client"),
        ("/ui/access-report?client=%3Cb%3E", "client"),
        ("/ui/anomalies?from=2026-11-10&to=2026-11-01", "from"),
        ("/ui/activity?from=2020-01-01&to=2026-11-01", "from"),
    ] {
        let (status, page) = get(&gw, OFFICER, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(page.contains("role=\"alert\""), "{path}: {page}");
        assert!(
            page.contains(&format!("id=\"{field}\"")),
            "{path}: the form comes back"
        );
        assert!(!page.contains("<b>"), "{path}: input is never markup");
    }
    let refusals: Vec<_> = gw
        .audit_of_user("person:privacy-officer")
        .await
        .into_iter()
        .map(|(action, outcome, reason)| (action, outcome, reason.unwrap_or_default()))
        .collect();
    let expected: Vec<_> = [
        "searchAuditLog",
        "searchAuditLog",
        "searchAuditLog",
        "getAccessReport",
        "getAuditAnomalies",
        "getAuditActivity",
    ]
    .into_iter()
    .map(|action| {
        (
            action.to_owned(),
            "denied".to_owned(),
            "invalidInput".to_owned(),
        )
    })
    .collect();
    assert_eq!(refusals, expected);
    // An unknown page is a page, not an API problem, and needs no login to say so.
    let (status, page) = get(&gw, OFFICER, "/ui/nothing-here").await;
    assert_eq!(
        (status, page.contains("Pagina niet gevonden")),
        (StatusCode::NOT_FOUND, true)
    );
}

/// The history the browser looks at: a joint client of Gent and Amal, written and read for
/// two purposes, and a case worker whose lookups keep failing (a refusal burst).
async fn history(gw: &TestGateway) -> String {
    let client = joint_client(gw, 31).await;
    let progress = serde_json::json!({"nt2Level": "A2"});
    gw.case_worker(AMAL).write_record(&client, progress).await;
    let assisting = Caller::case_worker(("ocmw-gent", "sw-1")).for_purpose("socialAssistance");
    let read = gw
        .session(&assisting)
        .get(&format!("/v1/clients/{client}"))
        .await;
    assert_eq!(read.status(), 200);
    let failing = gw.case_worker(("ocmw-gent", "sw-2"));
    for n in 0..4 {
        assert_eq!(failing.lookup(&generated_ssin(80 + n)).await.status(), 404);
    }
    client
}

/// Needs Debian's Chromium and the npm packages of tests/browser: `tests/prepare` installs
/// them (the README's test command runs it first).
#[tokio::test]
async fn ui_in_a_browser() {
    let gw = start(|config| config.review.refusals = 3).await;
    let client = history(&gw).await;
    let pki = gw.pki();
    let stem = |name: &str| pki.join(name).display().to_string();
    // Screenshots go to docs/ when asked for (to refresh the README's), else to the test's dir.
    let shots = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        repo_path("docs")
    } else {
        gw.dir.path().join("screenshots")
    };
    let script = repo_path("tests/browser/review.mjs");
    let mut node = std::process::Command::new("node");
    node.arg(&script)
        .env("GATEWAY_URL", gw.url("").trim_end_matches('/'))
        .env("CLIENT_ID", &client)
        .env("ANOMALY_USER", "sw-2")
        .env("OFFICER", stem(OFFICER))
        .env("CASE_WORKER", stem(CASE_WORKER))
        .env("PARTY", stem("ocmw-gent"))
        .env("SCREENSHOTS", &shots);
    // The gateway runs on this runtime: the browser waits on another thread.
    let output = tokio::task::spawn_blocking(move || node.output())
        .await
        .unwrap()
        .expect("node runs: run tests/prepare first");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{log}");
    assert!(
        output.status.success(),
        "the browser checks failed (tests/prepare installs Chromium and the npm packages):\n{log}"
    );

    // Every look the officer took is on record, as the officer, for audit review.
    let records = gw.audit_of_user("person:privacy-officer").await;
    for action in [
        "searchAuditLog",
        "getAccessReport",
        "getAuditAnomalies",
        "getAuditActivity",
        "getAuditCheckpoint",
        "verifyAuditLog",
    ] {
        assert!(
            records
                .iter()
                .any(|(a, outcome, _)| a == action && outcome == "allowed"),
            "{action} is on record: {records:?}"
        );
    }
    let reports: Vec<_> = gw
        .audit_rows()
        .await
        .into_iter()
        .filter(|row| row.record.action == "getAccessReport")
        .map(|row| row.client_id)
        .collect();
    assert!(
        !reports.is_empty()
            && reports
                .iter()
                .all(|c| c.as_deref() == Some(client.as_str()))
    );
    assert!(
        gw.audit_of_user("person:sw-personal")
            .await
            .iter()
            .any(|r| r.0 == "openReviewPages"),
        "the case worker's attempt is on record"
    );
}

#[tokio::test]
async fn the_pages_answer_at_ui_slash_and_declare_an_icon_that_is_served() {
    let gw = start(|_| {}).await;
    let (status, home) = get(&gw, OFFICER, "/ui").await;
    assert_eq!(status, StatusCode::OK, "{home}");
    // `/ui/` as people type it: the same page (by a permanent redirect).
    let (status, slash) = get(&gw, OFFICER, "/ui/").await;
    assert_eq!(
        (status, slash.contains("<main")),
        (StatusCode::OK, true),
        "{slash}"
    );
    // The icon the pages declare exists, so a browser asks for no /favicon.ico.
    assert!(
        home.contains(r#"rel="icon" href="/ui/favicon.svg""#),
        "{home}"
    );
    let (status, icon) = get(&gw, OFFICER, "/ui/favicon.svg").await;
    assert_eq!(status, StatusCode::OK);
    assert!(icon.starts_with("<svg"), "{icon}");
    // Not for anyone else.
    let (status, _) = get(&gw, CASE_WORKER, "/ui/favicon.svg").await;
    assert_ne!(status, StatusCode::OK);
}
