//! `portcullis token exchange` and `portcullis explain --on-behalf-of` as a
//! user runs them: the real binary against a copy of the orders example whose
//! delegation issuer is the demo's IdP, started here on loopback.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::process::{Command, Output};

use base64::Engine as _;
use portcullis_example_orders::demo_idp::DemoIdp;
use portcullis_example_orders::seed::{CUSTOMER_ACME, CUSTOMER_GLOBEX};
use portcullis_testkit::ExampleCopy;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn run(dir: &ExampleCopy, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("-c")
        .arg(dir.join("portcullis.yaml"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// Multi-threaded: the IdP answers the gateway's key fetch while the test
// waits on the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_exchanges_a_persons_token_and_explain_decides_for_her() {
    let idp = DemoIdp::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let dir = ExampleCopy::new("token-exchange-cli");
    let config = std::fs::read_to_string(dir.join("portcullis.yaml")).unwrap();
    let config = config.replace("http://127.0.0.1:9100/jwks.json", &idp.jwks_url());
    std::fs::write(dir.join("portcullis.yaml"), config).unwrap();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let alice = idp
        .person_token("alice", CUSTOMER_ACME, "orders:read", now)
        .unwrap();

    let exchange = |identity: &str, scope: &str| {
        run(
            &dir,
            &[
                "token",
                "exchange",
                "--identity",
                identity,
                "--subject-token",
                &alice,
                "--scope",
                scope,
            ],
        )
    };
    let out = exchange("support-agent", "orders:read");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["act"]["sub"], "support-agent");
    assert_eq!(claims["person"]["claims"]["tenant"], CUSTOMER_ACME);
    assert!(
        text(&out.stderr).contains("acting for `alice`"),
        "{}",
        text(&out.stderr)
    );

    // Refusals say why, on one line, and print no token.
    for (identity, scope, why) in [
        ("reporting-agent", "orders:read", "may not act for others"),
        (
            "support-agent",
            "orders:write",
            "scope `orders:write` is not allowed by the subject token",
        ),
    ] {
        let out = exchange(identity, scope);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        assert!(text(&out.stderr).contains(why), "{}", text(&out.stderr));
    }

    // explain: the same request decided for alice of ACME, of GLOBEX, and for no one.
    let orders_of = |c: &str| format!("GET /orders/v1/customers/{c}/orders");
    let explain = |request: &str, extra: &[&str]| {
        let mut args = vec![
            "explain",
            "--identity",
            "support-agent",
            "--request",
            request,
        ];
        args.extend_from_slice(extra);
        run(&dir, &args).status.code()
    };
    let acme = format!(r#"{{"tenant":"{CUSTOMER_ACME}"}}"#);
    let globex = format!(r#"{{"tenant":"{CUSTOMER_GLOBEX}"}}"#);
    let own = orders_of(CUSTOMER_ACME);
    assert_eq!(
        explain(&own, &["--on-behalf-of", "alice", "--claims", &acme]),
        Some(0)
    );
    assert_eq!(
        explain(&own, &["--on-behalf-of", "bob", "--claims", &globex]),
        Some(1)
    );
    assert_eq!(explain(&own, &[]), Some(1));
    // Claims the configuration does not map, or of the wrong type: a wrong question.
    assert_eq!(
        explain(
            &own,
            &["--on-behalf-of", "alice", "--claims", r#"{"nope":1}"#]
        ),
        Some(2)
    );
    assert_eq!(
        explain(
            &own,
            &["--on-behalf-of", "alice", "--claims", r#"{"tenant":1}"#]
        ),
        Some(2)
    );
    let json = run(
        &dir,
        &[
            "explain",
            "--identity",
            "support-agent",
            "--request",
            &own,
            "--on-behalf-of",
            "alice",
            "--claims",
            &acme,
            "--json",
        ],
    );
    let shown: Value = serde_json::from_slice(&json.stdout).unwrap();
    let cedar = shown.to_string();
    assert!(cedar.contains("Person::\\\"alice\\\""), "{cedar}");
    assert!(cedar.contains("support-for-own-tenant"), "{cedar}");
}
