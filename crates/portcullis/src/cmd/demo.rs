//! `portcullis demo [--port N]`: the bundled orders API on a free loopback
//! port and the gateway in front of it on 127.0.0.1:N, in one process, with
//! the example configuration compiled into the binary. Prints the calls to
//! try; Ctrl-C stops both cleanly.

use std::net::SocketAddr;
use std::process::ExitCode;

use portcullis::demo_script::{MOUNT, calls};
use portcullis_config::{Embedded, Overrides, load_from};
use portcullis_example_orders::OrdersApi;
use portcullis_proxy::Gateway;

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
]);

pub async fn run(port: u16) -> anyhow::Result<ExitCode> {
    let orders = OrdersApi::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let overrides = Overrides {
        storage: Some(portcullis_config::Storage::Memory),
        admin: None,
        listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        upstreams: vec![("orders".to_owned(), format!("http://{}", orders.addr()))],
    };
    let config = match load_from(&FILES, "portcullis.yaml", &overrides) {
        Ok((config, warnings)) => {
            report(&warnings);
            config
        }
        Err(diagnostics) => {
            report(&diagnostics);
            orders.stop().await;
            return Ok(ExitCode::FAILURE);
        }
    };
    let gateway = match Gateway::start(config).await {
        Ok(g) => g,
        Err(e) => {
            orders.stop().await;
            anyhow::bail!(
                "{e} (is another program using port {port}? try `portcullis demo --port 8090`)"
            );
        }
    };
    print_banner(gateway.addr(), orders.addr());
    shutdown_signal().await;
    println!("\nstopping the demo");
    gateway.stop().await;
    orders.stop().await;
    Ok(ExitCode::SUCCESS)
}

fn print_banner(gateway: SocketAddr, bare: SocketAddr) {
    let gw = format!("http://{gateway}");
    let api = format!("http://{bare}");
    println!("Portcullis demo");
    println!("  gateway   {gw}{MOUNT}  (contract: examples/orders/openapi.yaml)");
    println!("  bare API  {api}  (the upstream, reachable directly for comparison)");
    println!("  catalogue {gw}/.well-known/portcullis/problems");
    println!("  contracts {gw}/.well-known/portcullis/contracts");
    println!();
    for c in calls() {
        let verdict = match c.gateway_code {
            Some(code) => format!("refused {} {code}", c.gateway_status),
            None => format!("allowed {}", c.gateway_status),
        };
        println!("# {} -> gateway: {verdict}", c.title);
        println!("{}", c.curl(&gw, &c.path));
        let leak = if c.bare_leak.is_empty() {
            String::new()
        } else {
            format!(", shows `{}`", c.bare_leak)
        };
        println!("#   bare API answers {}{leak}:", c.bare_status);
        println!("{}", c.curl(&api, c.bare_path()));
        println!();
    }
    println!("Press Ctrl-C to stop.");
}
