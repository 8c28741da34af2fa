//! The `watch.detectors` block (of the section, or of one override): each
//! detector's settings over its base's, only the settings that detector
//! reads, `enabled: false` to turn it off, and a `respond` ladder that never
//! steps down.

use std::time::Duration;

use portcullis_watch::{Detector, Enumeration, Novelty, Probing, Spike, Step, Tuned, Tuning};
use serde_saphyr::Spanned;

use super::{Report, WINDOW_MIN, count, duration};
use crate::raw::{RawDetector, RawDetectors};

/// `base` with what `raw` says on top: a detector named with `enabled:
/// false` is off; one named with settings takes them over the base's (or
/// the built-in defaults', when the base had it off).
pub(super) fn tuning(
    base: &Tuning,
    raw: &RawDetectors,
    at: &str,
    report: &mut Report<'_>,
) -> Tuning {
    let builtin = Tuning::defaults();
    let mut out = base.clone();
    if let Some(r) = &raw.probing {
        out.probing = detector(
            Detector::Probing,
            pick(&base.probing, &builtin.probing),
            r,
            at,
            report,
            |p: &mut Probing, r, rep| {
                duration(&r.window, "probing.window", WINDOW_MIN, &mut p.window, rep);
                count(&r.threshold, "probing.threshold", 1, &mut p.threshold, rep);
            },
        );
    }
    if let Some(r) = &raw.enumeration {
        out.enumeration = detector(
            Detector::Enumeration,
            pick(&base.enumeration, &builtin.enumeration),
            r,
            at,
            report,
            |p: &mut Enumeration, r, rep| {
                duration(
                    &r.window,
                    "enumeration.window",
                    WINDOW_MIN,
                    &mut p.window,
                    rep,
                );
                count(&r.distinct, "enumeration.distinct", 1, &mut p.distinct, rep);
                count(&r.sequence, "enumeration.sequence", 1, &mut p.sequence, rep);
            },
        );
    }
    for (name, which, slot, default) in [
        (
            "deny_spike",
            Detector::DenySpike,
            &raw.deny_spike,
            &base.deny_spike,
        ),
        ("volume", Detector::Volume, &raw.volume, &base.volume),
    ] {
        let Some(r) = slot else { continue };
        let fallback = if which == Detector::Volume {
            &builtin.volume
        } else {
            &builtin.deny_spike
        };
        let built = detector(
            which,
            pick(default, fallback),
            r,
            at,
            report,
            |p: &mut Spike, r, rep| {
                duration(
                    &r.window,
                    &format!("{name}.window"),
                    WINDOW_MIN,
                    &mut p.window,
                    rep,
                );
                count(&r.min, &format!("{name}.min"), 1, &mut p.min, rep);
                count(&r.factor, &format!("{name}.factor"), 1, &mut p.factor, rep);
                count(
                    &r.warmup_windows,
                    &format!("{name}.warmup_windows"),
                    0,
                    &mut p.warmup,
                    rep,
                );
            },
        );
        if which == Detector::Volume {
            out.volume = built;
        } else {
            out.deny_spike = built;
        }
    }
    if let Some(r) = &raw.novelty {
        out.novelty = detector(
            Detector::Novelty,
            pick(&base.novelty, &builtin.novelty),
            r,
            at,
            report,
            |p: &mut Novelty, r, rep| {
                duration(
                    &r.warmup,
                    "novelty.warmup",
                    Duration::ZERO,
                    &mut p.warmup,
                    rep,
                );
                duration(
                    &r.cooldown,
                    "novelty.cooldown",
                    WINDOW_MIN,
                    &mut p.cooldown,
                    rep,
                );
                count(
                    &r.warmup_records,
                    "novelty.warmup_records",
                    0,
                    &mut p.warmup_records,
                    rep,
                );
                if let Some(kinds) = &r.kinds {
                    p.operation = false;
                    p.address = false;
                    p.hour = false;
                    for k in &kinds.value {
                        match k.value.as_str() {
                            "operation" => p.operation = true,
                            "address" => p.address = true,
                            "hour" => p.hour = true,
                            other => rep(
                                k.referenced.line(),
                                format!(
                                    "`novelty.kinds`: `{other}` is not `operation`, `address` or `hour`"
                                ),
                            ),
                        }
                    }
                }
            },
        );
    }
    out
}

