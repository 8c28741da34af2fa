use std::time::Duration;

use portcullis_core::IdentityKind;
use portcullis_watch::{Mode, Step, Tuning};

use super::tests::diagnostics;
use crate::{Embedded, Overrides, load_from};

const API: &str =
    "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\n";

fn load(watch: &str) -> crate::Config {
    let text: &'static str = Box::leak(format!("{API}{watch}").into_boxed_str());
    let files = Embedded(Box::leak(Box::new([
        ("c.yaml", text),
        (
            "ok.yaml",
            "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
    ])));
    let overrides = Overrides {
        storage: Some(crate::Storage::Memory),
        ..Overrides::default()
    };
    load_from(&files, "c.yaml", &overrides).unwrap().0
}

#[test]
fn no_section_watches_nothing_and_an_empty_one_takes_every_default() {
    assert!(load("").watch.is_none());
    let w = load("watch: {}\n").watch.unwrap();
    assert_eq!(w.mode, Mode::Enforce);
    assert_eq!(w.defaults, Tuning::defaults());
    assert_eq!(w.escalation, Duration::from_secs(3600));
    assert!(w.webhook.is_none());
}

#[test]
fn settings_and_overrides_apply_over_the_defaults() {
    let w = load(
        "watch:\n  mode: observe\n  escalation: 30m\n  throttle: {rate: 2/s, for: 5m}\n  webhook: {url: 'http://127.0.0.1:9/hook', timeout: 2s, attempts: 3}\n  detectors:\n    probing: {window: 30s, threshold: 5, respond: [quarantine]}\n    novelty: {enabled: false}\n    volume: {min: 100, factor: 3, warmup_windows: 2}\n  overrides:\n    - identity: ci-bot\n      detectors:\n        probing: {threshold: 50}\n        novelty: {warmup: 1h, kinds: [operation]}\n    - kind: ci-job\n      detectors:\n        volume: {enabled: false}\n",
    )
    .watch
    .unwrap();
    assert_eq!(w.mode, Mode::Observe);
    assert_eq!(w.escalation, Duration::from_secs(1800));
    assert_eq!(
        (w.throttle.count.get(), w.throttle.lasts),
        (2, Duration::from_secs(300))
    );
    let hook = w.webhook.as_ref().unwrap();
    assert_eq!(
        (hook.url.as_str(), hook.attempts),
        ("http://127.0.0.1:9/hook", 3)
    );
    let probing = w.defaults.probing.as_ref().unwrap();
    assert_eq!(
        (probing.params.threshold, probing.params.window),
        (5, Duration::from_secs(30))
    );
    assert_eq!(probing.respond, [Step::Quarantine]);
    assert!(w.defaults.novelty.is_none());
    let volume = &w.defaults.volume.as_ref().unwrap().params;
    assert_eq!((volume.min, volume.factor, volume.warmup), (100, 3, 2));
    // The identity's override starts from the section's defaults...
    let bot = w.tuning("ci-bot", Some(IdentityKind::CiJob));
    let p = bot.probing.as_ref().unwrap();
    assert_eq!(
        (p.params.threshold, p.params.window),
        (50, Duration::from_secs(30))
    );
    // ...and turns novelty back on from the built-in one, with its changes.
    let n = &bot.novelty.as_ref().unwrap().params;
    assert_eq!(
        (n.warmup, n.operation, n.address),
        (Duration::from_secs(3600), true, false)
    );
    // The identity's own override wins over its kind's.
    assert!(bot.volume.is_some());
    assert!(
        w.tuning("other-ci", Some(IdentityKind::CiJob))
            .volume
            .is_none()
    );
    assert!(
        w.tuning("other", Some(IdentityKind::Agent))
            .volume
            .is_some()
    );
}

#[test]
fn every_watch_problem_names_its_line() {
    let d = diagnostics(
        "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\nwatch:\n  mode: loud\n  escalation: -1h\n  throttle: {rate: 0/s}\n  webhook: {url: 'ftp://x'}\n  detectors:\n    probing: {window: -1m, threshold: 0, respond: [quarantine, alert]}\n    enumeration: {distinct: -3, threshold: 4}\n    novelty: {kinds: [weekday], respond: [panic]}\n  overrides:\n    - {identity: Bad Id}\n    - {kind: robot, mode: loose}\n    - {identity: a, kind: agent}\n",
    );
    let expect = [
        ("c.yaml:4:", "`watch.mode`: `loud` is not"),
        ("c.yaml:5:", "`watch.escalation`: `-1h` is not a duration"),
        ("c.yaml:6:", "a rate must allow at least 1"),
        ("c.yaml:7:", "is not an http:// or https:// URL"),
        ("c.yaml:9:", "`probing.window`: `-1m` is not a duration"),
        (
            "c.yaml:9:",
            "`probing.threshold` must be a whole number of at least 1, not 0",
        ),
        ("c.yaml:9:", "must never step down"),
        (
            "c.yaml:10:",
            "`enumeration.distinct` must be a whole number of at least 1, not -3",
        ),
        (
            "c.yaml:10:",
            "`watch.detectors.enumeration.threshold` is not a setting of enumeration",
        ),
        ("c.yaml:11:", "`novelty.kinds`: `weekday` is not"),
        (
            "c.yaml:11:",
            "`panic` is not `alert`, `throttle` or `quarantine`",
        ),
        ("c.yaml:13:", "`Bad Id` is not an identity id"),
        ("c.yaml:14:", "`robot` is not one of"),
        ("c.yaml:14:", "`watch.overrides[].mode`: `loose` is not"),
        ("c.yaml:15:", "exactly one of `identity` or `kind`"),
    ];
    for (at, what) in expect {
        assert!(
            d.iter().any(|l| l.contains(at) && l.contains(what)),
            "no {at} {what}: {d:#?}"
        );
    }
}

#[test]
fn an_unknown_detector_is_a_load_error_at_its_line() {
    let d = diagnostics(
        "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\nwatch:\n  detectors:\n    probing: {threshold: 3}\n    scanning: {threshold: 3}\n",
    );
    assert!(
        d.iter()
            .any(|l| l.contains("c.yaml:6") && l.contains("scanning")),
        "{d:#?}"
    );
}
