//! Which audit records a search asks for, on the columns the log indexes.

/// What an audit search selects on the indexed columns; empty strings select everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub party: String,
    pub user: String,
    pub client: String,
    pub action: String,
    pub outcome: String,
    /// `[from, to)` in microseconds since the epoch.
    pub from_micros: i64,
    pub to_micros: i64,
}
