//! What `portcullis demo` prints once it is up: where everything is, the
//! token lines, each demonstrated call through the gateway beside the same
//! call to the bare API, the admin and MCP lines, and how to prove it all.

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::demo_script::{MOUNT, calls};

/// The demo as it runs.
#[derive(Debug)]
pub struct Banner<'a> {
    pub gateway: SocketAddr,
    pub bare: SocketAddr,
    /// The lines that give each caller its token.
    pub tokens: &'a [String],
    /// Each client secret as `VAR_SECRET='…'`, for `verify --identities`.
    pub secrets: &'a [String],
    /// The admin listener's lines.
    pub admin: &'a [String],
    /// The admin listener, where the console is.
    pub console: Option<SocketAddr>,
    /// Where the console reads the last verify report from.
    pub verify_report: Option<&'a std::path::Path>,
}

impl Banner<'_> {
    pub fn text(&self) -> String {
        let gw = format!("http://{}", self.gateway);
        let api = format!("http://{}", self.bare);
        let mut out = String::new();
        let mut line = |text: &str| {
            out.push_str(text);
            out.push('\n');
        };
        line("Portcullis demo");
        line(&format!(
            "  gateway   {gw}{MOUNT}  (contract: examples/orders/openapi.yaml)"
        ));
        line(
            "  policies  examples/orders/policies/*.cedar  (deny by default; `portcullis explain` shows why)",
        );
        line(&format!(
            "  bare API  {api}  (the upstream, reachable directly for comparison)"
        ));
        line(&format!("  catalogue {gw}/.well-known/portcullis/problems"));
        line(&format!(
            "  contracts {gw}/.well-known/portcullis/contracts"
        ));
        line(&format!("  keys      {gw}/.well-known/jwks.json"));
        if let Some(admin) = self.console {
            line(&format!(
                "  console   http://{admin}/console  (sign in with demo-admin's API key: ADMIN below)"
            ));
        }
        line("");
        line("# Tokens: each identity authenticates with its client secret (shown once, here)");
        line("# and asks for the scopes it needs; tokens live 5 minutes.");
        for token in self.tokens {
            line(token);
        }
        line("");
        for c in calls() {
            let verdict = match c.gateway_code {
                Some(code) => format!("refused {} {code}", c.gateway_status),
                None => format!("allowed {}", c.gateway_status),
            };
            line(&format!("# {} -> gateway: {verdict}", c.title));
            line(&c.curl(&gw, &c.path, true));
            let leak = if c.bare_leak.is_empty() {
                String::new()
            } else {
                format!(", shows `{}`", c.bare_leak)
            };
            line(&format!("#   bare API answers {}{leak}:", c.bare_status));
            line(&c.curl(&api, c.bare_path(), false));
            line("");
        }
        for text in self.admin.iter().chain(&crate::demo_mcp::lines(&gw)) {
            line(text);
        }
        line("");
        line(
            "# Prove it all: every operation × identity through the gateway, each operation's negative\n# requests, and every route the bare API answers that its contract does not declare (report: verify.html; the console's Verify page shows it):",
        );
        let mut verify = self.secrets.join(" ");
        let _ = write!(
            verify,
            " cargo run --release -- verify -c examples/orders/portcullis.yaml --identities examples/orders/verify-identities.yaml --gateway {gw} --discover --upstream {api} --fail-on never --report verify.html"
        );
        if let Some(path) = self.verify_report {
            // What the console's Verify page shows.
            let _ = write!(verify, " --report-json {}", path.display());
        }
        line(&verify);
        line("");
        line("Press Ctrl-C to stop.");
        out
    }
}

/// What to try on the admin listener at `admin`, with `key`, demo-admin's
/// API key.
pub fn admin_lines(admin: SocketAddr, key: &str) -> Vec<String> {
    let base = format!("http://{admin}/admin/v1");
    vec![
        format!("# The console: open http://{admin}/console and sign in with demo-admin's API key (below)"),
        "# The admin API, on its own listener, with its own credential (demo-admin's API key):".to_owned(),
        format!("ADMIN='{key}'"),
        format!("curl -s -H \"X-Api-Key: $ADMIN\" {base}/identities"),
        "# every decision, from the audit ledger (newest first; filter by identity, person, api, operation, decision, code, since, until)".to_owned(),
        format!("curl -s -H \"X-Api-Key: $ADMIN\" '{base}/decisions?decision=deny&limit=5'"),
        format!("curl -s -H \"X-Api-Key: $ADMIN\" '{base}/decisions?person=alice&limit=5'   # what agents did for alice"),
        format!("curl -s http://{admin}/metrics   # Prometheus; also /healthz and /readyz, no credential"),
        "# suspend the reader: its token is refused on its very next request".to_owned(),
        format!(
            "curl -s -X POST -H \"X-Api-Key: $ADMIN\" -H 'Content-Type: application/json' --data '{{\"state\":\"suspended\"}}' {base}/identities/reporting-agent/state"
        ),
    ]
}
