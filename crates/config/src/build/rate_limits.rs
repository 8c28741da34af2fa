//! The `rate_limits:` section: how often each identity may call, overall
//! and per operation. Rates are written `COUNT/UNIT` with unit `s`, `m` or
//! `h`; the burst defaults to the count, so `50/s` allows 50 at once and 50
//! a second on average.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::api::{Apis, Contracted};
use crate::diagnostic::Diagnostic;
use crate::raw::{RawOperationRate, RawRateLimits};
use crate::secret_ref::{SecretAt, Secrets, read_secret};
use crate::snapshot::{OnUnavailable, Rate, RateLimits, RedisUrl, SharedRates};
use crate::source::Files;

pub(super) fn rate_limits(
    files: &dyn Files,
    secrets: Secrets,
    file: &str,
    raw: Option<&Spanned<RawRateLimits>>,
    apis: &Apis,
    out: &mut Vec<Diagnostic>,
) -> RateLimits {
    let mut limits = RateLimits::default();
    let Some(raw) = raw else { return limits };
    let section_line = raw.referenced.line();
    let raw = &raw.value;
    let burst = raw.burst.as_ref().and_then(|b| {
        let nonzero = NonZeroU32::new(b.value);
        if nonzero.is_none() {
            out.push(Diagnostic::error_at_line(
                file,
                b.referenced.line(),
                "`rate_limits.burst` must be at least 1",
            ));
        }
        nonzero
    });
    match &raw.per_identity {
        Some(rate) => {
            let line = rate.referenced.line();
            limits.per_identity = parse_rate(&rate.value, burst)
                .map_err(|why| {
                    out.push(Diagnostic::error_at_line(
                        file,
                        line,
                        format!("`rate_limits.per_identity`: {why}"),
                    ));
                })
                .ok();
        }
        None if burst.is_some() => out.push(Diagnostic::error_at_line(
            file,
            section_line,
            "`rate_limits.burst` needs `per_identity`, the rate it is the burst of",
        )),
        None => {}
    }
    if let Some(operations) = &raw.operations {
        let line = operations.referenced.line();
        for (key, value) in &operations.value {
            let at = |why: String| Diagnostic::error_at_line(file, line, why);
            let Some((api, operation)) = find_operation(&apis.contracts, key) else {
                // An API without a contract was reported above, once.
                let api = key.split_once(':').map_or(key.as_str(), |(api, _)| api);
                if apis.broken.iter().any(|b| b == api) {
                    continue;
                }
                out.push(at(format!(
                    "`rate_limits.operations`: `{key}` names no operation; write `api:operationId` as `portcullis schema` lists them"
                )));
                continue;
            };
            let (text, burst) = match value {
                RawOperationRate::Rate(text) => (text, None),
                RawOperationRate::WithBurst { rate, burst } => (rate, *burst),
            };
            let burst = match burst.map(NonZeroU32::new) {
                Some(None) => {
                    out.push(at(format!(
                        "`rate_limits.operations.{key}.burst` must be at least 1"
                    )));
                    continue;
                }
                Some(b) => b,
                None => None,
            };
            match parse_rate(text, burst) {
                Ok(rate) => {
                    limits
                        .per_operation
                        .entry(api.to_owned())
                        .or_insert_with(BTreeMap::new)
                        .insert(operation.to_owned(), rate);
                }
                Err(why) => out.push(at(format!("`rate_limits.operations.{key}`: {why}"))),
            }
        }
    }
    limits.shared = shared(files, secrets, file, raw, out);
    limits
}

/// `backend` and `on_unavailable`: the buckets in Redis, and what to do
/// while it does not answer. The URL may hold a password, so it may be
/// named (`env:NAME`, `file:PATH`) rather than written.
fn shared(
    files: &dyn Files,
    secrets: Secrets,
    file: &str,
    raw: &RawRateLimits,
    out: &mut Vec<Diagnostic>,
) -> Option<SharedRates> {
    let on_unavailable = match &raw.on_unavailable {
        None => OnUnavailable::Local,
        Some(v) => match v.value.as_str() {
            "local" => OnUnavailable::Local,
            "deny" => OnUnavailable::Deny,
            other => {
                out.push(Diagnostic::error_at_line(
                    file,
                    v.referenced.line(),
                    format!(
                        "`rate_limits.on_unavailable`: `{other}` is neither `local` nor `deny`"
                    ),
                ));
                OnUnavailable::Local
            }
        },
    };
    let Some(backend) = &raw.backend else {
        if let Some(v) = &raw.on_unavailable {
            out.push(Diagnostic::error_at_line(
                file,
                v.referenced.line(),
                "`rate_limits.on_unavailable` needs `backend`, the Redis it is about",
            ));
        }
        return None;
    };
    let resolved;
    let text = if super::service::is_reference(&backend.value) {
        let at = SecretAt {
            files,
            secrets,
            file,
            line: backend.referenced.line(),
            what: "the rate-limit backend URL",
        };
        resolved = read_secret(&at, &backend.value, out)?;
        resolved.as_str()
    } else {
        backend.value.as_str()
    };
    match RedisUrl::parse(text) {
        Ok(url) => Some(SharedRates {
            url,
            on_unavailable,
        }),
        Err(why) => {
            out.push(Diagnostic::error_at_line(
                file,
                backend.referenced.line(),
                format!("`rate_limits.backend`: {why}"),
            ));
            None
        }
    }
}

/// `api:operationId` as the configuration's APIs declare it.
fn find_operation<'a>(apis: &'a [Contracted], key: &str) -> Option<(&'a str, &'a str)> {
    let (api_name, operation) = key.split_once(':')?;
    let api = apis.iter().find(|a| a.name == api_name)?;
    let op = api
        .contract
        .operations()
        .iter()
        .find(|o| o.id == operation)?;
    Some((api.name.as_str(), op.id.as_str()))
}

/// `COUNT/UNIT`: `50/s`, `600/m`, `10000/h`.
pub(super) fn parse_rate(text: &str, burst: Option<NonZeroU32>) -> Result<Rate, String> {
    let wrong = || format!("`{text}` is not a rate like `50/s`, `600/m` or `10000/h`");
    let (count, unit) = text.trim().split_once('/').ok_or_else(wrong)?;
    let count: u32 = count.trim().parse().map_err(|_| wrong())?;
    let count = NonZeroU32::new(count).ok_or_else(|| "a rate must allow at least 1".to_owned())?;
    let per = match unit.trim() {
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3_600),
        _ => return Err(wrong()),
    };
    Ok(Rate {
        count,
        per,
        burst: burst.unwrap_or(count),
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a missing value should fail the test"
    )]
    use super::*;

    #[test]
    fn rates() {
        let r = parse_rate("50/s", None).unwrap();
        assert_eq!(
            (r.count.get(), r.per, r.burst.get()),
            (50, Duration::from_secs(1), 50)
        );
        let r = parse_rate(" 600 / m ", NonZeroU32::new(5)).unwrap();
        assert_eq!(
            (r.count.get(), r.per, r.burst.get()),
            (600, Duration::from_secs(60), 5)
        );
        assert_eq!(
            parse_rate("1/h", None).unwrap().per,
            Duration::from_secs(3600)
        );
        for bad in [
            "",
            "50",
            "/s",
            "50/d",
            "x/s",
            "-1/s",
            "50/s/s",
            "99999999999/s",
        ] {
            assert!(parse_rate(bad, None).is_err(), "{bad}");
        }
        assert_eq!(
            parse_rate("0/s", None).unwrap_err(),
            "a rate must allow at least 1"
        );
    }
}