/// The base's detector, or the built-in one when the base has it off.
fn pick<T: Clone>(base: &Option<Tuned<T>>, builtin: &Option<Tuned<T>>) -> Option<Tuned<T>> {
    base.clone().or_else(|| builtin.clone())
}

/// Which settings each detector reads; any other is a mistake worth a line.
fn allowed(detector: Detector) -> &'static [&'static str] {
    match detector {
        Detector::Probing => &["window", "threshold"],
        Detector::Enumeration => &["window", "distinct", "sequence"],
        Detector::DenySpike | Detector::Volume => &["window", "min", "factor", "warmup_windows"],
        Detector::Novelty => &["warmup", "warmup_records", "cooldown", "kinds"],
    }
}

fn detector<T>(
    which: Detector,
    base: Option<Tuned<T>>,
    raw: &Spanned<RawDetector>,
    at: &str,
    report: &mut Report<'_>,
    apply: impl FnOnce(&mut T, &RawDetector, &mut Report<'_>),
) -> Option<Tuned<T>> {
    let r = &raw.value;
    let name = which.as_str();
    let given: [(&str, Option<u64>); 11] = [
        ("window", r.window.as_ref().map(|v| v.referenced.line())),
        (
            "threshold",
            r.threshold.as_ref().map(|v| v.referenced.line()),
        ),
        ("distinct", r.distinct.as_ref().map(|v| v.referenced.line())),
        ("sequence", r.sequence.as_ref().map(|v| v.referenced.line())),
        ("min", r.min.as_ref().map(|v| v.referenced.line())),
        ("factor", r.factor.as_ref().map(|v| v.referenced.line())),
        (
            "warmup_windows",
            r.warmup_windows.as_ref().map(|v| v.referenced.line()),
        ),
        ("warmup", r.warmup.as_ref().map(|v| v.referenced.line())),
        (
            "warmup_records",
            r.warmup_records.as_ref().map(|v| v.referenced.line()),
        ),
        ("cooldown", r.cooldown.as_ref().map(|v| v.referenced.line())),
        ("kinds", r.kinds.as_ref().map(|v| v.referenced.line())),
    ];
    for (setting, at_line) in given {
        if let Some(l) = at_line
            && !allowed(which).contains(&setting)
        {
            report(
                l,
                format!(
                    "`{at}.{name}.{setting}` is not a setting of {name} (it has: {})",
                    allowed(which).join(", ")
                ),
            );
        }
    }
    if r.enabled.as_ref().is_some_and(|e| !e.value) {
        return None;
    }
    let mut tuned = base?;
    apply(&mut tuned.params, r, report);
    if let Some(respond) = &r.respond {
        let mut steps = Vec::new();
        for s in &respond.value {
            match Step::parse(&s.value) {
                Some(step) => steps.push(step),
                None => report(
                    s.referenced.line(),
                    format!(
                        "`{at}.{name}.respond`: `{}` is not `alert`, `throttle` or `quarantine`",
                        s.value
                    ),
                ),
            }
        }
        if respond.value.is_empty() {
            report(
                respond.referenced.line(),
                format!("`{at}.{name}.respond` must list at least one step"),
            );
        } else if steps.windows(2).any(|w| matches!(w, [a, b] if b < a)) {
            report(
                respond.referenced.line(),
                format!("`{at}.{name}.respond` must never step down (alert, throttle, quarantine)"),
            );
        }
        if !steps.is_empty() {
            tuned.respond = steps;
        }
    }
    Some(tuned)
}
