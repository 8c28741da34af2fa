#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

// Token fixtures are assembled from pieces so that repository secret scanners
// (push protection) never see a complete token in this source file.

use super::*;

fn scanner() -> SecretScanner {
    SecretScanner::builtin().expect("built-in patterns compile")
}

fn cat(parts: &[&str]) -> String {
    parts.concat()
}

fn rep(c: &str, n: usize) -> String {
    c.repeat(n)
}

/// Asserts `text` holds exactly one finding, of `kind`, covering `secret`.
fn assert_single(text: &str, kind: SecretKind, secret: &str) {
    let start = text.find(secret).expect("fixture contains the secret");
    let expected = SecretMatch {
        kind,
        start,
        end: start + secret.len(),
    };
    assert_eq!(scanner().find(text), vec![expected], "in {text:?}");
    assert!(!scanner().is_clean(text));
    assert_prefilter_sees(text);
}

/// The response check skips scanning a body `may_match` finds nothing in
/// (unless it has an escape): a secret in a JSON string must be seen.
fn assert_prefilter_sees(text: &str) {
    for body in [
        serde_json::json!({"v": text}),
        serde_json::json!([1, text, {"k": [text]}]),
    ] {
        let body = body.to_string();
        assert!(
            body.contains('\\') || scanner().may_match(body.as_bytes()),
            "the prefilter missed {text:?}"
        );
    }
}

fn assert_none(text: &str) {
    assert_eq!(scanner().find(text), vec![], "in {text:?}");
    assert!(scanner().is_clean(text));
    assert_eq!(scanner().redact(text), None);
}

fn github_classic() -> String {
    cat(&["gh", "p_", "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"])
}

fn jwt() -> String {
    cat(&[
        "eyJ",
        "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        ".eyJ",
        "zdWIiOiIxMjM0NTY3ODkwIn0",
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ])
}

#[test]
fn builds_and_is_shareable() {
    fn assert_send_sync<T: Send + Sync + std::fmt::Debug>() {}
    assert_send_sync::<SecretScanner>();
    assert!(format!("{:?}", scanner()).contains("SecretScanner"));
}

#[test]
fn kind_names_are_unique_kebab_case() {
    let mut names: Vec<&str> = PATTERNS.iter().map(|(k, _)| k.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 13);
    for name in names {
        assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
    }
}

#[test]
fn aws_access_key_found() {
    let key = cat(&["AKIA", "IOSFODNN7EXAMPLE"]);
    assert_single(&format!("id={key}\n"), SecretKind::AwsAccessKey, &key);
}

#[test]
fn aws_access_key_near_miss() {
    // 17 characters after the prefix: part of a longer word.
    assert_none(&cat(&["AKIA", "IOSFODNN7EXAMPLEX"]));
}

