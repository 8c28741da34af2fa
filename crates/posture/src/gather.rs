//! Reading what the assessment needs: the store (identities, credentials,
//! per-identity upstream credentials), the ledger's window (what each
//! identity did, its alerts and releases) and the configuration (token
//! lifetimes, upstreams, what scopes and policies permit). The only part of
//! this crate that does I/O; it never writes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;

use portcullis_audit::event::{ALERT, STATE};
use portcullis_config::{Api, Config};
use portcullis_core::UnixTime;
use portcullis_policy::PolicyStore;
use portcullis_store::ledger::{Ledger, LedgerError};
use portcullis_store::{Store, StoreError};

use crate::facts::{ApiFacts, CredentialFacts, Facts, IdentityFacts, Usage};

/// The most ledger records read for one report.
const MAX_RECORDS: u64 = 1_000_000;
const PAGE: u32 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error("the identity store: {0}")]
    Store(#[from] StoreError),
}

/// What of the configuration the assessment reads: from a loaded
/// [`Config`] (the CLI) or from a running gateway's snapshot (the admin API).
#[derive(Debug, Clone)]
pub struct Gateway<'a> {
    pub apis: Vec<&'a Api>,
    pub policies: &'a PolicyStore,
    pub token_max_ttl: std::time::Duration,
}

impl<'a> Gateway<'a> {
    pub fn of(config: &'a Config) -> Self {
        Self {
            apis: config.apis.iter().collect(),
            policies: &config.policies.store,
            token_max_ttl: config.tokens.max_ttl,
        }
    }
}

/// The facts of one report at `now` (Unix seconds), usage read from
/// `ledger` over the last `window_days` (none when `ledger` is `None` or
/// cannot be read: the report says so).
///
/// # Errors
/// The store cannot be read.
pub fn gather(
    config: &Gateway<'_>,
    store: &dyn Store,
    ledger: Option<&Ledger>,
    now: UnixTime,
    window_days: u32,
    environment: Option<String>,
) -> Result<Facts, GatherError> {
    let since_ms = (now - i64::from(window_days) * 86_400).saturating_mul(1_000);
    let (mut usage, ledger_read) = match ledger.map(|l| read_usage(l, since_ms)) {
        Some(Ok(usage)) => (usage, true),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "posture: the ledger could not be read");
            (HashMap::new(), false)
        }
        None => (HashMap::new(), false),
    };
    let mut upstream: HashMap<String, BTreeSet<String>> = HashMap::new();
    for sealed in store.list_upstream_credentials()? {
        upstream
            .entry(sealed.identity)
            .or_default()
            .insert(sealed.api);
    }
    let scopes_known: BTreeSet<String> = config
        .apis
        .iter()
        .flat_map(|a| a.contract.operations())
        .flat_map(|o| o.scopes().map(str::to_owned))
        .collect();
    let mut identities = Vec::new();
    for identity in store.list_identities()? {
        let credentials = store
            .list_credentials(&identity.id)?
            .into_iter()
            .map(|c| CredentialFacts {
                id: c.id,
                kind: c.kind.as_str().to_owned(),
                created: c.created,
                expires: c.expires,
                revoked: c.revoked.is_some(),
            })
            .collect();
        let usage = usage.remove(&identity.id).unwrap_or_default();
        let mut permitted = BTreeSet::new();
        let mut scopes_used = BTreeSet::new();
        for api in &config.apis {
            for op in api.contract.operations() {
                let key = format!("{}:{}", api.name, op.id);
                if usage.operations.contains(&key) {
                    scopes_used.extend(op.scopes().map(str::to_owned));
                }
                let reachable = op.check_scopes(&identity.scopes).is_ok()
                    && config
                        .policies
                        .reach(&identity, &api.name, &op.id)
                        .is_ok_and(|r| r.is_reachable());
                if reachable {
                    permitted.insert(key);
                }
            }
        }
        identities.push(IdentityFacts {
            own_upstream: upstream.remove(&identity.id).unwrap_or_default(),
            identity,
            credentials,
            usage,
            permitted,
            scopes_used,
        });
    }
    let apis = config
        .apis
        .iter()
        .map(|a| {
            let host = a
                .upstream
                .authority
                .rsplit_once(':')
                .map_or(a.upstream.authority.as_str(), |(h, _)| h);
            let loopback = host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            ApiFacts {
                name: a.name.clone(),
                shared_credential: a.upstream_auth.is_some(),
                plain_http_remote: !loopback,
                upstream: format!("http://{}", a.upstream.authority),
            }
        })
        .collect();
    Ok(Facts {
        now,
        window_days,
        ledger_read,
        environment,
        token_max_ttl_secs: config.token_max_ttl.as_secs(),
        scopes_known,
        apis,
        identities,
    })
}

/// Each identity's usage in the ledger since `since_ms`, over every chain
/// (each node's, for a fleet's ledger).
fn read_usage(ledger: &Ledger, since_ms: i64) -> Result<HashMap<String, Usage>, LedgerError> {
    let mut usage: HashMap<String, Usage> = HashMap::new();
    for node in ledger.nodes()? {
        let chain = node.as_deref().and_then(|n| ledger.narrowed(n));
        read_chain(chain.as_ref().unwrap_or(ledger), since_ms, &mut usage)?;
    }
    Ok(usage)
}

/// One chain's records since `since_ms` (at most [`MAX_RECORDS`]) into `usage`.
fn read_chain(
    ledger: &Ledger,
    since_ms: i64,
    usage: &mut HashMap<String, Usage>,
) -> Result<(), LedgerError> {
    let Some(first) = ledger.first_since(since_ms)? else {
        return Ok(());
    };
    let (head, _) = ledger.head()?;
    let mut after = first
        .saturating_sub(1)
        .max(head.saturating_sub(MAX_RECORDS));
    loop {
        let page = ledger.records_after(after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for sealed in &page {
            let Ok(body) = sealed.decode() else { continue };
            let e = body.entry;
            let request = e.is_request();
            let Some(id) = e.identity else { continue };
            let u = usage.entry(id).or_default();
            match e.decision.as_ref() {
                ALERT => {
                    if let Some(a) = e.alert {
                        let open = u
                            .open_alerts
                            .entry(a.detector)
                            .or_insert((0, String::new()));
                        open.0 += 1;
                        open.1 = a.action;
                    }
                }
                STATE => {
                    if e.state_change.is_some_and(|c| c.to == "active") {
                        u.open_alerts = BTreeMap::new();
                    }
                }
                // Acknowledgements and credential changes are no traffic.
                _ if !request => {}
                decision => {
                    u.requests += 1;
                    u.secrets_redacted += u64::from(e.secrets_redacted);
                    if let Ok(addr) = e.source.parse::<SocketAddr>() {
                        *u.sources.entry(addr.ip().to_string()).or_default() += 1;
                    }
                    if decision == "allow"
                        && let (Some(api), Some(op)) = (e.api, e.operation)
                    {
                        u.operations.insert(format!("{api}:{op}"));
                    }
                }
            }
        }
    }
    Ok(())
}
