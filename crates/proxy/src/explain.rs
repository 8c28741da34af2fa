//! `portcullis explain`: one request through the gateway's deciding stages,
//! offline. The identity is named instead of authenticated, nothing is sent
//! upstream, and nothing about the identity's use is recorded. The stages
//! are the pipeline's own (`pipeline::decide`), so the answer is the one the
//! live gateway would give on this snapshot, at this time.

use bytes::Bytes;
use portcullis_core::ProblemCode;
use serde_json::{Value, json};

use crate::authority::Principal;
use crate::exchange::{Exchange, Stage};
use crate::pipeline::authenticate::Caller;
use crate::pipeline::{decide, limits};
use crate::snapshot::Snapshot;

/// The request to explain.
#[derive(Debug, Clone)]
pub struct ExplainRequest {
    pub identity: String,
    pub method: String,
    /// Path and query, as a client would send them.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// The scopes the caller's token would carry; `None`: every scope the
    /// identity is granted.
    pub scopes: Option<Vec<String>>,
    /// Whom the caller's token would act for (an exchanged token); its
    /// chain starts with `identity`.
    pub delegation: Option<portcullis_policy::Delegation>,
}

/// What one stage did with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageReport {
    pub stage: &'static str,
    /// `passed`, `refused`, `not reached` or `skipped`.
    pub verdict: &'static str,
    pub detail: String,
}

/// The whole explanation; [`Explanation::to_json`] is its `--json` form.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub request: ExplainRequest,
    pub time: i64,
    pub snapshot: u64,
    pub stages: Vec<StageReport>,
    /// `(api, operation id, "METHOD /template")` once the route matched.
    pub operation: Option<(String, String, String)>,
    /// The Cedar request the authorize stage built.
    pub cedar: Option<Value>,
    /// `(policy id, "file:line")` of the determining policies.
    pub determining: Vec<(String, String)>,
    pub policy_errors: Vec<String>,
    /// `None`: every deciding stage allowed; the request would be forwarded.
    pub refusal: Option<(u16, ProblemCode, String)>,
    /// The MCP tools `tools/list` shows this identity with these scopes
    /// (the same listing `/mcp` and `portcullis check` use).
    pub tools: Vec<String>,
}

impl Snapshot {
    /// Explains `request` against this snapshot.
    ///
    /// # Errors
    /// The method or target is not a valid HTTP request line.
    pub async fn explain(&self, request: ExplainRequest) -> Result<Explanation, String> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.target.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // A client on the wire always names the gateway; unless the
        // explained request does, it is taken to name the listener.
        if !request
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            let base = self.authority.base_url();
            let listener = base.split_once("://").map_or(base, |(_, host)| host);
            builder = builder.header(http::header::HOST, listener);
        }
        let (parts, ()) = builder
            .body(())
            .map_err(|e| format!("not a valid request: {e}"))?
            .into_parts();
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let mut ex = Exchange::begin(&parts.headers, peer, self.version);
        ex.offline = true;
        let body = Bytes::from(request.body.clone().unwrap_or_default());
        let outcome = async {
            ex.enter(Stage::Limits);
            limits::check_head(self, &parts)?;
            ex.enter(Stage::Authenticate);
            let caller = self.named_caller(&request)?;
            ex.identity = Some(request.identity.clone());
            decide(
                self,
                &mut ex,
                &caller,
                &parts.method,
                &parts.uri,
                &parts.headers,
                limits::Body::Ready(body),
            )
            .await
            .map(|_| ())
        }
        .await;
        Ok(self.report(request, ex, outcome.err()))
    }

    /// The caller `explain` stands in for: the named identity, with the
    /// scopes asked for or all it is granted.
    fn named_caller(&self, request: &ExplainRequest) -> Result<Caller, crate::refusal::Refusal> {
        let identity = self.authority.identity(&request.identity).ok().flatten();
        let Some(identity) = identity else {
            return Err(crate::refusal::Refusal::new(
                ProblemCode::Unauthenticated,
                format!("no identity `{}` in the inventory", request.identity),
            ));
        };
        Ok(Caller::Identity(Principal {
            identity: identity.id,
            scopes: request.scopes.clone().unwrap_or(identity.scopes),
            audience: None,
            token_id: None,
            credential_id: None,
            delegation: request.delegation.clone().map(std::sync::Arc::new),
        }))
    }

    /// The tools the named identity is shown, with the scopes explained.
    fn tools_for(&self, request: &ExplainRequest) -> Vec<String> {
        let Ok(Some(identity)) = self.authority.identity(&request.identity) else {
            return Vec::new();
        };
        let scopes = request
            .scopes
            .clone()
            .unwrap_or_else(|| identity.scopes.clone());
        let viewer = portcullis_mcp::Viewer {
            identity: &identity,
            scopes: &scopes,
            audience: None,
        };
        portcullis_mcp::visible(
            &self.mcp.tools,
            |api, op| self.operation(api, op),
            &self.policies.store,
            &viewer,
        )
        .into_iter()
        .map(|l| l.tool.name.clone())
        .collect()
    }

    fn report(
        &self,
        request: ExplainRequest,
        ex: Exchange,
        refusal: Option<crate::refusal::Refusal>,
    ) -> Explanation {
        let reached = Stage::ALL.iter().position(|s| *s == ex.stage).unwrap_or(0);
        let stages = Stage::ALL
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let (verdict, detail) = match (*stage, i.cmp(&reached), &refusal) {
                    (Stage::Discovery, ..) => {
                        ("skipped", "not a discovery or token endpoint".into())
                    }
                    (Stage::Authenticate, std::cmp::Ordering::Less, _) => (
                        "passed",
                        format!("identity `{}` named, not authenticated", request.identity),
                    ),
                    (Stage::RateLimit, std::cmp::Ordering::Less, _)
                    | (Stage::RateLimit, std::cmp::Ordering::Equal, None) => {
                        ("skipped", "offline: rate limits count live traffic".into())
                    }
                    (Stage::Forward | Stage::CheckResponse, ..) if refusal.is_none() => {
                        ("skipped", "offline: nothing is sent upstream".into())
                    }
                    (_, std::cmp::Ordering::Less, _) => ("passed", String::new()),
                    (_, std::cmp::Ordering::Equal, Some(r)) => (
                        "refused",
                        format!("{}: {}", r.problem.code().as_str(), r.problem.detail()),
                    ),
                    (_, std::cmp::Ordering::Equal, None) => ("passed", String::new()),
                    (_, std::cmp::Ordering::Greater, _) => ("not reached", String::new()),
                };
                StageReport {
                    stage: stage.as_str(),
                    verdict,
                    detail,
                }
            })
            .collect();
        let operation = ex.operation.as_ref().and_then(|op| {
            let api = self
                .apis
                .iter()
                .find(|a| Some(&a.config.name) == ex.api.as_ref())?;
            let found = api
                .config
                .contract
                .operations()
                .iter()
                .find(|o| &o.id == op)?;
            Some((
                api.config.name.clone(),
                op.clone(),
                format!("{} {}", found.method.as_str(), found.path),
            ))
        });
        let store = &self.policies.store;
        let (determining, policy_errors) = ex.decision.map_or((Vec::new(), Vec::new()), |d| {
            let located = d
                .determining
                .into_iter()
                .map(|id| {
                    let at = store
                        .origin(&id)
                        .map(|o| format!("{}:{}", o.file(), o.line()))
                        .unwrap_or_default();
                    (id, at)
                })
                .collect();
            (located, d.errors)
        });
        Explanation {
            tools: self.tools_for(&request),
            time: self.authority.now(),
            snapshot: self.version,
            stages,
            operation,
            cedar: ex.cedar,
            determining,
            policy_errors,
            refusal: refusal.map(|r| {
                (
                    r.problem.status(),
                    r.problem.code(),
                    r.problem.detail().to_owned(),
                )
            }),
            request,
        }
    }
}