#[test]
fn aws_secret_key_found() {
    let secret = cat(&["wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY"]);
    let text = format!("aws_secret_access_key = {secret}\nregion = us-east-1");
    assert_single(&text, SecretKind::AwsSecretKey, &secret);
    let json = format!(r#"{{"AWS_SECRET_ACCESS_KEY": "{secret}"}}"#);
    assert_single(&json, SecretKind::AwsSecretKey, &secret);
}

#[test]
fn aws_secret_key_near_miss() {
    // 40 characters but no key name introducing them.
    assert_none("checksum wJalrXUtnFEMIxK7MDENGxbPxRfiCYEXAMPLEKEY");
}

#[test]
fn github_token_found() {
    let token = github_classic();
    assert_single(
        &format!("Authorization: Bearer {token}"),
        SecretKind::GithubToken,
        &token,
    );
    let fine = cat(&["github_", "pat_", &rep("A1b_", 20), "Zz"]);
    assert_single(&format!("{fine} "), SecretKind::GithubToken, &fine);
}

#[test]
fn github_token_near_miss() {
    // 35 characters after the prefix.
    assert_none(&cat(&["gh", "p_", "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678"]));
}

#[test]
fn gitlab_token_found() {
    let token = cat(&["glpat", "-", "xR4_k9-Lm2Pq7Zt1Wv3Y"]);
    assert_single(&format!("{token}\n"), SecretKind::GitlabToken, &token);
}

#[test]
fn gitlab_token_near_miss() {
    assert_none(&cat(&["glpat", "-", "xR4_k9-Lm2Pq7Zt1Wv3"]));
}

#[test]
fn slack_token_found() {
    let token = cat(&[
        "xox",
        "b-123456789012-1234567890123-",
        "AbCdEfGhIjKlMnOpQrStUvWx",
    ]);
    assert_single(
        &format!(r#"{{"bot":"{token}"}}"#),
        SecretKind::SlackToken,
        &token,
    );
}

#[test]
fn slack_token_near_miss() {
    assert_none("use a xoxb-style-token for bots");
}

#[test]
fn slack_webhook_found() {
    let url = cat(&[
        "https://hooks.slack.com/services/",
        "T01ABCDEFGH/B01ABCDEFGH/",
        "abcdefGHIJKLmnopQRSTuvwx",
    ]);
    assert_single(
        &format!("post to {url} now"),
        SecretKind::SlackWebhook,
        &url,
    );
}

#[test]
fn slack_webhook_near_miss() {
    assert_none("see https://hooks.slack.com/services/ for setup");
}

#[test]
fn stripe_key_found() {
    let key = cat(&["sk_", "live_", "4eC39HqLyjWDarjtT1zdp7dc"]);
    assert_single(&format!("key: '{key}'"), SecretKind::StripeKey, &key);
}

#[test]
fn stripe_key_near_miss() {
    // Publishable keys are meant to be public.
    assert_none(&cat(&["pk_", "live_", "4eC39HqLyjWDarjtT1zdp7dc"]));
}

#[test]
fn google_api_key_found() {
    let key = cat(&["AI", "zaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"]);
    assert_single(
        &format!("https://maps.example/api?key={key}&q=1"),
        SecretKind::GoogleApiKey,
        &key,
    );
}

#[test]
fn google_api_key_near_miss() {
    // 36 characters after the prefix: not a key of the fixed length.
    assert_none(&cat(&["AI", "zaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWYx"]));
}

#[test]
fn private_key_block_found() {
    let block = cat(&[
        "-----BEGIN RSA PRIVATE",
        " KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n",
        "Proc-Type: 4,ENCRYPTED\n-----END RSA PRIVATE KEY-----",
    ]);
    assert_single(
        &format!("key:\n{block}\ntrailer"),
        SecretKind::PrivateKey,
        &block,
    );
    // JSON-escaped newlines, OPENSSH flavour.
    let escaped = cat(&[
        "-----BEGIN OPENSSH PRIVATE",
        r" KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    ]);
    assert_single(
        &format!(r#"{{"k":"{escaped}"}}"#),
        SecretKind::PrivateKey,
        &escaped,
    );
}

#[test]
fn private_key_header_alone_found() {
    let header = cat(&["-----BEGIN PRIVATE", " KEY-----"]);
    assert_single(
        &format!(r#"{{"k":"{header}\nMIIE", "truncated": true}}"#),
        SecretKind::PrivateKey,
        &header,
    );
}

#[test]
fn private_key_near_miss() {
    assert_none("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----");
}

#[test]
fn jwt_found() {
    let token = jwt();
    assert_single(
        &format!("Authorization: Bearer {token}"),
        SecretKind::Jwt,
        &token,
    );
}

#[test]
fn jwt_near_miss() {
    assert_none("eyJhbGciOiJIUzI1NiJ9.notAJwtPayload.c2ln");
}

#[test]
fn payment_card_found_in_every_layout() {
    for card in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "3782 822463 10005",
    ] {
        assert_single(&format!("card: {card}."), SecretKind::PaymentCard, card);
    }
}

#[test]
fn payment_card_near_miss() {
    assert_none("card: 4111 1111 1111 1112");
    // A 16-digit order number that fails Luhn.
    assert_none("order 1234567890123456 shipped");
    // A valid card number inside a longer digit run.
    assert_none("ref 0004111111111111111100");
    assert_none("ref 4111 1111 1111 1111 1111 1111");
    // Luhn-valid placeholder.
    assert_none("card: 0000 0000 0000 0000");
}

#[test]
fn luhn_check() {
    assert!(is_card_number("4111111111111111"));
    assert!(is_card_number("5500-0000-0000-0004"));
    assert!(is_card_number("378282246310005"));
    assert!(!is_card_number("4111111111111112"));
    assert!(!is_card_number("1234567890123456"));
    // Luhn-valid but too short / too long.
    assert!(!is_card_number("42"));
    assert!(!is_card_number("41111111111111111111"));
}

#[test]
fn generic_secret_found() {
    assert_single(
        "password=hunter2xyz&user=bob",
        SecretKind::GenericSecret,
        "hunter2xyz",
    );
    assert_single(
        r#"{"db_password": "s3cr3t-Pa55", "user": "app"}"#,
        SecretKind::GenericSecret,
        "s3cr3t-Pa55",
    );
    assert_single(
        "API_KEY: 9f8e7d6c5b4a.\n",
        SecretKind::GenericSecret,
        "9f8e7d6c5b4a",
    );
}

#[test]
fn generic_secret_near_miss() {
    assert_none("the password policy requires twelve characters");
    assert_none("Error - password: incorrect!");
    assert_none("password=short1");
    assert_none("api_key=YOUR_API_KEY");
    assert_none(r#"{"password": "********", "token": null}"#);
    assert_none(r#"{"token": "https://example.com/oauth/token1"}"#);
    assert_none(r#"{"token_type": "Bearer", "passwordless": "enabled1"}"#);
}

#[test]
fn generic_key_keeps_specific_kind() {
    let token = jwt();
    assert_single(
        &format!(r#"{{"access_token": "{token}"}}"#),
        SecretKind::Jwt,
        &token,
    );
    // Letters-only, so the generic filter alone would have dropped it.
    let gitlab = cat(&["glpat", "-", "abcdefghij_klmnopqrs"]);
    assert_single(
        &format!("token={gitlab}\n"),
        SecretKind::GitlabToken,
        &gitlab,
    );
}

#[test]
fn redacts_mixed_json() {
    let gh = github_classic();
    let text = format!(
        r#"{{"user":"ana","card":"4111-1111-1111-1111","password":"pa55w0rd!x","gh":"{gh}","note":"ok"}}"#
    );
    let (out, count) = scanner().redact(&text).expect("secrets present");
    assert_eq!(count, 3);
    assert_eq!(
        out,
        r#"{"user":"ana","card":"[REDACTED:payment-card]","password":"[REDACTED:generic-secret]","gh":"[REDACTED:github-token]","note":"ok"}"#
    );
    // Markers are not themselves findings, so redaction is idempotent.
    assert_eq!(scanner().redact(&out), None);
}

#[test]
fn clean_kilobyte_is_clean() {
    let line = r#"{"id": 1042, "status": "shipped", "items": ["tea", "cups"], "note": "token bucket refilled at 12:30"} "#;
    let text = line.repeat(1024 / line.len() + 1);
    assert!(text.len() >= 1024);
    assert!(scanner().is_clean(&text));
    assert_eq!(scanner().find(&text), vec![]);
    assert_eq!(scanner().redact(&text), None);
}

#[test]
fn several_secrets_in_order() {
    let aws = cat(&["AKIA", "IOSFODNN7EXAMPLE"]);
    let gh = github_classic();
    let token = jwt();
    let text = format!("a {token} b {aws} c 4111111111111111 d {gh} e");
    let kinds: Vec<SecretKind> = scanner().find(&text).iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            SecretKind::Jwt,
            SecretKind::AwsAccessKey,
            SecretKind::PaymentCard,
            SecretKind::GithubToken
        ]
    );
    let found = scanner().find(&text);
    assert!(found.windows(2).all(|w| w[0].end <= w[1].start));
    assert_eq!(&text[found[1].start..found[1].end], aws);
}

#[test]
fn multibyte_text_around_secret() {
    let gh = github_classic();
    let text = format!("clé→{gh}ü 日本 password=пароль123 ✓");
    let found = scanner().find(&text);
    assert_eq!(found.len(), 2);
    for m in &found {
        assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
    }
    assert_eq!(&text[found[0].start..found[0].end], gh);
    assert_eq!(&text[found[1].start..found[1].end], "пароль123");
    let (out, _) = scanner().redact(&text).unwrap();
    assert_eq!(
        out,
        "clé→[REDACTED:github-token]ü 日本 password=[REDACTED:generic-secret] ✓"
    );
}

#[test]
fn url_passwords_found_and_only_the_password_reported() {
    let pw = cat(&["S3cr3t", "Passw0rd"]);
    assert_single(
        &format!(r#"{{"database_url": "postgres://orders:{pw}@db.internal:5432/orders"}}"#),
        SecretKind::UrlPassword,
        &pw,
    );
    assert_single(
        &format!("broker amqp://svc:{pw}@mq:5672/ ready"),
        SecretKind::UrlPassword,
        &pw,
    );
    let (redacted, n) = scanner()
        .redact(&format!("redis://cache:{pw}@10.0.0.5:6379"))
        .unwrap();
    assert_eq!(
        (redacted.as_str(), n),
        ("redis://cache:[REDACTED:url-password]@10.0.0.5:6379", 1)
    );
}

#[test]
fn url_passwords_near_miss() {
    assert_none("see https://example.com/a:b@c for details");
    assert_none("https://user@example.com/path");
    assert_none("http://example.com:8080/x");
}

/// The prefilter's stand-ins for the two patterns that start without a
/// literal (card numbers, URL passwords) see them at every offset and at
/// either end of the text, and let ordinary response content through
/// unscanned: dates, phone numbers, SKUs, links without user info.
#[test]
fn prefilter_sees_cards_and_url_passwords_anywhere_and_not_their_look_alikes() {
    let pw = cat(&["S3cr3t", "Passw0rd"]);
    let url = format!("postgres://orders:{pw}@db.internal:5432/orders");
    // The pattern's bounds count characters: a long password of multibyte
    // ones puts the `@` far more bytes than characters after `://`.
    let scanner = scanner();
    let wide = format!("postgres://u:{}@db/x", "ü".repeat(120));
    assert_single(&wide, SecretKind::UrlPassword, &"ü".repeat(120));
    for secret in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "3782 822463 10005",
        url.as_str(),
        wide.as_str(),
    ] {
        for pad in 0..24 {
            let lead = "ab ".repeat(pad / 3) + &"z".repeat(pad % 3);
            for text in [format!("{lead}{secret}"), format!("{secret}{lead}")] {
                let json = serde_json::json!({ "v": text }).to_string();
                for bytes in [text.as_bytes(), json.as_bytes()] {
                    assert!(scanner.may_match(bytes), "missed in {text:?}");
                }
            }
        }
    }
    let ordinary = serde_json::json!({
        "createdAt": "2026-11-26T10:00:00Z",
        "phone": "555-123-4567",
        "sku": "WID-0001",
        "ids": [1234567890, 4111, "12 345 67"],
        "self": "https://orders.example/v1/orders/42?page=2",
        "mail": "orders@acme.example",
        "notes": "Deliver between 0900 - 17 or call 0800 1111.",
    })
    .to_string();
    assert!(!scanner.may_match(ordinary.as_bytes()), "{ordinary}");
}
