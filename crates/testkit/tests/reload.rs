//! Hot reload under load: policies replaced many times, some invalid, while
//! clients keep calling. No request fails, a bad set is never applied, and
//! every decision is the one its snapshot's policies give (each names its
//! snapshot version), never a mix of old and new.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use portcullis_config::{Overrides, Storage};
use portcullis_example_orders::OrdersApi;
use portcullis_proxy::{DecisionEvent, Gateway, Reloader};
use portcullis_testkit::raw::{get, with_header};
use portcullis_testkit::{copy_example, send, tester};

/// Lets `tester` list orders.
const ALLOW: &str = "@id(\"tester-lists\")\npermit(principal == Identity::\"tester\", action == Action::\"orders:listOrders\", resource);\n";
/// Lets `tester` see only the summary: listing orders is denied.
const DENY: &str = "@id(\"tester-summary-only\")\npermit(principal == Identity::\"tester\", action == Action::\"orders:getOrderSummary\", resource);\n";
/// Does not validate: an action no contract declares.
const INVALID: &str = "permit(principal, action == Action::\"orders:listOrderz\", resource);\n";
/// Does not parse.
const BROKEN: &str = "permit(principal, action resource";

struct Setup {
    dir: PathBuf,
    overrides: Overrides,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn setup(name: &str, upstream: SocketAddr) -> Setup {
    let dir = std::env::temp_dir().join(format!("portcullis-reload-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_example(&dir);
    std::fs::remove_dir_all(dir.join("policies")).unwrap();
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    write_policy(&dir, ALLOW);
    // This test drives the one `tester` identity as hard as it can: the
    // example's per-identity rate limit would refuse some of that load, and
    // this test is about reloads, not limits.
    let config = std::fs::read_to_string(dir.join("portcullis.yaml")).unwrap();
    let unlimited = config.split("\nrate_limits:").next().unwrap();
    std::fs::write(dir.join("portcullis.yaml"), format!("{unlimited}\n")).unwrap();
    let overrides = Overrides {
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        storage: Some(Storage::Memory),
        admin: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        sealing_key: None,
        upstreams: vec![("orders".into(), format!("http://{upstream}"))],
    };
    Setup { dir, overrides }
}

fn write_policy(dir: &Path, text: &str) {
    // Written whole then renamed, as a deploy tool would: a reader never
    // sees half a file.
    let tmp = dir.join("policies/.next");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join("policies/tester.cedar")).unwrap();
}

/// The orders API and a gateway started from a copy of the example on disk,
/// with its reloader.
async fn start(name: &str) -> (OrdersApi, Setup, Gateway, Reloader) {
    let orders = OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let setup = setup(name, orders.addr());
    let path = setup.dir.join("portcullis.yaml");
    let (config, _) = portcullis_config::load(&path, &setup.overrides).unwrap();
    let gateway = Gateway::start(config).await.unwrap();
    let reloader = gateway.reloader(path, setup.overrides.clone());
    (orders, setup, gateway, reloader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_replaced_under_load_never_fail_or_mix_a_request() {
    let (orders, setup, gateway, reloader) = start("load").await;
    let key = tester(&gateway);
    let mut decisions = gateway.decisions();
    let addr = gateway.addr();

    // Clients: every response must be a decision of one policy set.
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let stop = Arc::clone(&stop);
        let request = with_header(&get("/orders/v1/orders"), "X-Api-Key", &key);
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = send(addr, &request).await;
                let id = r.header("x-request-id").unwrap_or_default().to_owned();
                seen.push((id, r.status));
            }
            seen
        }));
    }

    // The policy set of each version that was applied.
    let mut sets: HashMap<u64, &str> = HashMap::from([(1, "allow")]);
    let mut refused = 0;
    for round in 0..40 {
        let (text, valid, name) = match round % 5 {
            0 | 3 => (DENY, true, "deny"),
            1 | 4 => (ALLOW, true, "allow"),
            2 if round % 2 == 0 => (INVALID, false, "invalid"),
            _ => (BROKEN, false, "broken"),
        };
        write_policy(&setup.dir, text);
        let before = gateway.snapshot_version();
        match reloader.reload("test").await {
            Ok(version) => {
                assert!(valid, "{name} was applied");
                assert_eq!(version, before + 1);
                sets.insert(version, name);
            }
            Err(failure) => {
                assert!(!valid, "{name} was refused: {failure}");
                assert_eq!(
                    gateway.snapshot_version(),
                    before,
                    "a refused set changed the version"
                );
                refused += 1;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut responses = HashMap::new();
    for client in clients {
        for (id, status) in client.await.unwrap() {
            assert!(
                matches!(status, 200 | 403),
                "a request failed with {status}"
            );
            responses.insert(id, status);
        }
    }
    assert_eq!(refused, 8);
    let status = reloader.status();
    assert_eq!((status.applied, status.failed), (32, 8));
    assert_eq!(status.version, 33);

    let mut checked = 0;
    let mut versions_seen = std::collections::HashSet::new();
    while let Ok(event) = decisions.try_recv() {
        let DecisionEvent {
            request_id,
            snapshot,
            status,
            policies,
            ..
        } = event;
        let set = sets[&snapshot];
        let (want_status, want_policies): (u16, &[&str]) = match set {
            "allow" => (200, &["tester-lists"]),
            _ => (403, &[]),
        };
        let policies: Vec<&str> = policies.iter().map(String::as_str).collect();
        assert_eq!(
            (status, policies.as_slice()),
            (want_status, want_policies),
            "request {request_id} on snapshot {snapshot} ({set})"
        );
        if let Some(seen) = responses.get(&request_id) {
            assert_eq!(*seen, status, "the client saw what was decided");
            checked += 1;
        }
        versions_seen.insert(snapshot);
    }
    assert_eq!(checked, responses.len(), "every response has its decision");
    eprintln!(
        "{checked} requests decided over {} snapshots during 40 reloads",
        versions_seen.len()
    );
    assert!(
        versions_seen.len() > 5,
        "the load spanned many snapshots: {versions_seen:?}"
    );
    gateway.stop().await;
    orders.stop().await;
}

#[tokio::test]
async fn a_reload_that_needs_a_restart_is_refused_whole() {
    let (orders, setup, gateway, reloader) = start("restart").await;
    let path = reloader.path().to_owned();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("mount: /orders", "mount: /shop")).unwrap();
    write_policy(&setup.dir, DENY);
    let failure = reloader.reload("test").await.unwrap_err();
    assert!(
        failure.errors[0].contains("needs a restart to change: apis"),
        "{failure}"
    );
    assert_eq!(gateway.snapshot_version(), 1);
    // The policy change in the same reload was not applied either.
    let key = tester(&gateway);
    let r = send(
        gateway.addr(),
        &with_header(&get("/orders/v1/orders"), "X-Api-Key", &key),
    )
    .await;
    assert_eq!(r.status, 200);
    gateway.stop().await;
    orders.stop().await;
}
