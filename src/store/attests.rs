//! Attests notified by KBI (SWO art. 13), one per KBI reference: a repeated notification with
//! the same reference changes nothing. (The yearly counts of attests are read in `monitoring`.)

use super::mutations::{Applied, ChangeError, Registration};
use super::{Conn, clients, records};

/// The attest already recorded under a reference.
#[derive(sqlx::FromRow)]
struct Known {
    client_id: String,
    kind: String,
    issued_on: String,
}

/// Records an attest: the client (created if new), KBI's link, the attest on the record — once
/// per reference. A reference seen before changes nothing.
pub(super) async fn record(
    conn: &mut Conn<'_>,
    registration: &Registration,
    reference: &str,
    attest: &serde_json::Value,
    kind: &str,
    issued_on: &str,
    now: i64,
) -> Result<Applied, ChangeError> {
    let known: Option<Known> = with_conn!(conn, |c| {
        sqlx::query_as("SELECT client_id, kind, issued_on FROM kbi_attests WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&mut *c)
            .await?
    });
    if let Some(known) = known {
        let same = known.kind == kind && known.issued_on == issued_on;
        return Ok(Applied::AttestKnown {
            client_id: known.client_id,
            same,
        });
    }
    let client_id = match clients::register(conn, registration, now).await? {
        Applied::Registered { client_id, .. } => client_id,
        other => return Ok(other),
    };
    conn
        .execute(
            "INSERT INTO kbi_attests (reference, client_id, kind, issued_on, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            &[reference.into(), (&client_id).into(), kind.into(), issued_on.into(), now.into()],
        )
        .await?;
    records::set_attest(conn, &client_id, attest, now).await?;
    Ok(Applied::AttestRecorded { client_id })
}
