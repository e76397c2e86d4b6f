//! Multi-row INSERT statements: one statement per chunk of rows instead of one per row, which
//! is what lets a group commit carry thousands of records cheaply.

use sqlx::AssertSqlSafe;

/// Rows per statement: under SQLite's 32 766 and PostgreSQL's 65 535 bound parameters for the
/// widest table written this way.
pub const CHUNK_ROWS: usize = 500;

/// `INSERT INTO <table> (<columns>) VALUES ($1, …), (…) <suffix>` for `rows` rows. Only
/// generated placeholders and the caller's constant names go into the text.
pub fn insert_sql(
    table: &str,
    columns: &[&str],
    rows: usize,
    suffix: &str,
) -> AssertSqlSafe<String> {
    let width = columns.len();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * width + column + 1));
        }
        sql.push(')');
    }
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    AssertSqlSafe(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_row_by_row() {
        let sql = insert_sql("t", &["a", "b"], 2, "ON CONFLICT DO NOTHING").0;
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
    }
}
