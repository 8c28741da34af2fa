//! `portcullis demo [--port N]`: the bundled orders API on a free loopback
//! port and the gateway in front of it on 127.0.0.1:N, in one process, with
//! the example configuration compiled into the binary. Prints the calls to
//! try; Ctrl-C stops both cleanly.

use std::net::SocketAddr;
use std::process::ExitCode;

use portcullis_config::{Config, Embedded, Overrides, load_from};
use portcullis_core::IdentityState;
use portcullis_example_orders::OrdersApi;
use portcullis_example_orders::demo_script::{Caller, MOUNT, calls};
use std::sync::Arc;

use portcullis_admin::AdminServer;
use portcullis_proxy::Gateway;
use portcullis_store::CredentialKind;

use super::{report, shutdown_signal};

const FILES: Embedded = Embedded(&[
    (
        "portcullis.yaml",
        include_str!("../../../../examples/orders/portcullis.yaml"),
    ),
    (
        "openapi.yaml",
        include_str!("../../../../examples/orders/openapi.yaml"),
    ),
    (
        "identities.yaml",
        include_str!("../../../../examples/orders/identities.yaml"),
    ),
    (
        "upstream.key",
        include_str!("../../../../examples/orders/upstream.key"),
    ),
    (
        "policies/fulfilment.cedar",
        include_str!("../../../../examples/orders/policies/fulfilment.cedar"),
    ),
    (
        "policies/partners.cedar",
        include_str!("../../../../examples/orders/policies/partners.cedar"),
    ),
    (
        "policies/readers.cedar",
        include_str!("../../../../examples/orders/policies/readers.cedar"),
    ),
]);

