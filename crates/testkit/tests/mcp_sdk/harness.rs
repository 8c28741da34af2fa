//! The harness of `mcp_sdk.rs`: the interpreter with the pinned SDK (a
//! virtualenv made once, under a lock), running the client script with a
//! plan, and comparing its answers with the HTTP path's.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use portcullis_store::CredentialKind;
use portcullis_testkit::World;
use portcullis_testkit::raw::{self, RawResponse};
use serde_json::{Value, json};

/// The pinned SDK and everything it pulls in.
pub(super) const REQUIREMENTS: &str = include_str!("requirements.txt");
/// The most one run of the client script may take before it is killed.
pub(super) const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// The most creating the virtualenv and installing the SDK may take.
pub(super) const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

// ---- the interpreter -------------------------------------------------------

/// The interpreter with the SDK: `PORTCULLIS_MCP_PYTHON`, or the
/// virtualenv this test keeps (made once per process, under a lock shared
/// with other test processes).
pub(super) fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| match std::env::var_os("PORTCULLIS_MCP_PYTHON") {
            Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
            _ => ensure_venv(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("mcp-sdk-venv")),
        })
        .clone()
        .unwrap_or_else(|e| panic!("the MCP Python SDK is not available: {e}"))
}

/// Makes `dir` a virtualenv with [`REQUIREMENTS`] installed, unless it
/// already is one (it keeps a copy of the requirements it was made from).
pub(super) fn ensure_venv(dir: &Path) -> Result<PathBuf, String> {
    let parent = dir.parent().ok_or("the virtualenv has no parent folder")?;
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let lock_path = dir.with_extension("lock");
    let lock =
        std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    // Other test binaries (and threads here) wait while one installs.
    lock.lock()
        .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let python = dir.join("bin").join("python");
    let stamp = dir.join("requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == REQUIREMENTS) {
        return Ok(python);
    }
    let _ = std::fs::remove_dir_all(dir);
    let mut venv = Command::new("python3");
    venv.arg("-m").arg("venv").arg(dir);
    run(venv, None, INSTALL_TIMEOUT).map_err(|e| format!("`python3 -m venv`: {e}"))?;
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_sdk/requirements.txt");
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        "-r",
    ])
    .arg(&requirements);
    run(pip, None, INSTALL_TIMEOUT)
        .map_err(|e| format!("`pip install -r requirements.txt`: {e}"))?;
    std::fs::write(&stamp, REQUIREMENTS).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(python)
}

/// Runs `command` with `input` on its standard input, killing it after
/// `timeout`; its standard output when it exits with 0.
pub(super) fn run(
    mut command: Command,
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<String, String> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    if let Some(input) = input {
        stdin
            .write_all(input)
            .map_err(|e| format!("writing its input: {e}"))?;
    }
    drop(stdin);
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(out),
        Some(s) => Err(format!("{s}\n--- stdout\n{out}\n--- stderr\n{err}")),
        None => Err(format!(
            "killed after {timeout:?}\n--- stdout\n{out}\n--- stderr\n{err}"
        )),
    }
}

// ---- the client script -----------------------------------------------------

/// One SDK session of a plan: who, how it connects, what it does.
pub(super) struct Session {
    pub(super) label: &'static str,
    pub(super) identity: &'static str,
    /// `auto` (the SDK's default: probe `server/discover`, fall back to
    /// `initialize`) or `legacy` (`initialize` straight away).
    pub(super) mode: &'static str,
    pub(super) steps: Vec<Value>,
}

pub(super) fn list() -> Value {
    json!({"op": "list_tools"})
}

pub(super) fn call(name: &str, arguments: Value) -> Value {
    json!({"op": "call", "name": name, "arguments": arguments})
}

/// What the script saw, per session label; each session's API key too.
pub(super) struct Observed {
    pub(super) sdk: Value,
    pub(super) sessions: Vec<(Value, String)>,
}

impl Observed {
    pub(super) fn session(&self, label: &str) -> &Value {
        &self
            .sessions
            .iter()
            .find(|(s, _)| s["label"] == label)
            .unwrap_or_else(|| panic!("no session {label}"))
            .0
    }

    pub(super) fn key(&self, label: &str) -> &str {
        &self
            .sessions
            .iter()
            .find(|(s, _)| s["label"] == label)
            .unwrap()
            .1
    }

    /// The `index`th step of session `label`, which must have succeeded.
    pub(super) fn step(&self, label: &str, index: usize) -> &Value {
        let step = &self.session(label)["steps"][index];
        assert!(
            step.get("error").is_none(),
            "{label} step {index} raised in the SDK: {step}"
        );
        step
    }

