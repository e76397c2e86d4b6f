//! Publishing the yearly monitoring of joint-client trajectories (SWO art. 16: "jaarlijkse
//! monitoring van de trajecten van de gezamenlijke cliënten") without identifying anyone:
//! small-cell suppression. A count from 1 to 4 is shown as `<5`. Where a breakdown would then
//! let its total give a suppressed cell away (one suppressed cell, the others and the total
//! shown), the smallest other non-zero cell is hidden too (`suppressed`), or, if there is
//! none, the total.

use serde::Serialize;

/// The smallest count that is shown.
pub const THRESHOLD: u64 = 5;

/// One published count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Cell {
    Count(u64),
    /// `<5` for a small count, `suppressed` for one hidden to protect another.
    Hidden(&'static str),
}

const SMALL: Cell = Cell::Hidden("<5");
const SECONDARY: Cell = Cell::Hidden("suppressed");

/// One breakdown of a population: its cells, which add up to its total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    pub total: Cell,
    /// In the order given.
    pub cells: Vec<(String, Cell)>,
}

fn is_small(count: u64) -> bool {
    (1..THRESHOLD).contains(&count)
}

/// The breakdown of `counts` (name and count of each cell) as it may be published.
pub fn publish(counts: &[(&str, u64)]) -> Breakdown {
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let mut cells: Vec<(String, Cell)> = counts
        .iter()
        .map(|(name, n)| {
            let cell = if is_small(*n) { SMALL } else { Cell::Count(*n) };
            ((*name).to_owned(), cell)
        })
        .collect();
    let mut total_cell = if is_small(total) {
        SMALL
    } else {
        Cell::Count(total)
    };
    let suppressed = cells.iter().filter(|(_, c)| *c == SMALL).count();
    if suppressed == 1 && matches!(total_cell, Cell::Count(_)) {
        let partner = counts
            .iter()
            .enumerate()
            .filter(|(i, (_, n))| *n > 0 && cells[*i].1 != SMALL)
            .min_by_key(|(_, (_, n))| *n)
            .map(|(i, _)| i);
        match partner {
            Some(i) => cells[i].1 = SECONDARY,
            None => total_cell = SECONDARY,
        }
    }
    Breakdown {
        total: total_cell,
        cells,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(breakdown: &Breakdown) -> Vec<Cell> {
        breakdown.cells.iter().map(|(_, c)| *c).collect()
    }

    #[test]
    fn swo_art_16_counts_from_1_to_4_are_shown_as_below_5_and_zero_and_5_as_they_are() {
        let b = publish(&[("a", 0), ("b", 1), ("c", 4), ("d", 5), ("e", 12)]);
        assert_eq!(
            shown(&b),
            [
                Cell::Count(0),
                SMALL,
                SMALL,
                Cell::Count(5),
                Cell::Count(12)
            ]
        );
        assert_eq!(b.total, Cell::Count(22));
    }

    #[test]
    fn swo_art_16_a_lone_suppressed_cell_cannot_be_recovered_from_the_total() {
        // 8 − 6 would give the 2 away: the 6 is hidden as well.
        let b = publish(&[("obligated", 6), ("entitled", 2), ("none", 0)]);
        assert_eq!(shown(&b), [SECONDARY, SMALL, Cell::Count(0)]);
        assert_eq!(b.total, Cell::Count(8));
        // The smallest other cell is the one hidden, so as little as possible is lost.
        let b = publish(&[("a", 40), ("b", 3), ("c", 9)]);
        assert_eq!(shown(&b), [Cell::Count(40), SMALL, SECONDARY]);
    }

    #[test]
    fn swo_art_16_with_no_other_cell_to_hide_the_total_is_hidden() {
        let b = publish(&[("a", 3), ("b", 0)]);
        assert_eq!(shown(&b), [SMALL, Cell::Count(0)]);
        // A total of 3 is itself small.
        assert_eq!(b.total, SMALL);
        let b = publish(&[("a", 3), ("b", 0), ("c", 0)]);
        assert_eq!(b.total, SMALL);
    }

    #[test]
    fn swo_art_16_no_published_breakdown_lets_a_small_count_be_computed() {
        // Over every breakdown of up to three cells of 0..=12, no shown cells and shown total
        // determine a cell that was shown as <5.
        for a in 0..=12u64 {
            for b in 0..=12u64 {
                for c in 0..=12u64 {
                    let p = publish(&[("a", a), ("b", b), ("c", c)]);
                    let hidden: Vec<usize> = (0..3)
                        .filter(|i| matches!(p.cells[*i].1, Cell::Hidden(_)))
                        .collect();
                    if hidden.len() == 1
                        && let Cell::Count(_) = p.total
                    {
                        panic!("{a} {b} {c}: {p:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn cells_serialise_as_numbers_or_markers() {
        let json = serde_json::to_string(&publish(&[("a", 2), ("b", 7), ("c", 9)])).unwrap();
        assert_eq!(
            json,
            r#"{"total":18,"cells":[["a","<5"],["b","suppressed"],["c",9]]}"#
        );
    }
}

/// The yearly monitoring report (SWO art. 16) as published: counts only, suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringReport {
    pub year: i32,
    /// Joint clients (linked to an OCMW and to the integration agency during the year) by
    /// integration status (SWO art. 3).
    pub joint_clients_by_status: Breakdown,
    /// The same clients by who directs the trajectory (SWO art. 3, 13)…
    pub joint_clients_by_direction: Breakdown,
    /// …and by who holds the sanction authority (SWO art. 12), at the end of the year.
    pub joint_clients_by_sanction_authority: Breakdown,
    /// Referrals proposed during the year, per direction, by outcome (SWO art. 4).
    pub referrals: Vec<(String, Breakdown)>,
    /// Attests issued during the year by kind (SWO art. 13).
    pub attests: Breakdown,
    /// Participation trajectories of the joint clients by state (SWO art. 11).
    pub participation: Breakdown,
}
