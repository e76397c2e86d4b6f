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
    /// The change failed in the database and was rolled back.
    Failed,
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
