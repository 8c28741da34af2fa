//! `portcullis identity ...` and `portcullis token issue` as a user runs
//! them: the real binary against a fresh copy of the orders example, so each
//! test has its own store.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A temporary copy of `examples/orders`, removed when dropped.
struct World {
    dir: PathBuf,
}

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        self
    }

    /// A human error: exit 1, one `error: ...` line, nothing on stdout.
    fn refused(&self) -> &Self {
        assert_eq!(self.code, Some(1), "stdout: {}", self.stdout);
        assert!(self.stdout.is_empty(), "{}", self.stdout);
        assert!(self.stderr.starts_with("error: "), "{}", self.stderr);
        assert_eq!(self.stderr.lines().count(), 1, "{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap()
    }
}

impl World {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "portcullis-identity-cli-{}-{name}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        portcullis_testkit::copy_example(&dir);
        Self { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("portcullis.yaml")
    }

    /// Runs `portcullis <args> -c <config>`.
    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(BIN)
            .args(args)
            .arg("-c")
            .arg(self.config())
            .output()
            .unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    fn show(&self, id: &str) -> Value {
        self.run(&["identity", "show", id, "--json"]).ok().json()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn state_of(list: &Value, id: &str) -> String {
    let found = list.as_array().unwrap().iter().find(|i| i["id"] == id);
    found.unwrap()["state"].as_str().unwrap().to_owned()
}

#[test]
fn list_shows_the_declared_identities() {
    let world = World::new("list");
    let table = world.run(&["identity", "list"]);
    table.ok();
    let header = table.stdout.lines().next().unwrap();
    for column in [
        "ID",
        "KIND",
        "STATE",
        "OWNER",
        "ENVIRONMENT",
        "SCOPES",
        "LAST USED",
    ] {
        assert!(header.contains(column), "{header}");
    }
    for id in ["reporting-agent", "fulfilment-service", "stale-bot"] {
        assert!(table.stdout.contains(id), "{}", table.stdout);
    }
    let list = world.run(&["identity", "list", "--json"]).ok().json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "fulfilment-service",
            "partner-connector",
            "reporting-agent",
            "stale-bot",
            "support-agent"
        ]
    );
    assert_eq!(list[2]["kind"], "agent");
    assert_eq!(list[2]["owner"], "team-analytics");
}

#[test]
fn add_then_show_and_add_twice_fails() {
    let world = World::new("add");
    let add = [
        "identity",
        "add",
        "nightly-build",
        "--kind",
        "ci-job",
        "--owner",
        "team-ci",
        "--env",
        "staging",
        "--scope",
        "orders:read",
        "--tag",
        "nightly",
        "--expires",
        "2099-01-31T00:00:00Z",
    ];
    world.run(&add).ok();
    let shown = world.show("nightly-build");
    assert_eq!(shown["kind"], "ci-job");
    assert_eq!(shown["state"], "active");
    assert_eq!(shown["owner"], "team-ci");
    assert_eq!(shown["environment"], "staging");
    assert_eq!(shown["scopes"], serde_json::json!(["orders:read"]));
    assert_eq!(shown["tags"], serde_json::json!(["nightly"]));
    assert_eq!(shown["expires"], "2099-01-31T00:00:00Z");
    assert_eq!(shown["credentials"], serde_json::json!([]));
    let text = world.run(&["identity", "show", "nightly-build"]);
    assert!(text.ok().stdout.contains("team-ci"), "{}", text.stdout);

    let again = world.run(&add);
    assert!(again.refused().stderr.contains("`nightly-build`"));
    // A declared identity exists too.
    let declared = world.run(&[
        "identity",
        "add",
        "stale-bot",
        "--kind",
        "agent",
        "--owner",
        "x",
        "--env",
        "y",
    ]);
    declared.refused();
}