impl Explanation {
    /// The `--json` form.
    pub fn to_json(&self) -> Value {
        json!({
            "identity": self.request.identity,
            "request": format!("{} {}", self.request.method, self.request.target),
            "time": self.time,
            "snapshot": self.snapshot,
            "stages": self.stages.iter().map(|s| json!({
                "stage": s.stage, "verdict": s.verdict, "detail": s.detail,
            })).collect::<Vec<_>>(),
            "operation": self.operation.as_ref().map(|(api, id, route)| json!({
                "api": api, "operation": id, "route": route,
            })),
            "cedar": self.cedar,
            "determining_policies": self.determining.iter().map(|(id, at)| json!({
                "id": id, "at": at,
            })).collect::<Vec<_>>(),
            "policy_errors": self.policy_errors,
            "mcp_tools": self.tools,
            "outcome": match &self.refusal {
                None => json!({"decision": "allow", "note": "every deciding stage allowed; the gateway would forward it"}),
                Some((status, code, detail)) => json!({
                    "decision": "deny", "status": status, "code": code.as_str(), "detail": detail,
                }),
            },
        })
    }
}

/// The delegation `explain --on-behalf-of` stands in for: `identity` acting
/// for `person` of `issuer` (the only configured issuer when none is named)
/// with `claims`, a JSON object of the mapped claims by their mapped names,
/// each checked against the type the configuration gives it.
///
/// # Errors
/// No `delegation:` section, an issuer it does not list, claims that are not
/// an object, a claim it does not map, or a value of another type.
pub fn explained_delegation(
    config: &portcullis_config::Config,
    identity: &str,
    person: &str,
    issuer: Option<&str>,
    claims: Option<&str>,
) -> Result<portcullis_policy::Delegation, String> {
    let delegation = config
        .delegation
        .as_ref()
        .ok_or("the configuration has no `delegation:` section")?;
    let issuer = match (issuer, delegation.issuers.as_slice()) {
        (Some(iss), _) => delegation
            .issuer(iss)
            .ok_or_else(|| format!("`{iss}` is not in `delegation.issuers`"))?,
        (None, [only]) => only,
        (None, _) => return Err("name the person's issuer with `--issuer`".to_owned()),
    };
    let given: serde_json::Map<String, Value> = match claims {
        None => serde_json::Map::new(),
        Some(text) => serde_json::from_str(text)
            .map_err(|_| "`--claims` must be a JSON object, like {\"tenant\":\"acme\"}")?,
    };
    let mut mapped = serde_json::Map::new();
    for (name, value) in given {
        let claim = issuer
            .claims
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("`{name}` is not a claim `{}` maps", issuer.issuer))?;
        // Read as the token's claim would be: the same type check.
        let as_token = serde_json::Map::from_iter([(claim.claim.clone(), value)]);
        let value = claim
            .read(&as_token)
            .ok_or_else(|| format!("`{name}` must be of type {:?}", claim.ty))?;
        mapped.insert(name, value);
    }
    Ok(portcullis_policy::Delegation {
        person: person.to_owned(),
        issuer: issuer.issuer.clone(),
        claims: mapped,
        chain: vec![identity.to_owned()],
    })
}
