//! What `portcullis demo` shows: each call through the gateway beside the same
//! call to the bare API, with what each answers.
//!
//! Plain data, so a test can run every line and prove it does what it says.
//! It lives beside the example API it demonstrates; the `portcullis` binary
//! prints it.

use crate::seed;

/// Whose credential a call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No credential at all.
    Nobody,
    /// `reporting-agent`, holding a token for `orders:read customers:read`.
    Reader,
    /// `fulfilment-service`, holding a token for every orders scope.
    Writer,
    /// `stale-bot`, whose token was issued before it was suspended.
    Suspended,
    /// `partner-connector`, whose requests carry its own upstream credential.
    Partner,
    /// `support-agent`, holding a token exchanged (RFC 8693) to act for
    /// alice, a person of customer ACME (her token from the demo IdP).
    Delegated,
}

/// The person the demo's support agent acts for, and her customer.
pub const PERSON: (&str, &str) = ("alice", seed::CUSTOMER_ACME);

impl Caller {
    /// The identity behind the caller, and the scopes its demo token holds.
    pub fn identity(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Caller::Nobody => None,
            Caller::Reader => Some(("reporting-agent", &["orders:read", "customers:read"])),
            Caller::Writer => Some((
                "fulfilment-service",
                &[
                    "orders:read",
                    "orders:write",
                    "customers:read",
                    "customers:write",
                ],
            )),
            Caller::Suspended => Some(("stale-bot", &["orders:read"])),
            Caller::Partner => Some(("partner-connector", &["orders:read"])),
            Caller::Delegated => Some(("support-agent", &["orders:read"])),
        }
    }

    /// The shell variable the demo's token lines fill.
    pub fn variable(self) -> Option<&'static str> {
        match self {
            Caller::Nobody => None,
            Caller::Reader => Some("READER"),
            Caller::Writer => Some("WRITER"),
            Caller::Suspended => Some("STALE"),
            Caller::Partner => Some("PARTNER"),
            Caller::Delegated => Some("SUPPORT"),
        }
    }
}

impl Caller {
    /// The lines that give this caller a token acting for [`PERSON`]: her
    /// token `subject` (from the demo IdP) exchanged at `base`'s token
    /// endpoint with the caller's client `secret`.
    pub fn exchange_lines(self, subject: &str, secret: &str, base: &str) -> Vec<String> {
        let (Some((identity, scopes)), Some(var)) = (self.identity(), self.variable()) else {
            return Vec::new();
        };
        let (person, tenant) = PERSON;
        vec![
            format!(
                "# {identity} acts for {person} of customer {tenant}: her token from the demo IdP,"
            ),
            "# exchanged for one acting on her behalf (RFC 8693; policies/delegation.cedar):"
                .to_owned(),
            format!("ALICE='{subject}'"),
            format!(
                "{var}=$(curl -s -u '{identity}:{secret}' -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange -d subject_token=\"$ALICE\" -d subject_token_type=urn:ietf:params:oauth:token-type:jwt -d 'scope={}' {base}/oauth/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')",
                scopes.join(" "),
            ),
        ]
    }
}

/// One demonstrated call.
#[derive(Debug, Clone)]
pub struct DemoCall {
    pub title: &'static str,
    /// Whose credential it carries through the gateway (the bare API needs none).
    pub caller: Caller,
    pub method: &'static str,
    /// Path and query on the gateway (the API is mounted at `/orders`).
    pub path: String,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: Option<&'static str>,
    /// Status and problem code the gateway answers with (`None`: allowed).
    pub gateway_status: u16,
    pub gateway_code: Option<&'static str>,
    /// Status the bare API answers with, and text its answer contains.
    pub bare_status: u16,
    pub bare_leak: &'static str,
}

/// The gateway's mount for the example API.
pub const MOUNT: &str = "/orders";

impl DemoCall {
    /// The same call's path on the bare API.
    pub fn bare_path(&self) -> &str {
        self.path.strip_prefix(MOUNT).unwrap_or(&self.path)
    }

