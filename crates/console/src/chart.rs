//! Inline SVG charts, drawn on the server: no script, no inline style
//! (colours are classes the console's stylesheet defines, so the strict
//! Content-Security-Policy holds), every label escaped. Each chart carries
//! a `<title>` per mark, which browsers show on hover.

use std::fmt::Write as _;

use portcullis_core::escape_markup as esc;

use crate::series::{Minute, PerIdentity};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 22.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;
/// Distinct colours for refusal codes; more codes share the last.
const PALETTE: usize = 6;

/// `HH:MM` (UTC) of a time in milliseconds.
pub fn clock(ms: i64) -> String {
    let minute = ms.div_euclid(60_000).rem_euclid(1_440);
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The smallest "nice" number (1, 2 or 5 times a power of ten) at least `v`.
fn nice(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * power >= v {
            return step * power;
        }
    }
    10.0 * power
}

fn open(out: &mut String, label: &str, height: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{label}"><title>{label}</title>"#,
        label = esc(label)
    );
}

/// Horizontal grid lines and their labels, for a y axis from 0 to `max`.
fn grid(out: &mut String, max: f64, unit: &str) {
    // Five steps: a nice maximum (1, 2 or 5 times a power of ten) divides
    // into round ticks.
    for i in 0..=5 {
        let value = max * f64::from(i) / 5.0;
        let y = TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - f64::from(i) / 5.0);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{tx}" y="{ty:.1}" text-anchor="end">{value}{unit}</text>"#,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 4.0,
            ty = y + 4.0,
            value = trim(value),
        );
    }
}

fn trim(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Time labels under the x axis: the first minute, then every tenth.
fn time_axis(out: &mut String, minutes: &[Minute], slot: f64) {
    for (i, m) in minutes.iter().enumerate() {
        if i % 10 == 0 || i + 1 == minutes.len() {
            let x = LEFT + slot * (i as f64 + 0.5);
            let _ = write!(
                out,
                r#"<text class="axis" x="{x:.1}" y="{y}" text-anchor="middle">{t}</text>"#,
                y = HEIGHT - 6.0,
                t = clock(m.start_ms)
            );
        }
    }
}

/// The refusal codes seen, most frequent first: their order picks colours.
fn codes(minutes: &[Minute]) -> Vec<String> {
    let mut totals: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for m in minutes {
        for (code, n) in &m.refused {
            *totals.entry(code).or_default() += n;
        }
    }
    let mut codes: Vec<(&str, u64)> = totals.into_iter().collect();
    codes.sort_by_key(|c| std::cmp::Reverse(c.1));
    codes.into_iter().map(|(c, _)| c.to_owned()).collect()
}

fn colour(index: usize) -> String {
    format!("c{}", index.min(PALETTE - 1))
}

/// Requests per minute, stacked: allowed, then each refusal code.
pub fn requests(minutes: &[Minute]) -> String {
    let mut out = String::new();
    open(
        &mut out,
        "Requests per minute: allowed, and refused by code",
        HEIGHT,
    );
    // Counts: at least five, so the ticks are whole requests.
    let max = nice(minutes.iter().map(Minute::total).max().unwrap_or(0) as f64).max(5.0);
    grid(&mut out, max, "");
    let slot = (WIDTH - LEFT - RIGHT) / minutes.len().max(1) as f64;
    let scale = (HEIGHT - TOP - BOTTOM) / max;
    let codes = codes(minutes);
    for (i, m) in minutes.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.1;
        let mut base = HEIGHT - BOTTOM;
        let layers = std::iter::once(("ok".to_owned(), "allowed", m.allowed)).chain(
            codes.iter().enumerate().filter_map(|(j, code)| {
                m.refused.get(code).map(|n| (colour(j), code.as_str(), *n))
            }),
        );
        for (class, label, n) in layers {
            if n == 0 {
                continue;
            }
            let h = n as f64 * scale;
            base -= h;
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{x:.1}" y="{base:.1}" width="{w:.1}" height="{h:.1}"><title>{t} · {label}: {n}</title></rect>"#,
                w = slot * 0.8,
                t = clock(m.start_ms),
                label = esc(label),
            );
        }
    }
    time_axis(&mut out, minutes, slot);
    out.push_str("</svg>");
    out.push_str(&legend(
        std::iter::once(("ok".to_owned(), "allowed".to_owned())).chain(
            codes
                .iter()
                .enumerate()
                .map(|(j, c)| (colour(j), c.clone())),
        ),
    ));
    out
}

