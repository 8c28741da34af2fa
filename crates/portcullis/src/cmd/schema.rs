//! `portcullis schema -c FILE`: the Cedar schema generated from the
//! configuration's contracts, which policies are validated against: one
//! action per operation, grouped by read and write, each with its context
//! typed from the operation's parameters.

use std::path::Path;
use std::process::ExitCode;

use super::load_reported;

pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let Some(config) = load_reported(path, "the configuration has errors") else {
        return Ok(ExitCode::FAILURE);
    };
    print!("{}", config.policies.schema.text());
    Ok(ExitCode::SUCCESS)
}
