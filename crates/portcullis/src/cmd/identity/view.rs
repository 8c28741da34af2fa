//! `identity list` and `identity show`: the inventory as a table or JSON,
//! credentials by status and expiry, never any secret material.

use portcullis_core::{Identity, UnixTime};
use portcullis_proxy::authority::Authority;
use portcullis_store::{Credential, CredentialKind};
use serde_json::{Value, json};

use super::{LONG_LIVED, existing, rfc3339};

pub(super) fn list(authority: &Authority, as_json: bool) -> anyhow::Result<()> {
    let identities = authority.store().list_identities()?;
    if as_json {
        let all: Vec<Value> = identities.iter().map(identity_json).collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    let header = [
        "ID",
        "KIND",
        "STATE",
        "OWNER",
        "ENVIRONMENT",
        "SCOPES",
        "LAST USED",
    ];
    let rows: Vec<Vec<String>> = identities
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                i.kind.to_string(),
                i.state.to_string(),
                i.owner.clone(),
                i.environment.clone(),
                i.scopes.join(","),
                i.last_used.map_or_else(|| "never".to_owned(), rfc3339),
            ]
        })
        .collect();
    print_table(&header, &rows);
    Ok(())
}

pub(super) fn show(authority: &Authority, id: &str, as_json: bool) -> anyhow::Result<()> {
    let identity = existing(authority, id)?;
    let credentials = authority.store().list_credentials(id)?;
    let now = authority.now();
    if as_json {
        let mut value = identity_json(&identity);
        let listed: Vec<Value> = credentials
            .iter()
            .map(|c| credential_json(c, now))
            .collect();
        if let Some(object) = value.as_object_mut() {
            object.insert("credentials".into(), Value::Array(listed));
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let never = |t: Option<UnixTime>| t.map_or_else(|| "never".to_owned(), rfc3339);
    for (name, value) in [
        ("id", identity.id.clone()),
        ("kind", identity.kind.to_string()),
        ("state", identity.state.to_string()),
        ("owner", identity.owner.clone()),
        ("environment", identity.environment.clone()),
        ("tags", identity.tags.join(", ")),
        ("scopes", identity.scopes.join(", ")),
        ("created", rfc3339(identity.created)),
        ("expires", never(identity.expires)),
        ("last used", never(identity.last_used)),
    ] {
        println!("{:<13}{value}", format!("{name}:"));
    }
    if credentials.is_empty() {
        println!("credentials: none");
        return Ok(());
    }
    println!("credentials:");
    let header = [
        "ID", "KIND", "CREATED", "EXPIRES", "REVOKED", "LABEL", "STATUS",
    ];
    let rows: Vec<Vec<String>> = credentials
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.kind.to_string(),
                rfc3339(c.created),
                rfc3339(c.expires),
                c.revoked.map_or_else(|| "-".to_owned(), rfc3339),
                c.label.clone().unwrap_or_else(|| "-".to_owned()),
                status(c, now).to_owned(),
            ]
        })
        .collect();
    print_table(&header, &rows);
    Ok(())
}

/// Whether a usable credential is long-lived: an API key, or anything
/// expiring more than 90 days from now.
fn long_lived(c: &Credential, now: UnixTime) -> bool {
    c.is_usable(now) && (c.kind == CredentialKind::ApiKey || c.expires - now > LONG_LIVED)
}

fn status(c: &Credential, now: UnixTime) -> &'static str {
    if c.revoked.is_some() {
        "revoked"
    } else if !c.is_usable(now) {
        "expired"
    } else if long_lived(c, now) {
        "usable, LONG-LIVED"
    } else {
        "usable"
    }
}

fn identity_json(i: &Identity) -> Value {
    json!({
        "id": i.id,
        "kind": i.kind.as_str(),
        "state": i.state.as_str(),
        "owner": i.owner,
        "environment": i.environment,
        "tags": i.tags,
        "scopes": i.scopes,
        "created": rfc3339(i.created),
        "expires": i.expires.map(rfc3339),
        "last_used": i.last_used.map(rfc3339),
    })
}

/// A credential without its secret hash or key material.
fn credential_json(c: &Credential, now: UnixTime) -> Value {
    json!({
        "id": c.id,
        "kind": c.kind.as_str(),
        "created": rfc3339(c.created),
        "expires": rfc3339(c.expires),
        "revoked": c.revoked.map(rfc3339),
        "label": c.label,
        "usable": c.is_usable(now),
        "long_lived": long_lived(c, now),
    })
}

fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