#[test]
fn add_refuses_bad_input() {
    let world = World::new("add-bad");
    for args in [
        &[
            "identity", "add", "b", "--kind", "robot", "--owner", "o", "--env", "e",
        ][..],
        &[
            "identity",
            "add",
            "Not Valid",
            "--kind",
            "agent",
            "--owner",
            "o",
            "--env",
            "e",
        ],
        &[
            "identity",
            "add",
            "b",
            "--kind",
            "agent",
            "--owner",
            "o",
            "--env",
            "e",
            "--expires",
            "soon",
        ],
        &[
            "identity",
            "add",
            "b",
            "--kind",
            "agent",
            "--owner",
            "o",
            "--env",
            "e",
            "--expires",
            "2001-01-01T00:00:00Z",
        ],
    ] {
        world.run(args).refused();
    }
    let list = world.run(&["identity", "list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 5, "nothing was added");
}

#[test]
fn state_changes_show_in_the_list() {
    let world = World::new("state");
    world.run(&["identity", "suspend", "stale-bot"]).ok();
    let list = world.run(&["identity", "list", "--json"]).ok().json();
    assert_eq!(state_of(&list, "stale-bot"), "suspended");
    assert_eq!(state_of(&list, "reporting-agent"), "active");
    let table = world.run(&["identity", "list"]);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("stale-bot"))
        .unwrap();
    assert!(row.contains("suspended"), "{row}");

    for (command, state) in [
        ("quarantine", "quarantined"),
        ("resume", "active"),
        ("retire", "retired"),
    ] {
        world.run(&["identity", command, "stale-bot"]).ok();
        let list = world.run(&["identity", "list", "--json"]).ok().json();
        assert_eq!(state_of(&list, "stale-bot"), state, "{command}");
    }
}

#[test]
fn rotate_prints_a_client_secret_once_and_show_never_does() {
    let world = World::new("rotate");
    let rotated = world.run(&["identity", "rotate", "reporting-agent"]);
    rotated.ok();
    let secret = rotated.stdout.trim().to_owned();
    assert!(secret.starts_with("pcs_"), "{secret}");
    assert_eq!(
        rotated.stdout.lines().count(),
        1,
        "only the secret on stdout"
    );
    let everything = format!("{}{}", rotated.stdout, rotated.stderr);
    assert_eq!(everything.matches(&secret).count(), 1, "{everything}");
    assert!(rotated.stderr.contains("warning:"), "{}", rotated.stderr);

    let text = world.run(&["identity", "show", "reporting-agent"]);
    text.ok();
    let json = world.run(&["identity", "show", "reporting-agent", "--json"]);
    json.ok();
    for out in [&text, &json] {
        assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret));
        assert!(!out.stdout.contains("pcs_"), "{}", out.stdout);
    }
    let credentials = json.json()["credentials"].clone();
    assert_eq!(credentials.as_array().unwrap().len(), 1);
    assert_eq!(credentials[0]["kind"], "client-secret");
    assert_eq!(credentials[0]["usable"], true);
    assert_eq!(credentials[0]["long_lived"], false);
}

#[test]
fn rotate_again_keeps_the_old_secret_only_for_the_overlap() {
    let world = World::new("overlap");
    world.run(&["identity", "rotate", "reporting-agent"]).ok();
    world
        .run(&["identity", "rotate", "reporting-agent", "--overlap", "0"])
        .ok();
    let credentials = world.show("reporting-agent")["credentials"].clone();
    let usable: Vec<bool> = credentials
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["usable"].as_bool().unwrap())
        .collect();
    assert_eq!(usable.len(), 2);
    assert_eq!(usable.iter().filter(|u| **u).count(), 1, "{credentials}");

    world
        .run(&[
            "identity",
            "rotate",
            "reporting-agent",
            "--ttl",
            "2d",
            "--overlap",
            "10m",
        ])
        .ok();
    let credentials = world.show("reporting-agent")["credentials"].clone();
    let usable = credentials
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["usable"] == true)
        .count();
    assert_eq!(usable, 2, "the old one works for 10 minutes: {credentials}");
}

#[test]
fn rotate_api_key_prints_a_prefixed_key_flagged_long_lived() {
    let world = World::new("api-key");
    let rotated = world.run(&[
        "identity",
        "rotate",
        "fulfilment-service",
        "--kind",
        "api-key",
    ]);
    assert!(
        rotated.ok().stdout.trim().starts_with("pck_"),
        "{}",
        rotated.stdout
    );
    let shown = world.run(&["identity", "show", "fulfilment-service"]);
    assert!(!shown.ok().stdout.contains("pck_"));
    assert!(shown.stdout.contains("LONG-LIVED"), "{}", shown.stdout);
    let credentials = world.show("fulfilment-service")["credentials"].clone();
    assert_eq!(credentials[0]["kind"], "api-key");
    assert_eq!(credentials[0]["long_lived"], true);

    // A client secret living longer than 90 days is flagged too.
    world
        .run(&["identity", "rotate", "stale-bot", "--ttl", "365d"])
        .ok();
    assert_eq!(
        world.show("stale-bot")["credentials"][0]["long_lived"],
        true
    );
    world
        .run(&[
            "identity",
            "rotate",
            "stale-bot",
            "--kind",
            "private-key-jwt",
        ])
        .refused();
    world
        .run(&["identity", "rotate", "stale-bot", "--ttl", "forever"])
        .refused();
}

