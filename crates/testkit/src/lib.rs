//! The fixture world for integration tests: the bundled orders API on
//! 127.0.0.1:0 with a gateway in front of it on 127.0.0.1:0, and a raw HTTP
//! client that sends exactly the bytes it is given (no client-side path
//! normalisation), so tests can send what a hostile caller would.
//!
//! Dev-only: nothing in the product depends on this crate.

#![expect(
    clippy::panic,
    reason = "a fixture that cannot start must fail the test loudly"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use portcullis_config::{Config, Disk, Files, Overrides, load_from};
use portcullis_contract::Source;
use portcullis_example_orders::OrdersApi;
use portcullis_proxy::Gateway;

pub mod books;
pub mod browser;
pub mod cut;
pub mod echo;
pub mod mcp;
pub mod pg;
pub mod process;
pub mod raw;
pub mod served;

pub use portcullis_example_orders::{ECHO_TARGET_HEADER, seed};
pub use raw::{RawResponse, send};

/// The folder holding the example API's contract and configuration.
pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders")
}

/// Copies the example (configuration, contract, inventory, policies) into
/// `dir`, so a test can run the real binary on a store of its own.
pub fn copy_example(dir: &std::path::Path) {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
        let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                copy(&path, &to.join(&name));
            } else if !name.to_string_lossy().ends_with(".db") {
                std::fs::copy(&path, to.join(&name))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
    copy(&examples_dir(), dir);
}

/// A copy of the example in a folder of its own under the system's
/// temporary folder (named after the process and `name`), removed when
/// dropped: what a test runs the real binary on, so nothing it makes lands
/// in `examples/`.
#[derive(Debug)]
pub struct ExampleCopy(PathBuf);

impl ExampleCopy {
    pub fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("portcullis-example-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_example(&dir);
        Self(dir)
    }
}

impl ExampleCopy {
    /// A copy whose configuration listens on free loopback ports (gateway
    /// and admin) and sends the `orders` API to `upstream`: what `serve`
    /// and the CLI run on in a test.
    pub fn serving(name: &str, upstream: &str) -> Self {
        let copy = Self::new(name);
        let path = copy.config();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .replace("127.0.0.1:8080", "127.0.0.1:0")
            .replace("127.0.0.1:8081", "127.0.0.1:0")
            .replace("http://127.0.0.1:9000", upstream);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        copy
    }

    /// Its configuration file.
    pub fn config(&self) -> PathBuf {
        self.0.join("portcullis.yaml")
    }
}

