//! `portcullis check -c FILE`: load everything, report every problem with its
//! file and line or JSON pointer; non-zero exit on any error.

use std::path::Path;
use std::process::ExitCode;

use portcullis_config::{Overrides, load};

use super::report;

pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    match load(path, &Overrides::default()) {
        Ok((config, warnings)) => {
            report(&warnings);
            let operations: usize = config
                .apis
                .iter()
                .map(|a| a.contract.operations().len())
                .sum();
            println!(
                "{}: ok: {} API(s), {} operation(s), {} warning(s)",
                path.display(),
                config.apis.len(),
                operations,
                warnings.len()
            );
            for api in &config.apis {
                println!(
                    "  {} at {} -> http://{}{} (contract {} v{}, sha256 {})",
                    api.name,
                    api.mount,
                    api.upstream.authority,
                    api.upstream.base_path,
                    api.contract_file,
                    api.contract.version(),
                    api.contract.digest().get(..12).unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            report(&diagnostics);
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!("{}: {errors} error(s)", path.display());
            Ok(ExitCode::FAILURE)
        }
    }
}
