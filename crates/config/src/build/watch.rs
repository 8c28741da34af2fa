//! The `watch:` section: the anomaly detectors, their graded response, the
//! overrides per identity and per kind, the throttle and the webhook. Every
//! value is checked here with its line: an unknown detector or setting, a
//! window that is not a positive duration, a threshold of zero.

use std::time::Duration;

use portcullis_core::{IdentityKind, valid_identity_id};
use portcullis_watch::{
    Detector, Enumeration, Mode, Novelty, Probing, Spike, Step, Throttle, Tuned, Tuning,
    WatchSettings, Webhook,
};
use serde_saphyr::Spanned;

use super::rate_limits::parse_rate;
use crate::diagnostic::Diagnostic;
use crate::duration::parse_duration;
use crate::raw::{RawDetector, RawDetectors, RawWatch};

/// Reports one problem at a line.
type Report<'a> = dyn FnMut(u64, String) + 'a;

pub(super) fn watch(
    file: &str,
    raw: Option<&Spanned<RawWatch>>,
    out: &mut Vec<Diagnostic>,
) -> Option<WatchSettings> {
    let raw = &raw?.value;
    let mut report = |line: u64, message: String| {
        out.push(Diagnostic::error_at_line(file, line, message));
    };
    let mut settings = WatchSettings::new();
    if let Some(mode) = mode(raw.mode.as_ref(), "watch.mode", &mut report) {
        settings.mode = mode;
    }
    duration(
        &raw.escalation,
        "watch.escalation",
        &mut settings.escalation,
        &mut report,
    );
    duration(
        &raw.history,
        "watch.history",
        &mut settings.history,
        &mut report,
    );
    if let Some(n) = &raw.max_identities {
        match usize::try_from(n.value) {
            Ok(n @ 16..=10_000_000) => settings.max_identities = n,
            _ => report(
                n.referenced.line(),
                "`watch.max_identities` must be 16 to 10000000".into(),
            ),
        }
    }
    if let Some(t) = &raw.throttle {
        let t = &t.value;
        match parse_rate(&t.rate.value, None) {
            Ok(rate) => {
                settings.throttle = Throttle {
                    count: rate.count,
                    per: rate.per,
                    lasts: settings.throttle.lasts,
                };
            }
            Err(why) => report(
                t.rate.referenced.line(),
                format!("`watch.throttle.rate`: {why}"),
            ),
        }
        duration(
            &t.lasts,
            "watch.throttle.for",
            &mut settings.throttle.lasts,
            &mut report,
        );
    }
    if let Some(w) = &raw.webhook {
        settings.webhook = webhook(&w.value, &mut report);
    }
    let builtin = Tuning::defaults();
    if let Some(d) = &raw.detectors {
        settings.defaults = tuning(&builtin, &d.value, "watch.detectors", &mut report);
    }
    for entry in raw.overrides.iter().flat_map(|o| &o.value) {
        let line = entry.referenced.line();
        let o = &entry.value;
        let empty = RawDetectors::default();
        let detectors = o.detectors.as_ref().map_or(&empty, |d| &d.value);
        let mut tuned = tuning(
            &settings.defaults,
            detectors,
            "watch.overrides[].detectors",
            &mut report,
        );
        tuned.mode = mode(o.mode.as_ref(), "watch.overrides[].mode", &mut report);
        match (&o.identity, &o.kind) {
            (Some(id), None) => {
                if !valid_identity_id(&id.value) {
                    report(
                        id.referenced.line(),
                        format!("`watch.overrides`: `{}` is not an identity id", id.value),
                    );
                } else if settings.by_identity.iter().any(|(i, _)| *i == id.value) {
                    report(
                        id.referenced.line(),
                        format!(
                            "`watch.overrides`: identity `{}` is overridden twice",
                            id.value
                        ),
                    );
                } else {
                    settings.by_identity.push((id.value.clone(), tuned));
                }
            }
            (None, Some(kind)) => match kind.value.parse::<IdentityKind>() {
                Ok(k) if settings.by_kind.iter().any(|(x, _)| *x == k) => report(
                    kind.referenced.line(),
                    format!(
                        "`watch.overrides`: kind `{}` is overridden twice",
                        kind.value
                    ),
                ),
                Ok(k) => settings.by_kind.push((k, tuned)),
                Err(e) => report(
                    kind.referenced.line(),
                    format!("`watch.overrides[].kind`: {e}"),
                ),
            },
            _ => report(
                line,
                "`watch.overrides`: each entry names exactly one of `identity` or `kind`".into(),
            ),
        }
    }
    Some(settings)
}

