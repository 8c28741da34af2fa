use std::net::IpAddr;
use std::time::Duration;

use crate::{Detector, Firing, Observation, Step, Watch, WatchSettings};

const T0: i64 = 1_764_892_800_000; // 2025-12-05 00:00 UTC, a Friday

fn obs<'a>(t: i64, id: &'a str, op: &'a str, code: Option<&'a str>) -> Observation<'a> {
    Observation {
        time_ms: t,
        identity: id,
        kind: None,
        api: Some("orders"),
        operation: Some(op),
        code,
        address: Some(IpAddr::from([127, 0, 0, 1])),
        item: None,
    }
}

fn only(settings: &mut WatchSettings, keep: Detector) {
    let t = &mut settings.defaults;
    if keep != Detector::Probing {
        t.probing = None;
    }
    if keep != Detector::Enumeration {
        t.enumeration = None;
    }
    if keep != Detector::DenySpike {
        t.deny_spike = None;
    }
    if keep != Detector::Novelty {
        t.novelty = None;
    }
    if keep != Detector::Volume {
        t.volume = None;
    }
}

fn run<'a>(
    watch: &Watch,
    s: &WatchSettings,
    all: impl IntoIterator<Item = Observation<'a>>,
) -> Vec<Firing> {
    all.into_iter().flat_map(|o| watch.observe(s, &o)).collect()
}

#[test]
fn probing_fires_at_the_threshold_and_climbs_the_ladder() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Probing);
    let w = Watch::new(100);
    let probes = (0..30).map(|i| obs(T0 + i * 100, "bot", "getOrder", Some("undeclared-route")));
    let fired = run(&w, &s, probes);
    assert_eq!(fired.len(), 3);
    let steps: Vec<Step> = fired.iter().map(|f| f.step).collect();
    assert_eq!(steps, [Step::Alert, Step::Throttle, Step::Quarantine]);
    let first = fired.first().unwrap();
    assert_eq!(first.detector, Detector::Probing);
    assert_eq!(first.evidence.count, 10);
    assert_eq!(first.evidence.threshold, 10);
    assert_eq!(first.evidence.window_ms, 60_000);
    assert_eq!(first.evidence.since_ms, Some(T0));
    assert_eq!(first.time_ms, T0 + 900);
    assert!(first.enforced);
}

#[test]
fn probing_ignores_the_same_count_spread_beyond_the_window_and_other_codes() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Probing);
    let w = Watch::new(100);
    // Nine a minute, for ten minutes: never ten in one window.
    let slow = (0..90).map(|i| obs(T0 + i * 6_700, "slow", "getOrder", Some("invalid-request")));
    assert!(run(&w, &s, slow).is_empty());
    // Denials and successes are not probing.
    let other = (0..50).map(|i| {
        let code = if i % 2 == 0 { Some("forbidden") } else { None };
        obs(T0 + i, "busy", "getOrder", code)
    });
    assert!(run(&w, &s, other).is_empty());
}

#[test]
fn escalation_starts_again_after_the_escalation_window() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Probing);
    s.escalation = Duration::from_secs(60);
    let w = Watch::new(100);
    let burst =
        |start: i64| (0..10).map(move |i| obs(start + i, "bot", "x", Some("ambiguous-path")));
    let a = run(&w, &s, burst(T0));
    let b = run(&w, &s, burst(T0 + 120_000));
    assert_eq!(a.first().map(|f| (f.level, f.step)), Some((1, Step::Alert)));
    assert_eq!(b.first().map(|f| (f.level, f.step)), Some((1, Step::Alert)));
}

#[test]
fn an_override_can_observe_one_identity_while_the_rest_are_enforced() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Probing);
    let mut scanner = s.defaults.clone();
    scanner.mode = Some(crate::Mode::Observe);
    s.by_identity.push(("scanner".into(), scanner));
    let w = Watch::new(100);
    let fired = |id| {
        run(
            &w,
            &s,
            (0..10).map(|i| obs(T0 + i, id, "x", Some("method-not-allowed"))),
        )
    };
    let (scanner, other) = (fired("scanner"), fired("other"));
    assert_eq!((scanner.len(), other.len()), (1, 1));
    assert!(!scanner[0].enforced && other[0].enforced);
}

