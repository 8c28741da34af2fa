//! The `watch:` section: the anomaly detectors, their graded response, the
//! overrides per identity and per kind, the throttle and the webhook. Every
//! value is checked here with its line: an unknown detector or setting, a
//! window that is not a positive duration, a threshold of zero.

use std::time::Duration;

use portcullis_core::{IdentityKind, valid_identity_id};
use portcullis_watch::{Mode, Throttle, Tuning, WatchSettings, Webhook};
use serde_saphyr::Spanned;

use super::rate_limits::parse_rate;
use crate::diagnostic::Diagnostic;
use crate::duration::parse_duration;
use crate::raw::{RawDetectors, RawWatch};

mod detectors;
use detectors::tuning;

/// The shortest window a detector may count over.
pub(super) const WINDOW_MIN: Duration = Duration::from_millis(100);

/// Reports one problem at a line.
pub(super) type Report<'a> = dyn FnMut(u64, String) + 'a;

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
        Duration::ZERO,
        &mut settings.escalation,
        &mut report,
    );
    duration(
        &raw.history,
        "watch.history",
        Duration::ZERO,
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
            Duration::ZERO,
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
        Duration::ZERO,
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

/// A duration of at least `min` (a window of nothing would count nothing).
pub(super) fn duration(
    raw: &Option<Spanned<String>>,
    name: &str,
    min: Duration,
    into: &mut Duration,
    report: &mut Report<'_>,
) {
    let Some(v) = raw else { return };
    match parse_duration(&v.value) {
        Some(d) if d >= min => *into = d,
        _ if min.is_zero() => report(
            v.referenced.line(),
            format!(
                "`{name}`: `{}` is not a duration like `30s`, `5m` or `7d`",
                v.value
            ),
        ),
        _ => report(
            v.referenced.line(),
            format!(
                "`{name}`: `{}` is not a duration of at least {}ms like `30s` or `5m`",
                v.value,
                min.as_millis()
            ),
        ),
    }
}

/// A whole number of at least `min` (a threshold of zero would fire on
/// everything).
pub(super) fn count(
    raw: &Option<Spanned<i64>>,
    name: &str,
    min: u32,
    into: &mut u32,
    report: &mut Report<'_>,
) {
    let Some(v) = raw else { return };
    match u32::try_from(v.value) {
        Ok(n) if n >= min => *into = n,
        _ => report(
            v.referenced.line(),
            format!(
                "`{name}` must be a whole number of at least {min}, not {}",
                v.value
            ),
        ),
    }
}