pub async fn run(port: u16) -> anyhow::Result<ExitCode> {
    // Listening before the banner says the demo is up (see `shutdown_signal`).
    let stop = shutdown_signal();
    let orders = OrdersApi::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let Some(config) = demo_config(port, orders.addr())? else {
        orders.stop().await;
        return Ok(ExitCode::FAILURE);
    };
    let admin_addr = config.admin;
    let gateway = match Gateway::start(config).await {
        Ok(g) => g,
        Err(e) => {
            orders.stop().await;
            anyhow::bail!(
                "{e} (is another program using port {port}? try `portcullis demo --port 8090`)"
            );
        }
    };
    let (tokens, admin, admin_lines) = match setup(&gateway, admin_addr).await {
        Ok(done) => done,
        Err(e) => {
            gateway.stop().await;
            orders.stop().await;
            return Err(e);
        }
    };
    print_banner(gateway.addr(), orders.addr(), &tokens, &admin_lines);
    stop.await;
    println!("\nstopping the demo");
    if let Some(admin) = admin {
        admin.stop().await;
    }
    gateway.stop().await;
    orders.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// The bundled configuration, in front of the example API at `orders`, on
/// `port`, with everything else in memory; `None` (its diagnostics printed)
/// when it does not load.
fn demo_config(port: u16, orders: SocketAddr) -> anyhow::Result<Option<Config>> {
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
        Ok((config, warnings)) => {
            report(&warnings);
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

async fn setup(gateway: &Gateway, admin_addr: Option<SocketAddr>) -> anyhow::Result<Setup> {
    let tokens = credentials(gateway)?;
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
        Some(a) => admin_lines(gateway, a.addr())?,
        None => Vec::new(),
    };
    Ok((tokens, admin, admin_lines))
}

fn print_banner(
    gateway: SocketAddr,
    bare: SocketAddr,
    (tokens, secrets): &(Vec<String>, Vec<String>),
    admin: &[String],
) {
    let gw = format!("http://{gateway}");
    let api = format!("http://{bare}");
    println!("Portcullis demo");
    println!("  gateway   {gw}{MOUNT}  (contract: examples/orders/openapi.yaml)");
    println!(
        "  policies  examples/orders/policies/*.cedar  (deny by default; `portcullis explain` shows why)"
    );
    println!("  bare API  {api}  (the upstream, reachable directly for comparison)");
    println!("  catalogue {gw}/.well-known/portcullis/problems");
    println!("  contracts {gw}/.well-known/portcullis/contracts");
    println!("  keys      {gw}/.well-known/jwks.json");
    println!();
    println!("# Tokens: each identity authenticates with its client secret (shown once, here)");
    println!("# and asks for the scopes it needs; tokens live 5 minutes.");
    for line in tokens {
        println!("{line}");
    }
    println!();
    for c in calls() {
        let verdict = match c.gateway_code {
            Some(code) => format!("refused {} {code}", c.gateway_status),
            None => format!("allowed {}", c.gateway_status),
        };
        println!("# {} -> gateway: {verdict}", c.title);
        println!("{}", c.curl(&gw, &c.path, true));
        let leak = if c.bare_leak.is_empty() {
            String::new()
        } else {
            format!(", shows `{}`", c.bare_leak)
        };
        println!("#   bare API answers {}{leak}:", c.bare_status);
        println!("{}", c.curl(&api, c.bare_path(), false));
        println!();
    }
    let mcp = portcullis_example_orders::demo_mcp::lines(&gw);
    for line in admin.iter().chain(&mcp) {
        println!("{line}");
    }
    println!();
    println!(
        "# Prove it all: every operation × identity through the gateway, each operation's negative\n# requests, and every route the bare API answers that its contract does not declare (report: verify.html):"
    );
    println!(
        "{} cargo run --release -- verify -c examples/orders/portcullis.yaml --identities examples/orders/verify-identities.yaml --gateway {gw} --discover --upstream {api} --fail-on never --report verify.html",
        secrets.join(" ")
    );
    println!();
    println!("Press Ctrl-C to stop.");
}

/// An admin identity for the demo, and what to try on the admin listener.
fn admin_lines(gateway: &Gateway, admin: SocketAddr) -> anyhow::Result<Vec<String>> {
    let authority = gateway.authority();
    let identity = portcullis_core::Identity {
        id: "demo-admin".to_owned(),
        kind: portcullis_core::IdentityKind::Service,
        owner: "you".to_owned(),
        environment: "demo".to_owned(),
        tags: Vec::new(),
        scopes: vec![portcullis_admin::ADMIN_SCOPE.to_owned()],
        state: IdentityState::Active,
        created: authority.now(),
        expires: None,
        last_used: None,
    };
    authority.put_identity(&identity)?;
    let key = authority.create_secret(
        "demo-admin",
        CredentialKind::ApiKey,
        86_400,
        Some("demo".into()),
    )?;
    let base = format!("http://{admin}/admin/v1");
    Ok(vec![
        format!(
            "# The admin API, on its own listener, with its own credential (demo-admin's API key):"
        ),
        format!("ADMIN='{}'", key.secret),
        format!("curl -s -H \"X-Api-Key: $ADMIN\" {base}/identities"),
        "# every decision, from the audit ledger (newest first; filter by identity, api, operation, decision, code, since, until)".to_owned(),
        format!("curl -s -H \"X-Api-Key: $ADMIN\" '{base}/decisions?decision=deny&limit=5'"),
        format!("curl -s http://{admin}/metrics   # Prometheus; also /healthz and /readyz, no credential"),
        "# suspend the reader: its token is refused on its very next request".to_owned(),
        format!(
            "curl -s -X POST -H \"X-Api-Key: $ADMIN\" -H 'Content-Type: application/json' --data '{{\"state\":\"suspended\"}}' {base}/identities/reporting-agent/state"
        ),
    ])
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
        authority.set_state(identity, IdentityState::Suspended)?;
        lines.push(format!("# {identity} got this token, then was suspended:"));
        lines.push(format!("{var}='{token}'"));
    }
    Ok((lines, secrets))
}

#[cfg(test)]
mod tests {
    /// The demo embeds the example's files: a policy added to the folder
    /// but not embedded would make the demo differ from `serve` on the example.
    #[test]
    fn every_example_policy_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir.join("policies"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| format!("policies/{}", e.file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = super::FILES
            .0
            .iter()
            .filter(|(n, _)| n.starts_with("policies/"))
            .map(|(n, _)| (*n).to_owned())
            .collect();
        embedded.sort();
        assert!(!on_disk.is_empty());
        assert_eq!(embedded, on_disk);
    }
}
