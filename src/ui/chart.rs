//! A stacked bar chart as inline SVG, drawn on the server: no script, no style attribute
//! (the pages' Content-Security-Policy allows neither), colours from a palette that stays
//! distinguishable with colour-blindness. A table beside it carries the same numbers for
//! screen readers.

use maud::{Markup, html};

/// Okabe–Ito: distinguishable for the common forms of colour-blindness.
const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

pub fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// One series: its label and a value per day, in the order of `days`.
pub struct Series {
    pub label: String,
    pub values: Vec<u64>,
}

/// Bars per day, each stacked from the series in order; `id` names the chart's title for
/// `aria-labelledby` and must be unique on the page.
pub fn stacked_bars(id: &str, title: &str, days: &[String], series: &[Series]) -> Markup {
    let totals: Vec<u64> = (0..days.len())
        .map(|d| {
            series
                .iter()
                .map(|s| s.values.get(d).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let top = nice_ceiling(totals.iter().copied().max().unwrap_or(0));
    let ticks: Vec<u64> = if top >= 2 {
        vec![0, top / 2, top]
    } else {
        vec![0, top]
    };
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / days.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let scale = |value: u64| value as f64 / top as f64 * plot_height;
    // A label under at most about twelve bars, so that the dates never overlap.
    let label_every = days.len().div_ceil(12).max(1);
    let title_id = format!("{id}-titel");
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (WIDTH) " " (HEIGHT)}
            role="img" aria-labelledby=(title_id) class="chart" {
            title id=(title_id) { (title) }
            @for tick in ticks {
                @let y = px(TOP + plot_height - scale(tick));
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y) y2=(y) stroke="#767676" stroke-width="0.5" {}
                text x=(LEFT - 6.0) y=(px(TOP + plot_height - scale(tick) + 4.0)) text-anchor="end" font-size="11" fill="#333333" {
                    (tick)
                }
            }
            @for (d, day) in days.iter().enumerate() {
                @let x = LEFT + d as f64 * slot + (slot - bar) / 2.0;
                @let mut base = TOP + plot_height;
                @for (s, one) in series.iter().enumerate() {
                    @let value = one.values.get(d).copied().unwrap_or(0);
                    @if value > 0 {
                        @let height = scale(value);
                        @let y = { base -= height; base };
                        rect x=(px(x)) y=(px(y)) width=(px(bar)) height=(px(height)) fill=(colour(s)) {
                            title { (day) ", " (one.label) ": " (value) }
                        }
                    }
                }
                @if d % label_every == 0 {
                    text x=(px(x + bar / 2.0)) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle"
                        font-size="11" fill="#333333" {
                        (day.get(5..).unwrap_or(day))
                    }
                }
            }
        }
    }
}

/// A coordinate to a tenth of a unit: finer is invisible, and the page stays small.
fn px(value: f64) -> String {
    format!("{value:.1}")
}

/// The axis' top: the smallest of 1, 2, 5, 10, 20, 50, … not below `max`, so that the ticks
/// at the top and halfway are round numbers.
fn nice_ceiling(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for factor in [1, 2, 5] {
            if step.saturating_mul(factor) >= max {
                return step.saturating_mul(factor).max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
    }

    #[test]
    fn bars_scale_to_a_round_axis_and_stack() {
        let series = [
            Series {
                label: "amal".into(),
                values: vec![1, 3],
            },
            Series {
                label: "ocmw-gent".into(),
                values: vec![1, 0],
            },
        ];
        let svg = stacked_bars("a", "Toegang", &days(2), &series).into_string();
        let plot_height = HEIGHT - TOP - BOTTOM;
        // The axis runs to 5, the round number above the highest day (3).
        assert!(
            svg.contains(">5</text>") && svg.contains(">2</text>"),
            "{svg}"
        );
        assert!(svg.contains(&format!("height=\"{}\"", px(plot_height * 3.0 / 5.0))));
        // Day 1: two bars of a fifth each, the second on top of the first.
        let fifth = px(plot_height / 5.0);
        assert_eq!(
            svg.matches(&format!("height=\"{fifth}\"")).count(),
            2,
            "{svg}"
        );
        assert!(svg.contains(&format!("y=\"{}\"", px(TOP + plot_height * 3.0 / 5.0))));
        assert!(svg.contains("2026-11-02, amal: 3"));
    }

    #[test]
    fn the_axis_ends_on_a_round_number() {
        let tops: Vec<u64> = [0, 1, 2, 3, 6, 11, 49, 51, 999].map(nice_ceiling).to_vec();
        assert_eq!(tops, [1, 1, 2, 5, 10, 20, 50, 100, 1000]);
    }

    #[test]
    fn a_series_name_is_text_not_markup() {
        let series = [Series {
            label: "<script>x</script>".into(),
            values: vec![2],
        }];
        let svg = stacked_bars("a", "T", &days(1), &series).into_string();
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn an_empty_range_draws_axes_without_dividing_by_zero() {
        let svg = stacked_bars("a", "T", &[], &[]).into_string();
        assert!(svg.contains("<svg") && !svg.contains("NaN") && !svg.contains("inf"));
    }
}
