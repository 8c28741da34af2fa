//! `portcullis`: one binary in front of HTTP APIs that makes them safe for AI
//! agents and other machine identities to call.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Per-request work allocates and frees many small objects (JSON values,
/// header maps, Cedar entities); under load glibc's malloc and free were
/// about a fifth of the gateway's CPU (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    about = "An API gateway that enforces each API's OpenAPI contract on every path",
    after_help = "Logs go to stderr. PORTCULLIS_LOG sets how much (a filter such as `debug` or \
                  `portcullis=debug,warn`); by default `serve` logs at info, one line per request, \
                  and every other command, the demo included, only warnings and errors."
)]
struct Cli {
    /// How log lines look: text for people, one JSON object a line for log
    /// collectors; auto is text on a terminal and JSON otherwise.
    #[arg(long, global = true, value_enum, value_name = "FORMAT", default_value_t = cmd::logging::LogFormat::Auto)]
    log_format: cmd::logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway with a configuration file.
    Serve(cmd::serve::ServeArgs),
    /// Load the configuration, contracts, inventory and policies; report each problem and analyse the policies.
    Check(cmd::check::CheckArgs),
    /// Print the Cedar schema generated from the contracts (what policies are checked against).
    Schema {
        /// The configuration file (YAML).
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Run one request through the deciding stages offline and say why it is allowed or refused.
    Explain(cmd::explain::ExplainArgs),
    /// Start the bundled orders API with the gateway in front of it, on loopback.
    Demo {
        /// Gateway port.
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Manage machine identities and their credentials in the store.
    Identity {
        #[command(subcommand)]
        command: cmd::identity::IdentityCommand,
    },
    /// Prove enforcement on every reachable path: coverage, and routes the upstream answers that the contract does not declare.
    Verify(cmd::verify::VerifyArgs),
    /// Verify, export and follow the audit ledger.
    Audit {
        #[command(subcommand)]
        command: cmd::audit::AuditCommand,
    },
    /// The inventory and its findings, mapped to the OWASP Non-Human Identities Top 10 (2025).
    Posture(cmd::posture::PostureArgs),
    /// Follow the watch's alerts (probing, enumeration, deny spikes, novelty, volume).
    Alerts {
        #[command(subcommand)]
        command: cmd::audit::AlertsCommand,
    },
    /// The gateways sharing this configuration's store: alive or gone, and configuration drift.
    Fleet {
        #[command(subcommand)]
        command: cmd::fleet::FleetCommand,
    },
    /// Issue access tokens, or exchange one to act for a person.
    Token {
        #[command(subcommand)]
        command: cmd::token::TokenCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A running gateway's log is its record of every request; every other
    // command speaks through its output, and logs only what went wrong.
    let level = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    cmd::logging::init(cli.log_format, level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Check(args) => cmd::check::run(&args),
            Command::Schema { config } => cmd::schema::run(&config),
            Command::Explain(args) => cmd::explain::run(args).await,
            Command::Demo { port } => cmd::demo::run(port).await,
            Command::Identity { command } => cmd::identity::run(command),
            Command::Token { command } => cmd::token::run(command).await,
            Command::Audit { command } => cmd::audit::run(command).await,
            Command::Alerts {
                command: cmd::audit::AlertsCommand::Tail(args),
            } => cmd::audit::tail(&args, Some("alert")).await,
            Command::Verify(args) => cmd::verify::run(&args).await,
            Command::Posture(args) => cmd::posture::run(&args),
            Command::Fleet { command } => cmd::fleet::run(command),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