impl std::ops::Deref for ExampleCopy {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for ExampleCopy {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ExampleCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The example configuration text, without its `watch:` section: tests of
/// the other stages send refusals in the numbers the watch answers with a
/// quarantine. Tests of the watch add their own (`tests/watch*.rs`).
pub fn example_config() -> String {
    without_section(&example_config_watched(), "watch")
}

/// The example configuration text as shipped, `watch:` included.
pub fn example_config_watched() -> String {
    std::fs::read_to_string(examples_dir().join("portcullis.yaml")).unwrap_or_default()
}

/// `config` without its top-level section `key` (and the comments just
/// above the next section stay): to replace one section in a test.
pub fn without_section(config: &str, key: &str) -> String {
    let mut skipping = false;
    let kept: Vec<&str> = config
        .lines()
        .filter(|line| {
            if line.starts_with(&format!("{key}:")) {
                skipping = true;
            } else if !line.starts_with(' ') && !line.trim().is_empty() {
                skipping = false;
            }
            !skipping
        })
        .collect();
    kept.join("\n") + "\n"
}

/// The policy every test world adds to its configuration's: identities the
/// test suite made (owner `test-suite`, as [`tester`] is) may call every
/// operation, so tests of other stages reach them. Every other identity is
/// decided by the configuration's own policies.
pub const TESTER_POLICY: &str = "@id(\"testkit-test-suite\")\npermit(principal, action, resource)\n  when { principal.owner == \"test-suite\" };\n";

const TESTER_POLICY_FILE: &str = "zz-testkit-tester.cedar";
/// The policy folder of a test configuration that names none.
const TESTKIT_POLICIES: &str = "testkit-policies";

/// A configuration given as text, with every other file read from a folder,
/// and [`TESTER_POLICY`] added to the policy folder.
struct Overlay {
    config: String,
    disk: Disk,
}

impl Overlay {
    fn new(config_text: &str, dir: &std::path::Path) -> Self {
        let names_policies = config_text.lines().any(|l| l.starts_with("policies:"));
        let config = if names_policies {
            config_text.to_owned()
        } else {
            format!("{config_text}\npolicies: {TESTKIT_POLICIES}/\n")
        };
        Self {
            config,
            disk: Disk::new(dir),
        }
    }
}

impl Source for Overlay {
    fn read(&self, path: &str) -> Result<String, String> {
        if path == "test-config.yaml" {
            Ok(self.config.clone())
        } else if path.ends_with(TESTER_POLICY_FILE) {
            Ok(TESTER_POLICY.to_owned())
        } else {
            self.disk.read(path)
        }
    }
}

impl Files for Overlay {
    fn base_dir(&self) -> Option<&std::path::Path> {
        self.disk.base_dir()
    }

    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, String> {
        let mut names = if dir.trim_end_matches('/') == TESTKIT_POLICIES {
            Vec::new()
        } else {
            self.disk.list(dir, suffix)?
        };
        names.push(format!(
            "{}/{TESTER_POLICY_FILE}",
            dir.trim_end_matches('/')
        ));
        Ok(names)
    }
}

/// The orders API and a gateway in front of it.
#[derive(Debug)]
pub struct World {
    pub gateway: Gateway,
    pub orders: OrdersApi,
    /// An API key of the `tester` identity, which holds every scope.
    pub key: String,
}

impl World {
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway.addr()
    }

    pub fn upstream_addr(&self) -> SocketAddr {
        self.orders.addr()
    }

    /// Sends raw request bytes to the gateway as the `tester` identity.
    pub async fn gateway(&self, request: &[u8]) -> RawResponse {
        send(
            self.gateway_addr(),
            &raw::with_header(request, "X-Api-Key", &self.key),
        )
        .await
    }

    /// Sends raw request bytes to the gateway exactly as given (no credential added).
    pub async fn gateway_anonymous(&self, request: &[u8]) -> RawResponse {
        send(self.gateway_addr(), request).await
    }

    /// `POST /oauth/token` with the form `body`, and `authorization` when
    /// given (a [`raw::basic`] value, say).
    pub async fn token_request(&self, authorization: Option<&str>, body: &str) -> RawResponse {
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if let Some(value) = authorization {
            headers.push(("Authorization", value));
        }
        let bytes = raw::request("POST", "/oauth/token", &headers, body.as_bytes());
        self.gateway_anonymous(&bytes).await
    }