#[test]
fn token_issue_prints_a_jwt_with_only_granted_scopes() {
    let world = World::new("token");
    let issued = world.run(&[
        "token",
        "issue",
        "--identity",
        "reporting-agent",
        "--scope",
        "orders:read",
        "--scope",
        "customers:read",
        "--ttl",
        "2m",
    ]);
    let token = issued.ok().stdout.trim().to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["sub"], "reporting-agent");
    assert_eq!(claims["aud"], "orders");
    assert_eq!(claims["scope"], "orders:read customers:read");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );

    let ungranted = world.run(&[
        "token",
        "issue",
        "--identity",
        "reporting-agent",
        "--scope",
        "orders:write",
    ]);
    assert!(ungranted.refused().stderr.contains("`orders:write`"));
    world
        .run(&[
            "token",
            "issue",
            "--identity",
            "reporting-agent",
            "--scope",
            "orders:read",
            "--api",
            "billing",
        ])
        .refused();

    world.run(&["identity", "suspend", "stale-bot"]).ok();
    world
        .run(&[
            "token",
            "issue",
            "--identity",
            "stale-bot",
            "--scope",
            "orders:read",
        ])
        .refused();
}

#[test]
fn an_unknown_identity_is_a_clear_error() {
    let world = World::new("unknown");
    for args in [
        &["identity", "show", "ghost"][..],
        &["identity", "suspend", "ghost"],
        &["identity", "resume", "ghost"],
        &["identity", "rotate", "ghost"],
        &[
            "token",
            "issue",
            "--identity",
            "ghost",
            "--scope",
            "orders:read",
        ],
    ] {
        let run = world.run(args);
        assert!(run.refused().stderr.contains("`ghost`"), "{}", run.stderr);
    }
}

#[test]
fn a_bad_configuration_is_reported_with_its_diagnostics() {
    let world = World::new("bad-config");
    let text = std::fs::read_to_string(world.config())
        .unwrap()
        .replace("mount: /orders ", "mount: /orders/ ");
    std::fs::write(world.config(), text).unwrap();
    for args in [
        &["identity", "list"][..],
        &["identity", "rotate", "reporting-agent"],
        &[
            "token",
            "issue",
            "--identity",
            "reporting-agent",
            "--scope",
            "orders:read",
        ],
    ] {
        let run = world.run(args);
        assert_eq!(run.code, Some(1));
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr.contains("portcullis.yaml:") && run.stderr.contains("error:"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert!(
        !world.dir.join("portcullis.db").exists(),
        "nothing is opened when the configuration does not load"
    );
}

#[test]
fn an_identity_upstream_credential_is_sealed_at_rest() {
    let world = World::new("upstream-credential");
    let secret_file = world.dir.join("partner.secret");
    std::fs::write(&secret_file, "partner-only-upstream-value\n").unwrap();
    let from = format!("file:{}", secret_file.display());
    let set = [
        "identity",
        "upstream-credential",
        "partner-connector",
        "--api",
        "orders",
        "--from",
    ];
    // Never a literal on the command line.
    world
        .run(&[&set[..], &["partner-only-upstream-value"]].concat())
        .refused();
    // No sealing key configured: refused, nothing stored.
    world.run(&[&set[..], &[from.as_str()]].concat()).refused();
    std::fs::write(
        world.dir.join("sealing.key"),
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n",
    )
    .unwrap();
    let mut config = std::fs::read_to_string(world.config()).unwrap();
    config.push_str("sealing_key: 'file:sealing.key'\n");
    std::fs::write(world.config(), config).unwrap();
    world.run(&[&set[..], &[from.as_str()]].concat()).ok();
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(&world.dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("portcullis.db") {
            stored.extend(std::fs::read(path).unwrap());
        }
    }
    assert!(!stored.is_empty());
    assert!(
        !stored
            .windows(27)
            .any(|w| w == b"partner-only-upstream-value"),
        "the store holds ciphertext only"
    );
    world
        .run(&[
            "identity",
            "upstream-credential",
            "partner-connector",
            "--api",
            "orders",
            "--remove",
        ])
        .ok();
}