#[test]
fn observe_mode_marks_firings_not_enforced() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Probing);
    s.mode = crate::Mode::Observe;
    let w = Watch::new(100);
    let fired = run(
        &w,
        &s,
        (0..10).map(|i| obs(T0 + i, "bot", "x", Some("method-not-allowed"))),
    );
    assert_eq!(fired.len(), 1);
    assert!(fired.iter().all(|f| !f.enforced));
}

fn item<'a>(t: i64, id: &'a str, value: &'a str) -> Observation<'a> {
    Observation {
        item: Some(value),
        ..obs(t, id, "getOrder", None)
    }
}

#[test]
fn enumeration_fires_on_many_distinct_values_but_not_on_repeated_reads() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Enumeration);
    let w = Watch::new(100);
    let values: Vec<String> = (0..30).map(|i| format!("{:x}", i * 7919 + 13)).collect();
    let fired = run(
        &w,
        &s,
        values
            .iter()
            .enumerate()
            .map(|(i, v)| item(T0 + i as i64, "scraper", v)),
    );
    assert_eq!(fired.len(), 1);
    let f = fired.first().unwrap();
    assert_eq!(
        (f.detector, f.evidence.count, f.evidence.threshold),
        (Detector::Enumeration, 30, 30)
    );
    assert_eq!(f.evidence.subject.as_deref(), Some("orders:getOrder"));
    assert_eq!(f.evidence.samples.len(), 5);
    // The same volume over five records a normal client keeps reading.
    let few = ["a1", "b2", "c3", "d4", "e5"];
    let normal = (0..300).map(|i| item(T0 + i, "reader", few[i as usize % 5]));
    assert!(run(&w, &s, normal).is_empty());
}

#[test]
fn enumeration_fires_on_a_run_of_consecutive_numbers() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Enumeration);
    let w = Watch::new(100);
    let ids: Vec<String> = (0..10).map(|i| format!("ord-{}", 1000 - i)).collect();
    let fired = run(
        &w,
        &s,
        ids.iter()
            .enumerate()
            .map(|(i, v)| item(T0 + i as i64, "walker", v)),
    );
    assert_eq!(fired.len(), 1);
    let f = fired.first().unwrap();
    assert_eq!((f.evidence.count, f.evidence.threshold), (10, 10));
    assert_eq!(f.evidence.samples, ["ord-1000", "ord-991"]);
    // Nine in a row, then a break, then nine again: no run of ten.
    let broken: Vec<String> = (0..9)
        .map(|i| format!("ord-{}", 5000 + i))
        .chain(["ord-77".to_owned()])
        .chain((0..9).map(|i| format!("ord-{}", 6000 + i)))
        .collect();
    let fired = run(
        &w,
        &s,
        broken
            .iter()
            .enumerate()
            .map(|(i, v)| item(T0 + i as i64, "other", v)),
    );
    assert!(fired.is_empty());
}

#[test]
fn deny_spike_fires_against_the_identitys_own_baseline() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::DenySpike);
    let w = Watch::new(100);
    // Ten minutes of two denials a minute: a baseline of about two.
    let calm = (0..20).map(|i| obs(T0 + i * 30_000, "agent", "x", Some("forbidden")));
    assert!(run(&w, &s, calm).is_empty());
    // Then fifteen in ten seconds: over five times the baseline and the minimum.
    let start = T0 + 600_000;
    let spike = (0..15).map(|i| obs(start + i * 600, "agent", "x", Some("insufficient-scope")));
    let fired = run(&w, &s, spike);
    assert_eq!(fired.len(), 1, "{fired:?}");
    let f = fired.first().unwrap();
    assert_eq!(f.detector, Detector::DenySpike);
    assert!(f.evidence.count >= 10 && f.evidence.baseline.is_some());
}