    /// Sends raw request bytes straight to the orders API.
    pub async fn direct(&self, request: &[u8]) -> RawResponse {
        send(self.upstream_addr(), request).await
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
        self.orders.stop().await;
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The folder of test-only contracts (`echo.yaml`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Loads `config_text` (a configuration like the example's) with the gateway
/// on port 0 and the `orders` API pointed at `upstream`.
pub fn config(config_text: &str, upstream: &str) -> Config {
    config_in(&examples_dir(), config_text, "orders", upstream)
}

/// Loads `config_text`, reading contracts from `dir`, with the gateway on
/// port 0 and API `api` pointed at `upstream`.
pub fn config_in(dir: &std::path::Path, config_text: &str, api: &str, upstream: &str) -> Config {
    config_with(dir, config_text, &[(api, upstream)])
}

/// Loads `config_text`, reading contracts from `dir`, with the gateway on
/// port 0 and each (api, upstream URL) pair overriding that API's upstream.
pub fn config_with(dir: &std::path::Path, config_text: &str, upstreams: &[(&str, &str)]) -> Config {
    config_stored(
        dir,
        config_text,
        upstreams,
        portcullis_config::Storage::Memory,
    )
}

/// As [`config_with`], with the store given (a file, to test restarts).
pub fn config_stored(
    dir: &std::path::Path,
    config_text: &str,
    upstreams: &[(&str, &str)],
    storage: portcullis_config::Storage,
) -> Config {
    let files = Overlay::new(config_text, dir);
    let overrides = Overrides {
        listen: Some(loopback()),
        storage: Some(storage),
        admin: Some(loopback()),
        sealing_key: None,
        upstreams: upstreams
            .iter()
            .map(|(a, u)| ((*a).to_owned(), (*u).to_owned()))
            .collect(),
    };
    match load_from(&files, "test-config.yaml", &overrides) {
        Ok((config, _)) => config,
        Err(diagnostics) => {
            let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            panic!("test configuration does not load:\n{}", lines.join("\n"))
        }
    }
}

/// The example world: the orders API behind the example configuration.
pub async fn spawn() -> World {
    spawn_with(&example_config()).await
}

/// The orders API behind a gateway running `config_text`.
pub async fn spawn_with(config_text: &str) -> World {
    spawn_clocked(config_text, Arc::new(portcullis_core::SystemClock)).await
}

/// The example world with the gateway's clock stopped at `time` (Unix
/// seconds): tokens, identity expiry and policy context all read it.
pub async fn spawn_at(time: portcullis_core::UnixTime) -> World {
    spawn_clocked(
        &example_config(),
        Arc::new(portcullis_core::FixedClock(time)),
    )
    .await
}

/// The orders API behind a gateway running `config_text`, every file it
/// names read from `dir` (a copy of the example with files added, say).
pub async fn spawn_in(dir: &std::path::Path, config_text: &str) -> World {
    let clock = Arc::new(portcullis_core::SystemClock);
    spawn_from(
        dir,
        config_text,
        clock,
        None,
        portcullis_config::Storage::Memory,
    )
    .await
}

/// The orders API behind a gateway running `config_text`, its files read
/// from `dir`, its store the SQLite file `portcullis.db` there and its
/// ledger `audit.db` beside it: what survives a restart (stop the world,
/// spawn again on the same folder).
pub async fn spawn_stored(dir: &std::path::Path, config_text: &str) -> World {
    let storage = portcullis_config::Storage::Sqlite(dir.join("portcullis.db"));
    let clock = Arc::new(portcullis_core::SystemClock);
    spawn_from(dir, config_text, clock, None, storage).await
}

/// The example world, its `delegation:` issuers' key sets fetched from
/// `jwks_url` (a test IdP's, as `portcullis demo` points them at its own).
pub async fn spawn_with_idp(jwks_url: &str) -> World {
    let clock = Arc::new(portcullis_core::SystemClock);
    spawn_from(
        &examples_dir(),
        &example_config(),
        clock,
        Some(jwks_url),
        portcullis_config::Storage::Memory,
    )
    .await
}

async fn spawn_clocked(config_text: &str, clock: Arc<dyn portcullis_core::Clock>) -> World {
    spawn_from(
        &examples_dir(),
        config_text,
        clock,
        None,
        portcullis_config::Storage::Memory,
    )
    .await
}

async fn spawn_from(
    dir: &std::path::Path,
    config_text: &str,
    clock: Arc<dyn portcullis_core::Clock>,
    jwks_url: Option<&str>,
    storage: portcullis_config::Storage,
) -> World {
    let orders = OrdersApi::start(loopback())
        .await
        .unwrap_or_else(|e| panic!("orders API: {e}"));
    let upstream = format!("http://{}", orders.addr());
    let mut config = config_stored(dir, config_text, &[("orders", upstream.as_str())], storage);
    if let Some(url) = jwks_url {
        for issuer in config.delegation.iter_mut().flat_map(|d| &mut d.issuers) {
            issuer.jwks = portcullis_config::JwksSource::Url(url.to_owned());
        }
    }
    let gateway = Gateway::start_with_clock(config, clock)
        .await
        .unwrap_or_else(|e| panic!("gateway: {e}"));
    let key = tester(&gateway);
    World {
        gateway,
        orders,
        key,
    }
}

/// The echo upstream and a gateway in front of it mounted at `/echo-api`.
#[derive(Debug)]
pub struct EchoWorld {
    pub gateway: Gateway,
    pub echo: echo::Echo,
    /// An API key of the `tester` identity.
    pub key: String,
}

impl EchoWorld {
    /// Sends raw request bytes as the `tester` identity.
    pub async fn gateway(&self, request: &[u8]) -> RawResponse {
        send(
            self.gateway.addr(),
            &raw::with_header(request, "X-Api-Key", &self.key),
        )
        .await
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
    }
}

/// The echo world; `extra` is YAML appended to the `echo` API entry
/// (indented four spaces), e.g. `"    timeouts: {response: 300ms}\n"`.
pub async fn spawn_echo(extra: &str) -> EchoWorld {
    spawn_echo_config(&format!(
        "apis:\n  - name: echo\n    contract: echo.yaml\n    mount: /echo-api\n    upstream: http://127.0.0.1:1\n{extra}"
    ))
    .await
}

/// The echo world with a whole configuration text (its API must be named `echo`).
pub async fn spawn_echo_config(config_text: &str) -> EchoWorld {
    let echo = echo::Echo::start()
        .await
        .unwrap_or_else(|e| panic!("echo upstream: {e}"));
    let config = config_in(
        &fixtures_dir(),
        config_text,
        "echo",
        &format!("http://{}", echo.addr),
    );
    let gateway = Gateway::start(config)
        .await
        .unwrap_or_else(|e| panic!("gateway: {e}"));
    let key = tester(&gateway);
    EchoWorld { gateway, echo, key }
}

/// Adds the `tester` identity (every scope the gateway's contracts name) and
/// returns a new API key for it.
pub fn tester(gateway: &Gateway) -> String {
    identity_with_key(gateway, "tester", None)
}

/// Adds an identity of the test suite (owner `test-suite`, so
/// [`TESTER_POLICY`] permits it everything) holding `scopes` (every scope
/// the gateway's contracts name when `None`), and returns an API key for it.
pub fn identity_with_key(gateway: &Gateway, id: &str, scopes: Option<&[&str]>) -> String {
    let authority = gateway.authority();
    let identity = portcullis_core::Identity {
        id: id.to_owned(),
        kind: portcullis_core::IdentityKind::Service,
        owner: "test-suite".to_owned(),
        environment: "test".to_owned(),
        tags: Vec::new(),
        scopes: scopes.map_or_else(
            || authority.scopes().to_vec(),
            |s| s.iter().map(|s| (*s).to_owned()).collect(),
        ),
        state: portcullis_core::IdentityState::Active,
        created: authority.now(),
        expires: None,
        last_used: None,
    };
    authority
        .put_identity(&identity)
        .unwrap_or_else(|e| panic!("identity {id}: {e}"));
    authority
        .create_secret(id, portcullis_store::CredentialKind::ApiKey, 3600, None)
        .unwrap_or_else(|e| panic!("key of {id}: {e}"))
        .secret
}

/// Every request id recorded in one chain of `ledger`, oldest to newest:
/// what a test checks answered requests against.
pub fn recorded_request_ids(
    ledger: &portcullis_store::ledger::Ledger,
) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut after = 0;
    loop {
        let batch = ledger
            .records_after(after, 1_000)
            .unwrap_or_else(|e| panic!("reading the ledger: {e}"));
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for record in batch {
            let body = record
                .decode()
                .unwrap_or_else(|e| panic!("record {}: {e}", record.seq));
            ids.insert(body.entry.request_id);
        }
    }
    ids
}
