//! The `audit:` section: where the ledger lives, how durable each record is
//! before the response goes, how often the chain head is signed, and how
//! long records are kept.
//!
//! The ledger is always on. Without the section it is `audit.db` beside the
//! configuration, in memory when the store is (the demo, tests), and in the
//! store's PostgreSQL when the store is there (a fleet: one ledger, a chain
//! per node). `ledger: postgres` asks for that explicitly.

use std::time::Duration;

use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::duration::parse_duration;
use crate::raw::RawAudit;
use crate::snapshot::{AuditDurability, AuditSettings, LedgerPlace, Storage};
use crate::source::Files;

pub(super) fn audit(
    files: &dyn Files,
    file: &str,
    raw: Option<&Spanned<RawAudit>>,
    storage: &Storage,
    out: &mut Vec<Diagnostic>,
) -> AuditSettings {
    let in_memory = matches!(storage, Storage::Memory);
    let default_place = || match (storage, files.base_dir()) {
        (Storage::Postgres(_), _) => LedgerPlace::Postgres,
        (Storage::Sqlite(_), Some(base)) => LedgerPlace::File(base.join("audit.db")),
        _ => LedgerPlace::Memory,
    };
    let mut settings = AuditSettings {
        ledger: default_place(),
        durability: AuditDurability::Batch,
        checkpoint_every: 1_000,
        checkpoint_interval: Duration::from_secs(5),
        retention: None,
        max_records: None,
    };
    let Some(raw) = raw.map(|r| &r.value) else {
        return settings;
    };
    if let Some(ledger) = &raw.ledger {
        let line = ledger.referenced.line();
        settings.ledger = match (
            ledger.value.as_str(),
            ledger.value.strip_prefix("sqlite://"),
        ) {
            ("memory", _) => LedgerPlace::Memory,
            ("postgres", _) if matches!(storage, Storage::Postgres(_)) => LedgerPlace::Postgres,
            ("postgres", _) if in_memory => LedgerPlace::Memory,
            ("postgres", _) => {
                out.push(Diagnostic::error_at_line(
                    file,
                    line,
                    "`audit.ledger: postgres` keeps the ledger in the store's PostgreSQL: it needs `storage: postgres://...`",
                ));
                default_place()
            }
            // The demo and tests keep everything in memory, whatever the file says.
            (_, Some(_)) if in_memory => LedgerPlace::Memory,
            (_, Some(path)) if !path.is_empty() => match files.base_dir() {
                Some(base) => LedgerPlace::File(base.join(path)),
                None => {
                    out.push(Diagnostic::error_at_line(
                        file,
                        line,
                        "`audit.ledger` needs a configuration file on disk",
                    ));
                    LedgerPlace::Memory
                }
            },
            _ => {
                out.push(Diagnostic::error_at_line(
                    file,
                    line,
                    "`audit.ledger` must be `sqlite://PATH`, `postgres` or `memory`",
                ));
                default_place()
            }
        };
    }
    if let Some(d) = &raw.durability {
        settings.durability = match d.value.as_str() {
            "batch" => AuditDurability::Batch,
            "strict" => AuditDurability::Strict,
            other => {
                out.push(Diagnostic::error_at_line(
                    file,
                    d.referenced.line(),
                    format!("`audit.durability` must be `batch` or `strict`, not `{other}`"),
                ));
                AuditDurability::Batch
            }
        };
    }
    if let Some(n) = &raw.checkpoint_every {
        if (1..=1_000_000).contains(&n.value) {
            settings.checkpoint_every = n.value;
        } else {
            out.push(Diagnostic::error_at_line(
                file,
                n.referenced.line(),
                "`audit.checkpoint_every` must be between 1 and 1000000 records",
            ));
        }
    }
    let mut duration = |name: &str, value: &Option<Spanned<String>>| {
        let v = value.as_ref()?;
        match parse_duration(&v.value) {
            Some(d) if !d.is_zero() => Some(d),
            _ => {
                out.push(Diagnostic::error_at_line(
                    file,
                    v.referenced.line(),
                    format!("`audit.{name}` must be a duration like `5s` or `30d`"),
                ));
                None
            }
        }
    };
    if let Some(interval) = duration("checkpoint_interval", &raw.checkpoint_interval) {
        settings.checkpoint_interval = interval;
    }
    settings.retention = duration("retention", &raw.retention);
    if let Some(n) = &raw.max_records {
        if n.value >= settings.checkpoint_every {
            settings.max_records = Some(n.value);
        } else {
            out.push(Diagnostic::error_at_line(
                file,
                n.referenced.line(),
                "`audit.max_records` must be at least `audit.checkpoint_every` (pruning happens at checkpoints)",
            ));
        }
    }
    settings
}