fn mode(raw: Option<&Spanned<String>>, name: &str, report: &mut Report<'_>) -> Option<Mode> {
    let raw = raw?;
    match raw.value.as_str() {
        "enforce" => Some(Mode::Enforce),
        "observe" => Some(Mode::Observe),
        other => {
            report(
                raw.referenced.line(),
                format!("`{name}`: `{other}` is not `enforce` or `observe`"),
            );
            None
        }
    }
}

fn webhook(raw: &crate::raw::RawWebhook, report: &mut Report<'_>) -> Option<Webhook> {
    let url = raw.url.value.trim();
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok
        || url
            .parse::<http::Uri>()
            .map_or(true, |u| u.host().is_none())
    {
        report(
            raw.url.referenced.line(),
            format!("`watch.webhook.url`: `{url}` is not an http:// or https:// URL"),
        );
        return None;
    }
    let mut hook = Webhook {
        url: url.to_owned(),
        timeout: Duration::from_secs(5),
        attempts: 5,
    };
    duration(
        &raw.timeout,
        "watch.webhook.timeout",
        &mut hook.timeout,
        report,
    );
    if let Some(n) = &raw.attempts {
        match u32::try_from(n.value) {
            Ok(n @ 1..=20) => hook.attempts = n,
            _ => report(
                n.referenced.line(),
                "`watch.webhook.attempts` must be 1 to 20".into(),
            ),
        }
    }
    Some(hook)
}

/// `base` with what `raw` says on top: a detector named with `enabled:
/// false` is off; one named with settings takes them over the base's (or
/// the built-in defaults', when the base had it off).
fn tuning(base: &Tuning, raw: &RawDetectors, at: &str, report: &mut Report<'_>) -> Tuning {
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
                window(&r.window, "probing.window", &mut p.window, rep);
                count(&r.threshold, "probing.threshold", &mut p.threshold, rep);
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
                window(&r.window, "enumeration.window", &mut p.window, rep);
                count(&r.distinct, "enumeration.distinct", &mut p.distinct, rep);
                count(&r.sequence, "enumeration.sequence", &mut p.sequence, rep);
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
                window(&r.window, &format!("{name}.window"), &mut p.window, rep);
                count(&r.min, &format!("{name}.min"), &mut p.min, rep);
                count(&r.factor, &format!("{name}.factor"), &mut p.factor, rep);
                if let Some(w) = &r.warmup_windows {
                    match u32::try_from(w.value) {
                        Ok(n) => p.warmup = n,
                        Err(_) => rep(
                            w.referenced.line(),
                            format!("`{name}.warmup_windows` must be 0 or more"),
                        ),
                    }
                }
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
                duration(&r.warmup, "novelty.warmup", &mut p.warmup, rep);
                window(&r.cooldown, "novelty.cooldown", &mut p.cooldown, rep);
                if let Some(n) = &r.warmup_records {
                    match u32::try_from(n.value) {
                        Ok(n) => p.warmup_records = n,
                        Err(_) => rep(
                            n.referenced.line(),
                            "`novelty.warmup_records` must be 0 or more".into(),
                        ),
                    }
                }
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

fn duration(
    raw: &Option<Spanned<String>>,
    name: &str,
    into: &mut Duration,
    report: &mut Report<'_>,
) {
    if let Some(v) = raw {
        match parse_duration(&v.value) {
            Some(d) => *into = d,
            None => report(
                v.referenced.line(),
                format!(
                    "`{name}`: `{}` is not a duration like `30s`, `5m` or `7d`",
                    v.value
                ),
            ),
        }
    }
}

/// A duration that must be positive (a window of nothing counts nothing).
fn window(raw: &Option<Spanned<String>>, name: &str, into: &mut Duration, report: &mut Report<'_>) {
    if let Some(v) = raw {
        match parse_duration(&v.value) {
            Some(d) if d >= Duration::from_millis(100) => *into = d,
            _ => report(
                v.referenced.line(),
                format!(
                    "`{name}`: `{}` is not a duration of at least 100ms like `30s` or `5m`",
                    v.value
                ),
            ),
        }
    }
}

/// A count that must be at least 1 (a threshold of zero would fire always).
fn count(raw: &Option<Spanned<i64>>, name: &str, into: &mut u32, report: &mut Report<'_>) {
    if let Some(v) = raw {
        match u32::try_from(v.value) {
            Ok(n) if n >= 1 => *into = n,
            _ => report(
                v.referenced.line(),
                format!(
                    "`{name}` must be a whole number of at least 1, not {}",
                    v.value
                ),
            ),
        }
    }
}
