//! Decisions folded into what the charts draw: per minute, the requests
//! allowed and refused (by problem code) and the latency percentiles; per
//! identity, allowed and refused. Pure: records and the window come in.

use std::collections::BTreeMap;

/// One decided request, as far as the charts need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point<'a> {
    pub time_ms: i64,
    pub identity: Option<&'a str>,
    /// The problem code sent; `None` when the request was answered.
    pub code: Option<&'a str>,
    pub latency_us: u64,
}

impl<'a> Point<'a> {
    /// A request's record (`allow`, `deny`, `observe`); `None` for the
    /// watch's alerts and state changes, which are not requests.
    pub fn of(record: &'a serde_json::Value) -> Option<Self> {
        let entry = record.get("entry")?;
        let decision = entry.get("decision")?.as_str()?;
        if !matches!(decision, "allow" | "deny" | "observe") {
            return None;
        }
        Some(Self {
            time_ms: entry.get("time_ms")?.as_i64()?,
            identity: entry.get("identity").and_then(serde_json::Value::as_str),
            code: if decision == "deny" {
                Some(
                    entry
                        .get("code")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("refused"),
                )
            } else {
                None
            },
            latency_us: entry
                .get("latency_us")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0),
        })
    }
}

/// One minute of traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minute {
    /// The minute's start, milliseconds since the epoch.
    pub start_ms: i64,
    pub allowed: u64,
    /// Refusals by problem code.
    pub refused: BTreeMap<String, u64>,
    /// Median and 99th percentile latency, microseconds; `None` without requests.
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
}

impl Minute {
    pub fn total(&self) -> u64 {
        self.allowed + self.refused.values().sum::<u64>()
    }
}

/// Per-minute buckets of the `minutes` minutes ending with the one holding
/// `now_ms`, oldest first; points outside the window are ignored.
pub fn per_minute<'a>(
    points: impl IntoIterator<Item = Point<'a>>,
    now_ms: i64,
    minutes: usize,
) -> Vec<Minute> {
    let last = now_ms.div_euclid(60_000);
    let count = i64::try_from(minutes).unwrap_or(60).max(1);
    let first = last - count + 1;
    let mut buckets: Vec<(Minute, Vec<u64>)> = (first..=last)
        .map(|m| {
            (
                Minute {
                    start_ms: m * 60_000,
                    ..Minute::default()
                },
                Vec::new(),
            )
        })
        .collect();
    for p in points {
        let m = p.time_ms.div_euclid(60_000);
        let Some((bucket, latencies)) = usize::try_from(m - first)
            .ok()
            .and_then(|i| buckets.get_mut(i))
        else {
            continue;
        };
        match p.code {
            None => bucket.allowed += 1,
            Some(code) => *bucket.refused.entry(code.to_owned()).or_default() += 1,
        }
        latencies.push(p.latency_us);
    }
    buckets
        .into_iter()
        .map(|(mut bucket, mut latencies)| {
            latencies.sort_unstable();
            bucket.p50_us = percentile(&latencies, 50);
            bucket.p99_us = percentile(&latencies, 99);
            bucket
        })
        .collect()
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Requests per identity: allowed and refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerIdentity {
    pub identity: String,
    pub allowed: u64,
    pub refused: u64,
}

/// The `top` identities with the most requests, most first (ties by name);
/// requests without an identity count as `(anonymous)`.
pub fn per_identity<'a>(
    points: impl IntoIterator<Item = Point<'a>>,
    top: usize,
) -> Vec<PerIdentity> {
    let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in points {
        let entry = counts
            .entry(p.identity.unwrap_or("(anonymous)"))
            .or_default();
        if p.code.is_none() {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    let mut rows: Vec<PerIdentity> = counts
        .into_iter()
        .map(|(identity, (allowed, refused))| PerIdentity {
            identity: identity.to_owned(),
            allowed,
            refused,
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.allowed + r.refused));
    rows.truncate(top);
    rows
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "test data of known shape")]

    use super::*;

    fn p(
        time_ms: i64,
        identity: &'static str,
        code: Option<&'static str>,
        latency_us: u64,
    ) -> Point<'static> {
        Point {
            time_ms,
            identity: Some(identity),
            code,
            latency_us,
        }
    }

    #[test]
    fn minutes_count_allowed_and_refusals_by_code_with_percentiles() {
        let now = 10 * 60_000 + 5_000;
        let mut points: Vec<Point> = (1..=100).map(|i| p(now - 1_000, "a", None, i)).collect();
        points.push(p(now - 1_000, "b", Some("forbidden"), 7));
        points.push(p(now - 61_000, "b", Some("rate-limited"), 3));
        // Outside the window (too old, and in the future).
        points.push(p(now - 5 * 60_000, "b", None, 3));
        points.push(p(now + 60_000, "b", None, 3));
        let minutes = per_minute(points.iter().copied(), now, 3);
        assert_eq!(minutes.len(), 3);
        assert_eq!(minutes[0].start_ms, 8 * 60_000);
        assert_eq!(minutes[0].total(), 0);
        assert_eq!(minutes[0].p50_us, None);
        assert_eq!(minutes[1].refused["rate-limited"], 1);
        assert_eq!(minutes[2].allowed, 100);
        assert_eq!(minutes[2].refused["forbidden"], 1);
        assert_eq!(minutes[2].p50_us, Some(50));
        // 101 latencies (the refusal's 7 among them): nearest rank 100 is 99.
        assert_eq!(minutes[2].p99_us, Some(99));
    }

    #[test]
    fn identities_are_ranked_by_requests() {
        let points = [
            p(0, "a", None, 1),
            p(0, "b", Some("forbidden"), 1),
            p(0, "b", None, 1),
            p(0, "c", None, 1),
        ];
        let rows = per_identity(points, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].identity.as_str(), rows[0].allowed, rows[0].refused),
            ("b", 1, 1)
        );
        assert_eq!(rows[1].identity, "a");
    }

    #[test]
    fn only_requests_are_points() {
        let alert = serde_json::json!({"entry": {"decision": "alert", "time_ms": 1}});
        assert!(Point::of(&alert).is_none());
        let deny = serde_json::json!({"entry": {"decision": "deny", "time_ms": 1, "code": "forbidden", "latency_us": 9}});
        assert_eq!(Point::of(&deny).unwrap().code, Some("forbidden"));
    }
}
