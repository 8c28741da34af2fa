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
    let apis: Vec<(&str, &portcullis_contract::Contract)> = config
        .apis
        .iter()
        .map(|a| (a.name.as_str(), a.contract.as_ref()))
        .collect();
    let schema = portcullis_policy::generate_schema(&apis)?;
    print!("{}", schema.text());
    Ok(ExitCode::SUCCESS)
}