#[test]
fn deny_spike_ignores_permitted_work_and_a_steady_denial_rate() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::DenySpike);
    s.defaults.deny_spike.as_mut().unwrap().params.min = 3;
    let w = Watch::new(100);
    let permitted = (0..2_000).map(|i| obs(T0 + i * 10, "worker", "x", None));
    assert!(run(&w, &s, permitted).is_empty());
    // Four denials a minute for half an hour: its own normal, never a spike
    // (the first minute is under five times an empty baseline's floor).
    let steady = (0..120).map(|i| obs(T0 + i * 15_000, "steady", "x", Some("forbidden")));
    assert!(run(&w, &s, steady).is_empty());
    // The same identity then denied twenty times in a minute: a spike.
    let start = T0 + 1_800_000;
    let spike = (0..20).map(|i| obs(start + i * 3_000, "steady", "x", Some("forbidden")));
    assert_eq!(run(&w, &s, spike).len(), 1);
}

#[test]
fn a_burst_straddling_two_windows_is_seen_whole() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::DenySpike);
    let w = Watch::new(100);
    let boundary = (T0 / 60_000 + 1) * 60_000;
    let burst = (0..12).map(|i| obs(boundary - 3_000 + i * 500, "agent", "x", Some("forbidden")));
    assert_eq!(run(&w, &s, burst).len(), 1);
}

#[test]
fn volume_waits_for_a_warm_up_then_fires_on_a_surge() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Volume);
    let w = Watch::new(100);
    // Twelve minutes at 100 a minute (under the minimum of 600 anyway).
    let steady = (0..1_200).map(|i| obs(T0 + i * 600, "svc", "x", None));
    assert!(run(&w, &s, steady).is_empty());
    // Then 1,000 in the next minute.
    let start = T0 + 720_000;
    let surge = (0..1_000).map(|i| obs(start + i * 50, "svc", "x", None));
    let fired = run(&w, &s, surge);
    assert_eq!(fired.len(), 1);
    let f = fired.first().unwrap();
    assert!(f.evidence.count >= 600);
    assert!(
        f.evidence.baseline.is_some_and(|b| (90..=110).contains(&b)),
        "{f:?}"
    );
}

#[test]
fn volume_does_not_fire_for_a_client_steady_at_a_high_rate() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Volume);
    let w = Watch::new(100);
    // 2,000 a minute for twenty minutes: high, but its own normal.
    let steady = (0..40_000).map(|i| obs(T0 + i * 30, "svc", "x", None));
    assert!(run(&w, &s, steady).is_empty());
}

fn novelty_settings() -> WatchSettings {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Novelty);
    let n = &mut s.defaults.novelty.as_mut().unwrap().params;
    n.warmup = Duration::from_secs(3600);
    n.warmup_records = 50;
    n.cooldown = Duration::from_secs(60);
    s
}

#[test]
fn novelty_learns_during_warm_up_then_fires_on_a_new_operation_address_or_hour() {
    let s = novelty_settings();
    let w = Watch::new(100);
    // Two hours of the same two operations from one address, in the same hour.
    let ops = ["listOrders", "getOrder"];
    let history = (0..100).map(|i| obs(T0 + i * 36_000, "agent", ops[i as usize % 2], None));
    assert!(run(&w, &s, history).is_empty());
    // An hour later (a new hour of the week too): the operation is named.
    let later = T0 + 3_600_000 + 1_000;
    let f = w.observe(&s, &obs(later, "agent", "deleteOrder", None));
    assert_eq!(f.len(), 1, "{f:?}");
    let f = f.first().unwrap();
    assert_eq!(
        f.evidence.subject.as_deref(),
        Some("operation orders:deleteOrder")
    );
    // Within the cooldown: learnt, not alerted.
    let mut other = obs(later + 1_000, "agent", "getOrder", None);
    other.address = Some(IpAddr::from([10, 0, 0, 9]));
    assert!(w.observe(&s, &other).is_empty());
    // After it: a new address alerts.
    other.time_ms = later + 61_000;
    other.address = Some(IpAddr::from([10, 0, 0, 10]));
    let f = w.observe(&s, &other);
    assert_eq!(
        f.first()
            .and_then(|f| f.evidence.subject.clone())
            .as_deref(),
        Some("address 10.0.0.10")
    );
}

