//! `orders-api [--listen 127.0.0.1:9000]`: runs the example orders service
//! until Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use portcullis_example_orders::OrdersApi;

const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
const USAGE: &str = "usage: orders-api [--listen ADDR]   (default 127.0.0.1:9000)";

fn parse_args() -> Result<SocketAddr, String> {
    let mut listen = DEFAULT_LISTEN.to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--listen" {
            listen = args
                .next()
                .ok_or_else(|| "--listen needs a value".to_owned())?;
        } else if let Some(value) = arg.strip_prefix("--listen=") {
            value.clone_into(&mut listen);
        } else if arg == "-h" || arg == "--help" {
            return Err(String::new());
        } else {
            return Err(format!("unexpected argument: {arg}"));
        }
    }
    listen
        .parse()
        .map_err(|e| format!("invalid --listen address {listen:?}: {e}"))
}

fn main() -> ExitCode {
    let addr = match parse_args() {
        Ok(addr) => addr,
        Err(msg) => {
            if msg.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("orders-api: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("orders-api: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let api = match OrdersApi::start(addr).await {
            Ok(api) => api,
            Err(e) => {
                eprintln!("orders-api: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("orders-api listening on http://{}", api.addr());
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("orders-api: cannot wait for Ctrl-C: {e}");
        }
        println!("orders-api shutting down");
        api.stop().await;
        ExitCode::SUCCESS
    })
}
