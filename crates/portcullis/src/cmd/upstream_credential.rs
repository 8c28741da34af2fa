//! `portcullis identity upstream-credential ID --api NAME --from env:VAR|file:PATH`
//! (or `--remove`): an identity's own credential for one upstream, sealed by
//! the gateway and injected in place of the API's. The value is read from
//! the environment or a file, never from the command line, so it does not
//! land in shell history or process listings.

use anyhow::{Context, bail};
use clap::Args;

use super::identity::{Named, with_authority};

#[derive(Debug, Args)]
pub struct UpstreamCredentialArgs {
    #[command(flatten)]
    pub named: Named,
    /// The API whose upstream the credential is for.
    #[arg(long)]
    pub api: String,
    /// `env:NAME` or `file:PATH` holding the value to inject.
    #[arg(long, conflicts_with = "remove")]
    pub from: Option<String>,
    /// Forget the identity's credential; the API's own is used again.
    #[arg(long)]
    pub remove: bool,
}

pub fn run(args: &UpstreamCredentialArgs) -> anyhow::Result<std::process::ExitCode> {
    let id = args.named.id().to_owned();
    with_authority(args.named.config(), |_, authority| {
        if args.remove {
            authority.remove_upstream_credential(&id, &args.api)?;
            println!("{id}: upstream credential for `{}` removed", args.api);
            return Ok(());
        }
        let Some(from) = &args.from else {
            bail!("give `--from env:NAME` or `--from file:PATH`, or `--remove`");
        };
        let value = if let Some(var) = from.strip_prefix("env:") {
            std::env::var(var)
                .with_context(|| format!("environment variable `{var}` is not set"))?
        } else if let Some(path) = from.strip_prefix("file:") {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read `{path}`"))?;
            text.trim_end_matches(['\n', '\r']).to_owned()
        } else {
            bail!("`--from` takes `env:NAME` or `file:PATH`, never the value itself");
        };
        authority.set_upstream_credential(&id, &args.api, &value)?;
        println!("{id}: upstream credential for `{}` set (sealed)", args.api);
        Ok(())
    })
}
