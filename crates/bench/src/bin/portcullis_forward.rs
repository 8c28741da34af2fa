//! `bench-portcullis-forward CONFIG`: Portcullis's data plane with its
//! stages reduced to forwarding, for the load harness's `portcullis-forward`
//! row. The configuration is the one `bench-setup` writes and the gateway's
//! own listener, framing guard, snapshot, upstream pool and header handling
//! serve it (`portcullis_proxy::bench`); nothing is authenticated, checked,
//! authorized, limited or recorded. The runtime and allocator are the
//! `portcullis` binary's (`main.rs`), so beside the `portcullis` row this
//! shows what the stages cost, and beside `hyper-floor` what the data
//! plane does beyond bare forwarding.
//!
//! A bench binary, not a mode: the product has no way to start this.

use std::path::PathBuf;
use std::process::ExitCode;

use portcullis_config::Overrides;

/// As the `portcullis` binary allocates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn run(path: PathBuf) -> ExitCode {
    let config = match portcullis_config::load(&path, &Overrides::default()) {
        Ok((config, _warnings)) => config,
        Err(diagnostics) => {
            for d in diagnostics {
                eprintln!("{d}");
            }
            eprintln!(
                "{}: not starting: the configuration has errors",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let _gateway = match portcullis_proxy::bench::start_forward_only(config).await {
        Ok(gateway) => gateway,
        Err(e) => {
            eprintln!("bench-portcullis-forward: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Serves until the harness ends the process.
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bench-portcullis-forward CONFIG");
        return ExitCode::from(2);
    };
    portcullis_bench::on_gateway_runtime("bench-portcullis-forward", run(path))
}
