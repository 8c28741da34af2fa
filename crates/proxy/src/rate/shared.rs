//! The buckets in Redis (`rate_limits.backend`), one limit for a whole
//! fleet: each check is one Lua script, run atomically by Redis in one round
//! trip, doing GCRA on one or two keys with Redis's own clock (so the nodes'
//! clocks never matter).
//!
//! The connection is opened on first use and dropped on any failure; after
//! a failure Redis is not asked again for [`RETRY`] (the requests meanwhile
//! go to `on_unavailable` at once rather than each waiting out a timeout),
//! and one request at a time reconnects. Every call is bounded by
//! [`RESPONSE`], so a Redis that hangs costs a request at most that.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use portcullis_config::{Rate, RedisUrl};
use redis::aio::MultiplexedConnection;

use super::Exceeded;
use crate::metrics::RateBackendMetrics;

/// How long a check may wait for Redis's answer (loopback or a LAN answers
/// in well under a millisecond).
const RESPONSE: Duration = Duration::from_millis(250);
/// How long opening a connection may take.
const CONNECT: Duration = Duration::from_millis(500);
/// How long after a failure before Redis is asked again.
const RETRY: Duration = Duration::from_millis(500);

/// GCRA over `KEYS` in order (the operation's bucket, then the identity's),
/// each with `ARGV` = emission interval and tolerance in microseconds. A
/// bucket passed is counted even when a later one refuses, as in memory.
/// Answers `{0, 0}` when allowed, or `{i, wait}`: the 1-based bucket that
/// refused and microseconds until a request would conform. Keys expire when
/// their bucket is full again, so idle identities cost Redis nothing.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  if tat - tolerance > now then
    return {i, tat - tolerance - now}
  end
  local next = tat + interval
  redis.call('SET', key, string.format('%d', next), 'PX', math.floor((next - now) / 1000) + 1)
end
return {0, 0}
";

/// Redis's answer to one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    Exceeded(Exceeded, Duration),
    /// No answer: the connection failed, timed out, or is resting after a
    /// failure.
    Unreachable,
}

pub(crate) struct Shared {
    client: Option<redis::Client>,
    script: redis::Script,
    connection: ArcSwapOption<MultiplexedConnection>,
    connecting: AtomicBool,
    /// Milliseconds since `epoch` before which Redis is not asked.
    resting_until: AtomicU64,
    epoch: Instant,
    metrics: RateBackendMetrics,
}

impl Shared {
    /// Parses the URL (no I/O: the connection opens on first use). A URL the
    /// driver refuses leaves a backend that is always unreachable, so the
    /// node follows `on_unavailable` and says so, rather than not starting.
    pub(crate) fn new(url: &RedisUrl, metrics: RateBackendMetrics) -> Self {
        let client = redis::Client::open(url.expose())
            .inspect_err(|_| {
                tracing::error!("rate_limits.backend: the Redis URL is not one the driver accepts");
            })
            .ok();
        Self {
            client,
            script: redis::Script::new(GCRA),
            connection: ArcSwapOption::empty(),
            connecting: AtomicBool::new(false),
            resting_until: AtomicU64::new(0),
            epoch: Instant::now(),
            metrics,
        }
    }

    /// The backend's metrics (the limiter counts its fallbacks there too).
    pub(crate) fn metrics(&self) -> &RateBackendMetrics {
        &self.metrics
    }

    /// Counts one request on the operation's bucket (if limited) and the
    /// identity's (if limited), in that order.
    pub(crate) async fn check(
        &self,
        identity: &str,
        on_operation: Option<(&str, &str, &Rate)>,
        overall: Option<&Rate>,
    ) -> Verdict {
        let Some(mut connection) = self.connection().await else {
            return Verdict::Unreachable;
        };
        let mut call = self.script.prepare_invoke();
        let mut kinds = Vec::with_capacity(2);
        if let Some((api, operation, rate)) = on_operation {
            call.key(format!(
                "portcullis:rate:{{{identity}}}:op:{}:{api}:{operation}:{}",
                api.len(),
                signature(rate)
            ));
            let (interval, tolerance) = gcra(rate);
            call.arg(interval).arg(tolerance);
            kinds.push(Exceeded::Operation);
        }
        if let Some(rate) = overall {
            call.key(format!(
                "portcullis:rate:{{{identity}}}:all:{}",
                signature(rate)
            ));
            let (interval, tolerance) = gcra(rate);
            call.arg(interval).arg(tolerance);
            kinds.push(Exceeded::Identity);
        }
        let answer =
            tokio::time::timeout(RESPONSE, call.invoke_async::<(u64, u64)>(&mut connection)).await;
        match answer {
            Ok(Ok((0, _))) => Verdict::Allowed,
            Ok(Ok((i, wait_us))) => {
                let which = usize::try_from(i - 1)
                    .ok()
                    .and_then(|i| kinds.get(i).copied())
                    .unwrap_or(Exceeded::Identity);
                Verdict::Exceeded(which, Duration::from_micros(wait_us))
            }
            Ok(Err(e)) => {
                tracing::warn!(kind = ?e.kind(), "the rate-limit backend failed a check");
                self.failed();
                Verdict::Unreachable
            }
            Err(_) => {
                tracing::warn!("the rate-limit backend did not answer in time");
                self.failed();
                Verdict::Unreachable
            }
        }
    }

