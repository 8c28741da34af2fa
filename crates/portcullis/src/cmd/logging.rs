//! Logs: always on stderr, so a command's output (stdout) stays its own.
//! How they look is `--log-format`: text for a person, one JSON object a
//! line for a log collector, or by default text on a terminal and JSON
//! otherwise. How much is `PORTCULLIS_LOG` (a `tracing` filter such as
//! `debug` or `portcullis=debug,warn`), else the command's own level:
//! `serve` logs at `info` (one line per request), every other command at
//! `warn`, so what a person reads first is the command's output (the
//! demo's banner, a report), not the gateway starting up.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The environment variable that sets the log filter.
pub const FILTER_ENV: &str = "PORTCULLIS_LOG";

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text when stderr is a terminal, JSON otherwise.
    #[default]
    Auto,
    /// One line of text per event, for a person.
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

impl LogFormat {
    /// Whether lines are JSON, given whether stderr is a terminal.
    fn is_json(self, terminal: bool) -> bool {
        match self {
            Self::Auto => !terminal,
            Self::Text => false,
            Self::Json => true,
        }
    }
}

/// Installs the process's logger: `format`, at `level` unless
/// `PORTCULLIS_LOG` says otherwise.
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_env(FILTER_ENV).unwrap_or_else(|_| EnvFilter::new(level));
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init`: a logger already installed (only possible in a test
    // harness) keeps logging; it is not worth stopping for.
    let _ = if format.is_json(terminal) {
        builder.json().flatten_event(true).try_init()
    } else {
        // Colours only for a terminal: escape codes in a file are noise.
        builder.compact().with_ansi(terminal).try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_text_on_a_terminal_and_json_elsewhere() {
        assert!(!LogFormat::Auto.is_json(true));
        assert!(LogFormat::Auto.is_json(false));
        assert!(!LogFormat::Text.is_json(false));
        assert!(LogFormat::Json.is_json(true));
    }
}