    /// The tool result of the `index`th step of session `label`.
    pub(super) fn result(&self, label: &str, index: usize) -> &Value {
        let result = &self.step(label, index)["result"];
        assert!(result.is_object(), "{label} step {index}: {result}");
        result
    }
}

pub(super) fn key(world: &World, identity: &str) -> String {
    world
        .gateway
        .authority()
        .create_secret(identity, CredentialKind::ApiKey, 3600, None)
        .unwrap()
        .secret
}

/// Runs the client script on `sessions` against `world`, each session with a
/// new API key of its identity; fails the test on anything but a clean run
/// with every session connected.
pub(super) async fn drive(world: &World, sessions: Vec<Session>) -> Observed {
    let keys: Vec<String> = sessions.iter().map(|s| key(world, s.identity)).collect();
    let plan = json!({
        "url": format!("http://{}/mcp", world.gateway_addr()),
        "sessions": sessions.iter().zip(&keys).map(|(s, k)| json!({
            "label": s.label,
            "api_key": k,
            "mode": s.mode,
            "steps": s.steps,
        })).collect::<Vec<_>>(),
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_sdk/client.py");
    // Blocking work off the runtime, which keeps serving the gateway.
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(python());
        command
            .arg(script)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("NO_PROXY", "127.0.0.1");
        run(command, Some(plan.to_string().as_bytes()), CLIENT_TIMEOUT)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("the MCP SDK client script failed: {e}"));
    let document: Value = serde_json::from_str(output.trim())
        .unwrap_or_else(|e| panic!("the client script printed no JSON ({e}): {output}"));
    let pinned = REQUIREMENTS
        .lines()
        .find_map(|l| l.trim().strip_prefix("mcp=="))
        .unwrap();
    assert_eq!(
        document["sdk"]["mcp"], pinned,
        "the interpreter's SDK is not the pinned one"
    );
    let observed: Vec<Value> = document["sessions"].as_array().unwrap().clone();
    for s in &observed {
        assert!(
            s.get("error").is_none(),
            "session {} failed in the SDK: {}\n{}",
            s["label"],
            s["error"],
            s["traceback"].as_str().unwrap_or_default()
        );
    }
    Observed {
        sdk: document["sdk"].clone(),
        sessions: observed.into_iter().zip(keys).collect(),
    }
}

// ---- the HTTP path ----------------------------------------------------------

/// The same request through the gateway's HTTP path, as `key`'s identity.
pub(super) async fn http(
    world: &World,
    key: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> RawResponse {
    let mut headers = vec![("X-Api-Key", key)];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    raw::send(
        world.gateway_addr(),
        &raw::request(
            method,
            target,
            &headers,
            body.unwrap_or_default().as_bytes(),
        ),
    )
    .await
}

/// A successful tool result whose structured content is exactly the HTTP
/// answer's JSON body (status included).
pub(super) fn assert_same_answer(what: &str, result: &Value, answer: &RawResponse) {
    assert_eq!(answer.status / 100, 2, "{what}: HTTP {}", answer.text());
    assert!(answer.json().is_object(), "{what}: HTTP {}", answer.text());
    assert_eq!(result["isError"], false, "{what}: {result}");
    assert_eq!(
        result["_meta"]["portcullis/status"], answer.status,
        "{what}: {result}"
    );
    assert_eq!(result["structuredContent"], answer.json(), "{what}");
    // The text block is the same document.
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, answer.json(), "{what}: text content");
}

/// A refused tool result whose problem is the HTTP refusal's, field for
/// field but `instance` (each request's own id).
pub(super) fn assert_same_problem(what: &str, result: &Value, answer: &RawResponse, code: &str) {
    assert_eq!(
        answer.code().as_deref(),
        Some(code),
        "{what}: HTTP {}",
        answer.text()
    );
    assert_eq!(result["isError"], true, "{what}: {result}");
    assert_eq!(
        result["_meta"]["portcullis/status"], answer.status,
        "{what}: {result}"
    );
    let without_instance = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("instance");
        v
    };
    let problem = &result["structuredContent"];
    assert_eq!(problem["code"], code, "{what}: {result}");
    assert_eq!(
        without_instance(problem),
        without_instance(&answer.json()),
        "{what}: the MCP problem differs from the HTTP path's"
    );
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&text, problem, "{what}: text content");
}

pub(super) fn tool_names(step: &Value) -> BTreeSet<String> {
    step["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

pub(super) fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

// ---- the tests ---------------------------------------------------------------

pub(super) const READER_TOOLS: [&str; 5] = [
    "orders_getOrder",
    "orders_getOrderSummary",
    "orders_listCustomerOrders",
    "orders_listOrderItems",
    "orders_listOrders",
];
pub(super) const PARTNER_TOOLS: [&str; 2] = ["orders_getOrderSummary", "orders_listCustomerOrders"];