    /// Whether Redis answers a `PING` now (a resting backend is asked too:
    /// readiness should see a recovery at once).
    pub(crate) async fn ping(&self) -> bool {
        self.resting_until.store(0, Ordering::Release);
        let Some(mut connection) = self.connection().await else {
            return false;
        };
        let pong = tokio::time::timeout(
            RESPONSE,
            redis::cmd("PING").query_async::<String>(&mut connection),
        )
        .await;
        let up = matches!(pong, Ok(Ok(_)));
        if !up {
            self.failed();
        }
        up
    }

    /// The open connection, or a new one if none is open, Redis is not
    /// resting after a failure, and no other request is opening one.
    async fn connection(&self) -> Option<MultiplexedConnection> {
        if let Some(open) = self.connection.load_full() {
            return Some(MultiplexedConnection::clone(&open));
        }
        let client = self.client.as_ref()?;
        if self.now_ms() < self.resting_until.load(Ordering::Acquire)
            || self.connecting.swap(true, Ordering::AcqRel)
        {
            return None;
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT))
            .set_response_timeout(Some(RESPONSE));
        let opened = tokio::time::timeout(
            CONNECT,
            client.get_multiplexed_async_connection_with_config(&config),
        )
        .await;
        self.connecting.store(false, Ordering::Release);
        match opened {
            Ok(Ok(connection)) => {
                tracing::info!("the rate-limit backend (Redis) is connected");
                self.metrics.up(true);
                self.connection.store(Some(Arc::new(connection.clone())));
                Some(connection)
            }
            Ok(Err(e)) => {
                tracing::warn!(kind = ?e.kind(), "the rate-limit backend (Redis) could not be reached");
                self.failed();
                None
            }
            Err(_) => {
                tracing::warn!(
                    "the rate-limit backend (Redis) did not accept a connection in time"
                );
                self.failed();
                None
            }
        }
    }

    fn failed(&self) {
        self.connection.store(None);
        let until = self.now_ms().saturating_add(duration_ms(RETRY));
        self.resting_until.store(until, Ordering::Release);
        self.metrics.up(false);
        self.metrics.failure();
    }

    fn now_ms(&self) -> u64 {
        duration_ms(self.epoch.elapsed())
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Emission interval and tolerance of `rate`, in microseconds: `burst`
/// requests at once, then one per interval.
fn gcra(rate: &Rate) -> (u64, u64) {
    let interval = u64::try_from((rate.per / rate.count.get()).as_micros()).unwrap_or(u64::MAX);
    let tolerance = interval.saturating_mul(u64::from(rate.burst.get() - 1));
    (interval.max(1), tolerance)
}

/// The rate in a bucket's key: a changed rate starts fresh buckets, as a
/// reload does in memory, rather than judging by another rate's state.
fn signature(rate: &Rate) -> String {
    let (interval, tolerance) = gcra(rate);
    format!("{interval}:{tolerance}")
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a missing value should fail the test"
    )]
    use std::num::NonZeroU32;

    use super::*;

    #[test]
    fn the_gcra_parameters_keep_the_average_and_the_burst() {
        let rate = Rate {
            count: NonZeroU32::new(600).unwrap(),
            per: Duration::from_secs(60),
            burst: NonZeroU32::new(5).unwrap(),
        };
        assert_eq!(gcra(&rate), (100_000, 400_000));
        assert_eq!(signature(&rate), "100000:400000");
    }
}
