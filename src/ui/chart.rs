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
    let top = totals.iter().copied().max().unwrap_or(0).max(1);
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
            @for fraction in [0.0, 0.5, 1.0] {
                @let y = TOP + plot_height - fraction * plot_height;
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y) y2=(y) stroke="#767676" stroke-width="0.5" {}
                text x=(LEFT - 6.0) y=(y + 4.0) text-anchor="end" font-size="11" fill="#333333" {
                    (((top as f64) * fraction).round() as u64)
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
                        rect x=(x) y=(y) width=(bar) height=(height) fill=(colour(s)) {
                            title { (day) ", " (one.label) ": " (value) }
                        }
                    }
                }
                @if d % label_every == 0 {
                    text x=(x + bar / 2.0) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle"
                        font-size="11" fill="#333333" {
                        (day.get(5..).unwrap_or(day))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
    }

    #[test]
    fn the_highest_day_fills_the_plot_and_stacks_add_up() {
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
        // Day 2 holds the maximum (3): its one bar is the whole plot high.
        assert!(svg.contains(&format!("height=\"{plot_height}\"")), "{svg}");
        // Day 1: two bars of a third each.
        assert_eq!(
            svg.matches(&format!("height=\"{}\"", plot_height / 3.0))
                .count(),
            2,
            "{svg}"
        );
        assert!(svg.contains("2026-11-02, amal: 3"));
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
