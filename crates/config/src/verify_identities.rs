//! The test identities file of `portcullis verify --identities FILE`: which
//! identities of the inventory to check a gateway as, and how each gets its
//! token. With a `client_secret` (`env:NAME` or `file:PATH`), through the
//! gateway's own token service (`POST /oauth/token`, client credentials);
//! without, issued from the configuration's store as `token issue` does.
//!
//! ```yaml
//! identities:
//!   - id: reporting-agent
//!     client_secret: env:REPORTING_AGENT_SECRET
//!     scopes: [orders:read]      # optional: fewer than granted
//!   - id: partner-connector
//! ```

use std::collections::HashSet;
use std::path::Path;

use portcullis_core::{valid_identity_id, valid_scope};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::secret_ref::{SecretAt, Secrets, read_secret};
use crate::snapshot::SecretText;
use crate::source::Disk;

/// One identity to check the gateway as.
#[derive(Debug, Clone)]
pub struct TestIdentity {
    pub id: String,
    /// Its client secret, for a token from the gateway's token service.
    pub client_secret: Option<SecretText>,
    /// The scopes to ask for; `None` for all it is granted.
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    identities: Vec<Spanned<RawTestIdentity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTestIdentity {
    id: Spanned<String>,
    client_secret: Option<Spanned<String>>,
    scopes: Option<Vec<Spanned<String>>>,
}

/// Reads and checks the file.
///
/// # Errors
/// Every problem, with its line.
pub fn load_test_identities(path: &Path) -> Result<Vec<TestIdentity>, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error_at_line(
            &file,
            0,
            format!("cannot read: {e}"),
        )]
    })?;
    let raw: RawFile = serde_saphyr::from_str(&text).map_err(|e| {
        let (line, message) = portcullis_contract::describe_yaml_error(&e);
        vec![Diagnostic::error_at_line(&file, line, message)]
    })?;
    let files = Disk::new(path.parent().unwrap_or(Path::new(".")));
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut identities = Vec::new();
    if raw.identities.is_empty() {
        out.push(Diagnostic::error_at_line(
            &file,
            0,
            "`identities` lists no identity",
        ));
    }
    for entry in raw.identities {
        let entry = entry.value;
        let line = entry.id.referenced.line();
        let id = entry.id.value;
        if !valid_identity_id(&id) {
            out.push(Diagnostic::error_at_line(
                &file,
                line,
                format!("`{id}` is not an identity id"),
            ));
        }
        if !seen.insert(id.clone()) {
            out.push(Diagnostic::error_at_line(
                &file,
                line,
                format!("identity `{id}` is listed twice"),
            ));
        }
        let client_secret = entry.client_secret.and_then(|s| {
            let line = s.referenced.line();
            let at = SecretAt {
                files: &files,
                secrets: Secrets::Resolve,
                file: &file,
                line,
                what: "a client secret",
            };
            read_secret(&at, &s.value, &mut out).map(SecretText::new)
        });
        let scopes = entry.scopes.map(|scopes| {
            for s in scopes.iter().filter(|s| !valid_scope(&s.value)) {
                out.push(Diagnostic::error_at_line(
                    &file,
                    s.referenced.line(),
                    format!("`{}` is not a scope", s.value),
                ));
            }
            scopes.into_iter().map(|s| s.value).collect()
        });
        identities.push(TestIdentity {
            id,
            client_secret,
            scopes,
        });
    }
    if out.is_empty() {
        Ok(identities)
    } else {
        Err(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a missing value should fail the test"
    )]

    use super::*;

    fn load(text: &str) -> Result<Vec<TestIdentity>, Vec<String>> {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-test-ids-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret.txt"), "pcs_from_file\n").unwrap();
        let path = dir.join("ids.yaml");
        std::fs::write(&path, text).unwrap();
        let result =
            load_test_identities(&path).map_err(|d| d.iter().map(ToString::to_string).collect());
        std::fs::remove_dir_all(&dir).unwrap();
        result
    }

    #[test]
    fn reads_ids_secrets_and_scopes() {
        let ids = load(
            "identities:\n  - id: bot\n    client_secret: file:secret.txt\n    scopes: [orders:read]\n  - id: other\n",
        )
        .unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(
            ids[0].client_secret.as_ref().unwrap().expose(),
            "pcs_from_file"
        );
        assert_eq!(
            ids[0].scopes.as_deref(),
            Some(&["orders:read".to_owned()][..])
        );
        assert!(ids[1].client_secret.is_none() && ids[1].scopes.is_none());
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let errors = load(
            "identities:\n  - id: Bad Id\n  - id: twin\n    client_secret: pcs_literal\n  - id: twin\n    scopes: ['a b']\n",
        )
        .unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains(":2:") && all.contains("not an identity id"),
            "{all}"
        );
        assert!(
            all.contains(":4:") && all.contains("never from the file itself"),
            "{all}"
        );
        assert!(all.contains(":5:") && all.contains("listed twice"), "{all}");
        assert!(all.contains(":6:") && all.contains("not a scope"), "{all}");
        assert!(load("identities: []\n").unwrap_err()[0].contains("no identity"));
        assert!(load("identities:\n  - id: a\n    role: x\n").is_err());
    }
}