    /// The curl command for this call against `base` (`http://127.0.0.1:8080`),
    /// with the caller's token when `with_token`.
    pub fn curl(&self, base: &str, path: &str, with_token: bool) -> String {
        let mut line = String::from("curl -si --path-as-is");
        if let (true, Some(var)) = (with_token, self.caller.variable()) {
            line.push_str(&format!(" -H \"Authorization: Bearer ${var}\""));
        }
        if self.method != "GET" {
            line.push_str(&format!(" -X {}", self.method));
        }
        for (k, v) in &self.headers {
            line.push_str(&format!(" -H '{k}: {v}'"));
        }
        if let Some(body) = self.body {
            line.push_str(&format!(" --data '{body}'"));
        }
        line.push_str(&format!(" '{base}{path}'"));
        line
    }
}

fn call(
    title: &'static str,
    method: &'static str,
    path: String,
    gateway: (u16, Option<&'static str>),
    bare: (u16, &'static str),
) -> DemoCall {
    DemoCall {
        title,
        caller: Caller::Writer,
        method,
        path,
        headers: Vec::new(),
        body: None,
        gateway_status: gateway.0,
        gateway_code: gateway.1,
        bare_status: bare.0,
        bare_leak: bare.1,
    }
}

/// Every demonstrated call, in the order the demo prints them.
pub fn calls() -> Vec<DemoCall> {
    [
        credentials_and_scopes(),
        policies(),
        undeclared(),
        requests_and_responses(),
    ]
    .concat()
}

/// Who may call at all, and with which scopes.
fn credentials_and_scopes() -> Vec<DemoCall> {
    vec![
        DemoCall {
            caller: Caller::Nobody,
            ..call(
                "no credential, on any path",
                "GET",
                "/orders/v1/orders".into(),
                (401, Some("unauthenticated")),
                (200, "totalCents"),
            )
        },
        DemoCall {
            caller: Caller::Reader,
            ..call(
                "allowed: a declared read with a read token; undeclared fields stripped",
                "GET",
                format!("/orders/v1/orders/{}", seed::ORDER_PAID),
                (200, None),
                (200, "internalMarginCents"),
            )
        },
        DemoCall {
            caller: Caller::Reader,
            headers: vec![("Content-Type", "application/json")],
            body: Some(r#"{"status":"cancelled"}"#),
            ..call(
                "a read token trying to write",
                "PATCH",
                format!("/orders/v1/orders/{}", seed::ORDER_PENDING),
                (403, Some("insufficient-scope")),
                (200, "cancelled"),
            )
        },
    ]
}

/// What the policies decide: the partner's credential and tenant rule, a
/// forbid, a suspension, an agent acting for a person.
fn policies() -> Vec<DemoCall> {
    vec![
        DemoCall {
            caller: Caller::Delegated,
            ..call(
                "allowed: acting for alice (token exchange), her own customer's orders",
                "GET",
                format!("/orders/v1/customers/{}/orders", seed::CUSTOMER_ACME),
                (200, None),
                (200, ""),
            )
        },
        DemoCall {
            caller: Caller::Delegated,
            ..call(
                "acting for alice, another customer's orders",
                "GET",
                format!("/orders/v1/customers/{}/orders", seed::CUSTOMER_GLOBEX),
                (403, Some("forbidden")),
                (200, ""),
            )
        },
        DemoCall {
            caller: Caller::Partner,
            ..call(
                "allowed: a partner's read, sent upstream with the partner's own credential",
                "GET",
                "/orders/v1/orders/summary".into(),
                (200, None),
                (200, ""),
            )
        },
        DemoCall {
            caller: Caller::Partner,
            ..call(
                "allowed by the tenant rule: a partner reads its own customer's orders",
                "GET",
                format!("/orders/v1/customers/{}/orders", seed::CUSTOMER_ACME),
                (200, None),
                (200, ""),
            )
        },
        DemoCall {
            caller: Caller::Partner,
            ..call(
                "the tenant rule: the same partner asking for another customer's orders",
                "GET",
                format!("/orders/v1/customers/{}/orders", seed::CUSTOMER_INITECH),
                (403, Some("forbidden")),
                (200, "totalCents"),
            )
        },
        DemoCall {
            caller: Caller::Reader,
            ..call(
                "a forbid overriding a permit: agents never read customer records",
                "GET",
                format!("/orders/v1/customers/{}", seed::CUSTOMER_ACME),
                (403, Some("forbidden")),
                (200, "email"),
            )
        },
        DemoCall {
            caller: Caller::Suspended,
            ..call(
                "a token its identity held before being suspended",
                "GET",
                "/orders/v1/orders".into(),
                (403, Some("identity-suspended")),
                (200, "totalCents"),
            )
        },
    ]
}

/// What the API leaks beyond its contract: a credential in a declared field, undeclared routes, path tricks, an undeclared parameter.
fn undeclared() -> Vec<DemoCall> {
    vec![
        call(
            "allowed: a declared field holding a credential is redacted",
            "GET",
            format!("/orders/v1/customers/{}", seed::CUSTOMER_INITECH),
            (200, None),
            (200, "AKIAIOSFODNN7EXAMPLE"),
        ),
        call(
            "debug route the contract does not declare",
            "GET",
            "/orders/debug/config".into(),
            (404, Some("undeclared-route")),
            (200, "aws_secret_access_key"),
        ),
        call(
            "legacy /v0 route with full records",
            "GET",
            "/orders/v0/customers".into(),
            (404, Some("undeclared-route")),
            (200, "cardNumber"),
        ),
        call(
            "encoded dot segments reaching the debug route",
            "GET",
            "/orders/v1/customers/%2E%2E/%2E%2E/debug/config".into(),
            (400, Some("ambiguous-path")),
            (200, "database_url"),
        ),
        call(
            "undeclared query parameter that makes the API say more",
            "GET",
            format!("/orders/v1/orders/{}?expand=all", seed::ORDER_PAID),
            (400, Some("invalid-request")),
            (200, "cardNumber"),
        ),
    ]
}

/// Requests the contract refuses and answers it does not allow.
fn requests_and_responses() -> Vec<DemoCall> {
    let json = ("Content-Type", "application/json");
    vec![
        DemoCall {
            headers: vec![("X-HTTP-Method-Override", "DELETE")],
            ..call(
                "method override: a POST the API turns into a DELETE",
                "POST",
                format!("/orders/v1/orders/{}", seed::ORDER_CANCELLED),
                (405, Some("method-not-allowed")),
                (204, ""),
            )
        },
        DemoCall {
            headers: vec![json],
            body: Some(
                r#"{"customerId":"5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01","items":[{"sku":"WID-0001","quantity":1000000}],"discountPercent":100}"#,
            ),
            ..call(
                "a body the contract forbids (quantity over the bound, unknown field)",
                "POST",
                "/orders/v1/orders".into(),
                (400, Some("invalid-request")),
                (201, "\"id\""),
            )
        },
        DemoCall {
            headers: vec![("Content-Type", "text/plain")],
            body: Some("status=paid"),
            ..call(
                "a content type the operation does not take",
                "PATCH",
                format!("/orders/v1/orders/{}", seed::ORDER_PENDING),
                (415, Some("unsupported-media-type")),
                (400, "error"),
            )
        },
        call(
            "a method the path does not declare",
            "DELETE",
            "/orders/v1/customers".into(),
            (405, Some("method-not-allowed")),
            (405, ""),
        ),
        call(
            "an input that makes the API crash with a stack trace",
            "GET",
            format!("/orders/v1/orders/{}", seed::ORDER_POISON),
            (502, Some("upstream-unavailable")),
            (500, "panicked at"),
        ),
        call(
            "a status the contract does not declare for this operation",
            "DELETE",
            format!("/orders/v1/orders/{}", seed::ORDER_SHIPPED),
            (502, Some("response-contract-violation")),
            (409, "already shipped"),
        ),
    ]
}
