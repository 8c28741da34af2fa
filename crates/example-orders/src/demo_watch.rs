//! The demo's misbehaving client: an agent that probes the contract's edges
//! until the watch quarantines it, run once when the demo starts, and the
//! lines that show the alerts and the release on the admin listener.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The identity the demo makes for it (not in `identities.yaml`: `verify`
/// checks the demo as the inventory's identities, and this one is
/// quarantined on purpose).
pub const IDENTITY: &str = "crawler-agent";

/// Undeclared routes it tries: with the example's probing detector (10 a
/// minute; alert, throttle, quarantine) the third ten quarantine it.
pub const PROBES: usize = 30;

/// Sends the probes to the gateway at `gateway` with API key `key`; returns
/// each answer's status.
///
/// # Errors
/// The gateway could not be reached.
pub async fn misbehave(gateway: SocketAddr, key: &str) -> std::io::Result<Vec<u16>> {
    let mut statuses = Vec::with_capacity(PROBES);
    for i in 0..PROBES {
        let target = format!(
            "/orders/v1/{}",
            GUESSES.get(i % GUESSES.len()).unwrap_or(&"x")
        );
        statuses.push(get(gateway, &format!("{target}?try={i}"), key).await?);
    }
    Ok(statuses)
}

/// Paths an agent hunting for a permissive route might try.
const GUESSES: [&str; 10] = [
    "admin",
    "debug",
    ".env",
    "internal/orders",
    "export",
    "users",
    "config",
    "orders.json",
    "v2",
    "graphql",
];

/// One GET on its own connection; the status.
async fn get(gateway: SocketAddr, target: &str, key: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(gateway).await?;
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {gateway}\r\nX-Api-Key: {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let status = answer
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok());
    status.ok_or_else(|| std::io::Error::other("not an HTTP answer"))
}

/// What the banner prints about it: its key, its refused next request, its
/// alerts and how an admin releases it (`admin`: the admin listener).
pub fn lines(gateway: &str, admin: SocketAddr, key: &str) -> Vec<String> {
    let base = format!("http://{admin}/admin/v1");
    vec![
        format!(
            "# The watch: {IDENTITY} probed {PROBES} undeclared routes when the demo started; it was alerted,"
        ),
        "# throttled, then quarantined (policies never saw it: each probe was refused at the contract).".to_owned(),
        format!("CRAWLER='{key}'"),
        format!(
            "curl -s -H \"X-Api-Key: $CRAWLER\" {gateway}/orders/v1/orders   # 403 identity-suspended: quarantined"
        ),
        format!(
            "curl -s -H \"X-Api-Key: $ADMIN\" '{base}/alerts?identity={IDENTITY}'   # three alerts, each with its evidence"
        ),
        "# release it; the ledger records who did and why:".to_owned(),
        format!(
            "curl -s -X POST -H \"X-Api-Key: $ADMIN\" -H 'Content-Type: application/json' --data '{{\"state\":\"active\",\"reason\":\"reviewed\"}}' {base}/identities/{IDENTITY}/state"
        ),
        format!(
            "curl -s -H \"X-Api-Key: $ADMIN\" '{base}/decisions?identity={IDENTITY}&decision=state'"
        ),
    ]
}
