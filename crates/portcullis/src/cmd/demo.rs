//! `portcullis demo [--port N]`: the bundled orders API on a free loopback
//! port and the gateway in front of it on 127.0.0.1:N, in one process, with
//! the example configuration compiled into the binary, and the demo's
//! identity provider (the people an agent acts for) on another. Prints the
//! calls to try; Ctrl-C stops them cleanly.

use std::net::SocketAddr;
use std::process::ExitCode;

use portcullis_config::{Config, Embedded, JwksSource, Overrides, load_from};
use portcullis_core::IdentityState;
use portcullis_example_orders::OrdersApi;
use portcullis_example_orders::demo_banner::Banner;
use portcullis_example_orders::demo_idp::{DemoIdp, ISSUER};
use portcullis_example_orders::demo_script::{Caller, PERSON};
use std::sync::Arc;

use portcullis_admin::AdminServer;
use portcullis_proxy::Gateway;
use portcullis_store::CredentialKind;

use super::{report, shutdown_signal};

const FILES: Embedded = Embedded(portcullis_example_orders::example_files::FILES);

pub async fn run(port: u16) -> anyhow::Result<ExitCode> {
    // Listening before the banner says the demo is up (see `shutdown_signal`).
    let stop = shutdown_signal();
    let orders = OrdersApi::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let idp = DemoIdp::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let Some(config) = demo_config(port, orders.addr(), &idp)? else {
        orders.stop().await;
        return Ok(ExitCode::FAILURE);
    };
    let admin_addr = config.admin;
    let verify_report = config.verify_report.clone();
    let gateway = match Gateway::start(config).await {
        Ok(g) => g,
        Err(e) => {
            orders.stop().await;
            anyhow::bail!(
                "{e} (is another program using port {port}? try `portcullis demo --port 8090`)"
            );
        }
    };
    let (tokens, admin, admin_lines) = match setup(&gateway, admin_addr, &idp).await {
        Ok(done) => done,
        Err(e) => {
            gateway.stop().await;
            orders.stop().await;
            return Err(e);
        }
    };
    let (tokens, secrets) = &tokens;
    let banner = Banner {
        gateway: gateway.addr(),
        bare: orders.addr(),
        tokens,
        secrets,
        admin: &admin_lines,
        console: admin.as_ref().map(AdminServer::addr),
        verify_report: verify_report.as_deref(),
    };
    print!("{}", banner.text());
    stop.await;
    println!("\nstopping the demo");
    if let Some(admin) = admin {
        admin.stop().await;
    }
    gateway.stop().await;
    orders.stop().await;
    if let Some(dir) = verify_report.as_deref().and_then(std::path::Path::parent) {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// A new folder in the temporary directory that only this user may enter;
/// `None` when one cannot be made.
fn private_dir() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    let dir = std::env::temp_dir().join(format!("portcullis-demo-{}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir).ok()?;
    Some(dir)
}

/// The bundled configuration, in front of the example API at `orders`, on
/// `port`, with everything else in memory; `None` (its diagnostics printed)
/// when it does not load.
fn demo_config(port: u16, orders: SocketAddr, idp: &DemoIdp) -> anyhow::Result<Option<Config>> {
    // Nothing of the demo outlives it: a fresh sealing key each run.
    let (_, sealing_key) = portcullis_token::SealingKey::generate()?;
    let overrides = Overrides {
        sealing_key: Some(portcullis_config::SecretText::new(sealing_key)),
        storage: Some(portcullis_config::Storage::Memory),
        admin: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        upstreams: vec![("orders".to_owned(), format!("http://{orders}"))],
    };
    match load_from(&FILES, "portcullis.yaml", &overrides) {
        Ok((mut config, warnings)) => {
            report(&warnings);
            let issuers = config.delegation.iter_mut().flat_map(|d| &mut d.issuers);
            for issuer in issuers.filter(|i| i.issuer == ISSUER) {
                issuer.jwks = JwksSource::Url(idp.jwks_url());
            }
            // The console's Verify page shows what the banner's verify line
            // writes here: outside examples/, in a folder only this user
            // may use (made new, so nobody planted it), gone when the demo
            // stops. Without it the page says how to configure one.
            config.verify_report = private_dir().map(|dir| dir.join("verify.json"));
            Ok(Some(config))
        }
        Err(diagnostics) => {
            report(&diagnostics);
            Ok(None)
        }
    }
}

/// What the banner prints: the demo's tokens and secrets, the admin
/// listener (when configured) and its lines.
type Setup = ((Vec<String>, Vec<String>), Option<AdminServer>, Vec<String>);

async fn setup(
    gateway: &Gateway,
    admin_addr: Option<SocketAddr>,
    idp: &DemoIdp,
) -> anyhow::Result<Setup> {
    let mut tokens = credentials(gateway)?;
    tokens.0.extend(delegated(gateway, idp)?);
    let admin = match admin_addr {
        Some(addr) => Some(
            AdminServer::start(
                addr,
                Arc::clone(gateway.authority()),
                None,
                Some(gateway.observer()),
            )
            .await?,
        ),
        None => None,
    };
    let admin_lines = match &admin {
        Some(a) => {
            let mut lines = admin_lines(gateway, a.addr())?;
            lines.extend(crawler(gateway, a.addr()).await?);
            lines
        }
        None => Vec::new(),
    };
    Ok((tokens, admin, admin_lines))
}

/// A demo-only identity (not in `identities.yaml`) and its API key.
fn demo_identity(
    gateway: &Gateway,
    (id, kind, owner): (&str, portcullis_core::IdentityKind, &str),
    tags: &[&str],
    scopes: &[&str],
) -> anyhow::Result<String> {
    let authority = gateway.authority();
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    let identity = portcullis_core::Identity {
        id: id.to_owned(),
        kind,
        owner: owner.to_owned(),
        environment: "demo".to_owned(),
        tags: owned(tags),
        scopes: owned(scopes),
        state: IdentityState::Active,
        created: authority.now(),
        expires: None,
        last_used: None,
    };
    authority.put_identity(&identity)?;
    let key = authority.create_secret(id, CredentialKind::ApiKey, 86_400, Some("demo".into()))?;
    Ok(key.secret)
}

/// An admin identity for the demo, and what to try on the admin listener.
fn admin_lines(gateway: &Gateway, admin: SocketAddr) -> anyhow::Result<Vec<String>> {
    let service = portcullis_core::IdentityKind::Service;
    let scopes = [portcullis_admin::ADMIN_SCOPE];
    let key = demo_identity(gateway, ("demo-admin", service, "you"), &[], &scopes)?;
    Ok(portcullis_example_orders::demo_banner::admin_lines(
        admin, &key,
    ))
}

/// The misbehaving agent: made, run until the watch quarantines it, shown.
async fn crawler(gateway: &Gateway, admin: SocketAddr) -> anyhow::Result<Vec<String>> {
    use portcullis_example_orders::demo_watch::{IDENTITY, lines, misbehave};
    let agent = (
        IDENTITY,
        portcullis_core::IdentityKind::Agent,
        "growth-team",
    );
    let key = demo_identity(gateway, agent, &["reporting"], &["orders:read"])?;
    misbehave(gateway.addr(), &key).await?;
    Ok(lines(&format!("http://{}", gateway.addr()), admin, &key))
}

/// Gives each demo identity its credential and prints how to turn it into a
/// token; `stale-bot` gets a token and is then suspended.
/// The token lines to print, and each client secret as `VAR_SECRET='…'`
/// (for `verify --identities examples/orders/verify-identities.yaml`).
fn credentials(gateway: &Gateway) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let authority = gateway.authority();
    let base = authority.base_url().to_owned();
    let mut lines = Vec::new();
    let mut secrets = Vec::new();
    authority.set_upstream_credential(
        "partner-connector",
        "orders",
        "partner-connector-own-upstream-key",
    )?;
    lines.push("# partner-connector's requests go upstream with its own credential, held sealed by the gateway.".to_owned());
    for caller in [Caller::Reader, Caller::Writer, Caller::Partner] {
        let (Some((identity, scopes)), Some(var)) = (caller.identity(), caller.variable()) else {
            continue;
        };
        let secret = authority.create_secret(
            identity,
            CredentialKind::ClientSecret,
            86_400,
            Some("demo".into()),
        )?;
        lines.push(format!(
            "{var}=$(curl -s -u '{identity}:{}' -d grant_type=client_credentials -d 'scope={}' {base}/oauth/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')",
            secret.secret,
            scopes.join(" "),
        ));
        secrets.push(format!("{var}_SECRET='{}'", secret.secret));
    }
    if let (Some((identity, scopes)), Some(var)) =
        (Caller::Suspended.identity(), Caller::Suspended.variable())
    {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let (token, _) = authority.issue_for(identity, &scopes, 900, "orders")?;
        authority.set_state(
            identity,
            IdentityState::Suspended,
            portcullis_store::ChangedBy::who("demo"),
        )?;
        lines.push(format!("# {identity} got this token, then was suspended:"));
        lines.push(format!("{var}='{token}'"));
    }
    Ok((lines, secrets))
}

/// The lines that give the support agent a token acting for the demo's
/// person: her token from the demo IdP, exchanged at the token endpoint.
fn delegated(gateway: &Gateway, idp: &DemoIdp) -> anyhow::Result<Vec<String>> {
    let authority = gateway.authority();
    let Some((identity, scopes)) = Caller::Delegated.identity() else {
        return Ok(Vec::new());
    };
    let (person, tenant) = PERSON;
    let subject = idp
        .person_token(person, tenant, &scopes.join(" "), authority.now())
        .map_err(anyhow::Error::msg)?;
    let secret = authority.create_secret(identity, CredentialKind::ClientSecret, 86_400, None)?;
    let base = authority.base_url();
    Ok(Caller::Delegated.exchange_lines(&subject, &secret.secret, base))
}