#[test]
fn novelty_stays_quiet_for_a_client_doing_what_it_always_does() {
    let s = novelty_settings();
    let w = Watch::new(100);
    let ops = ["listOrders", "getOrder"];
    // Three weeks, the same two operations, the same address, each hour of
    // the week visited in the first week.
    let fired = run(
        &w,
        &s,
        (0..3 * 168 * 4).map(|i| obs(T0 + i * 900_000, "agent", ops[i as usize % 2], None)),
    );
    // Each hour of the first week is new once (alerted at most once an
    // hour, past the warm-up): judge the two weeks after it.
    let late: Vec<&Firing> = fired
        .iter()
        .filter(|f| f.time_ms >= T0 + 168 * 3_600_000)
        .collect();
    assert!(late.is_empty(), "{late:?}");
}

#[test]
fn hour_of_week_counts_from_monday() {
    // 1970-01-05 was a Monday.
    assert_eq!(crate::hour_of_week(4 * 86_400_000), 0);
    assert_eq!(crate::hour_of_week(0), 72);
    assert_eq!(crate::hour_of_week(T0), 96); // Friday 00:00
}

#[test]
fn a_flood_of_identities_stays_within_the_bound() {
    let mut s = WatchSettings::new();
    s.max_identities = 1_600;
    let w = Watch::new(s.max_identities);
    let ids: Vec<String> = (0..50_000).map(|i| format!("id-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        w.observe(&s, &obs(T0 + i as i64, id, "x", Some("forbidden")));
    }
    assert!(w.len() <= 1_600, "{}", w.len());
    assert!(w.len() >= 1_400);
}

#[test]
fn a_flood_of_values_and_operations_stays_within_the_bound() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Enumeration);
    s.defaults.enumeration.as_mut().unwrap().params.distinct = 1_000;
    let w = Watch::new(10);
    let values: Vec<(String, String)> = (0..100_000)
        .map(|i| (format!("op{}", i % 97), format!("v{}", i * 31)))
        .collect();
    for (i, (op, v)) in values.iter().enumerate() {
        let o = Observation {
            item: Some(v),
            ..obs(T0 + i as i64 * 1_000, "one", op, None)
        };
        w.observe(&s, &o);
    }
    assert_eq!(w.len(), 1);
    let (operations, values) = w.enumeration_footprint("one");
    assert_eq!(operations, 16);
    assert!(values <= 16 * 1_000, "{values}");
}

#[test]
fn released_identities_start_again() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Probing);
    let w = Watch::new(100);
    let probes =
        |start: i64| (0..10).map(move |i| obs(start + i, "bot", "x", Some("undeclared-route")));
    assert_eq!(run(&w, &s, probes(T0)).first().map(|f| f.level), Some(1));
    assert_eq!(
        run(&w, &s, probes(T0 + 100)).first().map(|f| f.level),
        Some(2)
    );
    w.release("bot");
    assert_eq!(
        run(&w, &s, probes(T0 + 200)).first().map(|f| f.level),
        Some(1)
    );
}

#[test]
fn suspended_refusals_are_not_behaviour() {
    let mut s = WatchSettings::new();
    only(&mut s, Detector::Volume);
    s.defaults.volume.as_mut().unwrap().params.warmup = 0;
    s.defaults.volume.as_mut().unwrap().params.min = 5;
    let w = Watch::new(100);
    let held = (0..100).map(|i| obs(T0 + i, "held", "x", Some("identity-suspended")));
    assert!(run(&w, &s, held).is_empty());
    assert!(w.is_empty());
}