/// Latency per minute: the median and the 99th percentile, in milliseconds.
pub fn latency(minutes: &[Minute]) -> String {
    let mut out = String::new();
    open(&mut out, "Latency per minute: p50 and p99 (ms)", HEIGHT);
    let top_us = minutes.iter().filter_map(|m| m.p99_us).max().unwrap_or(0);
    let max = nice(top_us as f64 / 1000.0);
    grid(&mut out, max, " ms");
    let slot = (WIDTH - LEFT - RIGHT) / minutes.len().max(1) as f64;
    let scale = (HEIGHT - TOP - BOTTOM) / max;
    for (class, pick) in [
        ("p50", (|m: &Minute| m.p50_us) as fn(&Minute) -> Option<u64>),
        ("p99", |m: &Minute| m.p99_us),
    ] {
        let points: Vec<String> = minutes
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                pick(m).map(|us| {
                    let x = LEFT + slot * (i as f64 + 0.5);
                    let y = HEIGHT - BOTTOM - us as f64 / 1000.0 * scale;
                    format!("{x:.1},{y:.1}")
                })
            })
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="line {class}" points="{}"/>"#,
            points.join(" ")
        );
        for (i, m) in minutes.iter().enumerate() {
            if let Some(us) = pick(m) {
                let _ = write!(
                    out,
                    r#"<circle class="dot {class}" cx="{x:.1}" cy="{y:.1}" r="2.5"><title>{t} · {class}: {ms:.2} ms</title></circle>"#,
                    x = LEFT + slot * (i as f64 + 0.5),
                    y = HEIGHT - BOTTOM - us as f64 / 1000.0 * scale,
                    t = clock(m.start_ms),
                    ms = us as f64 / 1000.0,
                );
            }
        }
    }
    time_axis(&mut out, minutes, slot);
    out.push_str("</svg>");
    out.push_str(&legend(
        [("p50", "p50"), ("p99", "p99")].map(|(c, l)| (c.to_owned(), l.to_owned())),
    ));
    out
}

/// Requests per identity, one bar each: allowed, then refused.
pub fn identities(rows: &[PerIdentity]) -> String {
    let row_height = 22.0;
    let height = TOP + row_height * rows.len().max(1) as f64 + 4.0;
    let label_width = 170.0;
    let mut out = String::new();
    open(
        &mut out,
        "Requests per identity: allowed and refused",
        height,
    );
    let max = nice(
        rows.iter()
            .map(|r| r.allowed + r.refused)
            .max()
            .unwrap_or(0) as f64,
    );
    let scale = (WIDTH - label_width - RIGHT - 40.0) / max;
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + row_height * i as f64;
        let _ = write!(
            out,
            r#"<text class="label" x="{lx}" y="{ty:.1}" text-anchor="end">{name}</text>"#,
            lx = label_width - 6.0,
            ty = y + 14.0,
            name = esc(&r.identity),
        );
        let mut x = label_width;
        for (class, what, n) in [("ok", "allowed", r.allowed), ("c0", "refused", r.refused)] {
            if n == 0 {
                continue;
            }
            let w = n as f64 * scale;
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h}"><title>{name} · {what}: {n}</title></rect>"#,
                h = row_height - 6.0,
                name = esc(&r.identity),
            );
            x += w;
        }
        let _ = write!(
            out,
            r#"<text class="axis" x="{tx:.1}" y="{ty:.1}">{n}</text>"#,
            tx = x + 4.0,
            ty = y + 14.0,
            n = r.allowed + r.refused,
        );
    }
    out.push_str("</svg>");
    out.push_str(&legend(
        [("ok", "allowed"), ("c0", "refused")].map(|(c, l)| (c.to_owned(), l.to_owned())),
    ));
    out
}

fn legend(items: impl IntoIterator<Item = (String, String)>) -> String {
    let mut out = String::from(r#"<ul class="legend">"#);
    for (class, label) in items {
        let _ = write!(
            out,
            r#"<li><svg viewBox="0 0 10 10" class="swatch"><rect class="{class}" width="10" height="10"/></svg>{}</li>"#,
            esc(&label)
        );
    }
    out.push_str("</ul>");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn labels_are_escaped_and_no_style_or_script_is_drawn() {
        let minutes = vec![Minute {
            start_ms: 0,
            allowed: 3,
            refused: BTreeMap::from([("<script>".to_owned(), 2)]),
            p50_us: Some(1_500),
            p99_us: Some(9_000),
        }];
        let rows = [PerIdentity {
            identity: "<img src=x onerror=alert(1)>".into(),
            allowed: 1,
            refused: 1,
        }];
        for svg in [requests(&minutes), latency(&minutes), identities(&rows)] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("<img"), "{svg}");
            assert!(!svg.contains("style="), "{svg}");
        }
        assert!(requests(&minutes).contains("&lt;script&gt;: 2"));
        assert!(latency(&minutes).contains("p99: 9.00 ms"));
    }

    #[test]
    fn axes_round_up_to_nice_numbers() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(13.0), 20.0);
        assert_eq!(nice(420.0), 500.0);
        assert_eq!(clock(61 * 60_000 + 59_999), "01:01");
    }
}
