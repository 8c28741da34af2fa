//! What an answer through the gateway says, and what is wrong with it.
//!
//! Two questions: was the request refused before forwarding (and with
//! which code), and is the answer what the intended configuration lets out?
//! A refusal must be the one problem+json shape with a catalogued code sent
//! with its own status; a forwarded answer must be one the response check
//! (stage 11) leaves alone, since the gateway already applied it.

use portcullis_contract::Operation;
use portcullis_contract::response::{self, FieldsMode, ResponsePolicy};
use portcullis_contract::secrets::SecretScanner;
use portcullis_core::ProblemCode;
use serde_json::Value;

use crate::wire::Answer;

/// What is wrong with an answer beyond its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flaw {
    /// A refusal that is not the one problem shape.
    Shape(String),
    /// A forwarded answer the response check must have changed or refused.
    Unchecked(String),
}

impl Flaw {
    pub fn text(&self) -> &str {
        match self {
            Self::Shape(s) | Self::Unchecked(s) => s,
        }
    }
}

/// `forwarded`, or the code of a refusal before forwarding; and what is
/// wrong with its shape, if it is a problem at all (`type`, `title`,
/// `status`, `detail`, `instance` and a catalogued `code` sent with its own
/// status). An answer that is not a problem has no shape to check.
pub fn judge(answer: &Answer) -> (String, Option<Flaw>) {
    let forwarded = || "forwarded".to_owned();
    let Some(body) = problem(answer) else {
        return (forwarded(), None);
    };
    let Some(body) = body.as_object() else {
        return (
            forwarded(),
            Some(Flaw::Shape("the problem body is not a JSON object".into())),
        );
    };
    let code = body.get("code").and_then(Value::as_str).unwrap_or_default();
    let known = ProblemCode::from_code(code);
    let got = match known {
        Some(c) if c.refused_before_forwarding() => code.to_owned(),
        _ => forwarded(),
    };
    let missing: Vec<&str> = ["type", "title", "status", "detail", "instance", "code"]
        .into_iter()
        .filter(|k| !body.contains_key(*k))
        .collect();
    let status = body.get("status").and_then(Value::as_u64);
    let shape = if !missing.is_empty() {
        Some(format!("missing {}", missing.join(", ")))
    } else if let Some(known) = known {
        (status != Some(u64::from(answer.status)) || known.status() != answer.status)
            .then(|| format!("`{code}` answered {} (body says {status:?})", answer.status))
    } else {
        Some(format!("`{code}` is not a catalogued code"))
    };
    (got, shape.map(Flaw::Shape))
}

/// The answer's body when it is a problem+json (parsed, or `Null` when it
/// does not parse).
fn problem(answer: &Answer) -> Option<Value> {
    answer
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/problem+json"))
        .then(|| serde_json::from_slice(&answer.body).unwrap_or(Value::Null))
}

/// What the intended response check would still do to a forwarded answer:
/// strip an undeclared field, redact or block a secret, or refuse it
/// outright. `None` when it would leave the answer as it is (or when the
/// answer is the gateway's own problem, or a 5xx, which stage 11 does not
/// see).
pub fn unchecked(
    op: &Operation,
    method: &str,
    answer: &Answer,
    policy: ResponsePolicy,
    scanner: &SecretScanner,
) -> Option<Flaw> {
    if answer.status >= 500 || problem(answer).is_some() {
        return None;
    }
    let check = |policy| {
        response::check(
            op,
            answer.status,
            answer.header("content-type"),
            &answer.body,
            method != "HEAD",
            policy,
            scanner,
        )
    };
    let outcome = match check(policy) {
        Ok(outcome) => outcome,
        Err(e) => return Some(Flaw::Unchecked(format!("forwarded {}", refusal(&e)))),
    };
    let mut what = Vec::new();
    if outcome.fields_stripped > 0 {
        // Asked again to reject, the check names the first field.
        let first = check(ResponsePolicy {
            undeclared_fields: FieldsMode::Reject,
            ..policy
        })
        .err()
        .map(|e| format!(" (first: {})", refusal(&e)))
        .unwrap_or_default();
        what.push(format!(
            "{} undeclared field(s){first}",
            outcome.fields_stripped
        ));
    }
    if outcome.secrets_redacted > 0 {
        what.push(format!("{} secret(s)", outcome.secrets_redacted));
    }
    (!what.is_empty()).then(|| {
        Flaw::Unchecked(format!(
            "forwarded {} the response check removes",
            what.join(" and ")
        ))
    })
}

/// A response-check refusal in one line: where and why.
fn refusal(e: &portcullis_contract::ResponseError) -> String {
    match e {
        portcullis_contract::ResponseError::Contract(v) => {
            let errors: Vec<String> = v
                .errors()
                .iter()
                .take(3)
                .map(|f| format!("{} {}", f.pointer, f.message))
                .collect();
            format!("an answer the contract refuses: {}", errors.join("; "))
        }
        portcullis_contract::ResponseError::Secret(d) => {
            format!("an answer the response check blocks: {}", d.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a missing value should fail the test"
    )]

    use super::*;
    use portcullis_contract::response::SecretsMode;

    fn answer(status: u16, content_type: &str, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
            complete: true,
        }
    }

    #[test]
    fn a_refusal_is_judged_by_its_code_and_shape() {
        let good = r#"{"type":"t","title":"t","status":403,"detail":"d","instance":"i","code":"forbidden"}"#;
        assert_eq!(
            judge(&answer(403, "application/problem+json", good)),
            ("forbidden".into(), None)
        );
        let (got, flaw) = judge(&answer(404, "application/problem+json", good));
        assert_eq!(got, "forbidden");
        assert!(flaw.unwrap().text().contains("answered 404"));
        let (_, flaw) = judge(&answer(
            403,
            "application/problem+json",
            r#"{"code":"forbidden"}"#,
        ));
        assert!(flaw.unwrap().text().contains("missing type, title"));
        let (got, flaw) = judge(&answer(403, "application/problem+json", "[]"));
        assert_eq!(got, "forwarded");
        assert!(flaw.unwrap().text().contains("not a JSON object"));
        assert_eq!(
            judge(&answer(200, "application/json", "{}")),
            ("forwarded".into(), None)
        );
    }

    #[test]
    fn a_forwarded_answer_must_be_what_the_response_check_lets_out() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
        let contract = portcullis_contract::Contract::load(
            "openapi.yaml",
            &portcullis_config::Disk::new(&dir),
        )
        .unwrap();
        let op = contract
            .operations()
            .iter()
            .find(|o| o.id == "getOrder")
            .unwrap();
        let scanner = SecretScanner::builtin().unwrap();
        let policy = ResponsePolicy {
            undeclared_fields: FieldsMode::Strip,
            secrets: SecretsMode::Redact,
        };
        let order = r#"{"id":"5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01","customerId":"5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a02","status":"pending","items":[{"sku":"A-1","quantity":1,"unitPriceCents":100}],"totalCents":100,"createdAt":"2026-01-01T00:00:00Z"}"#;
        let check = |body: &str| {
            unchecked(
                op,
                "GET",
                &answer(200, "application/json", body),
                policy,
                &scanner,
            )
        };
        assert_eq!(check(order), None, "a declared answer passes");
        let leaky = order.replace("\"status\"", "\"fraudScore\":7,\"status\"");
        let flaw = check(&leaky).unwrap();
        assert!(
            flaw.text().contains("1 undeclared field(s)")
                && flaw.text().contains("/body/fraudScore"),
            "{flaw:?}"
        );
        let secret = order.replace(
            "\"status\"",
            "\"note\":\"key AKIAIOSFODNN7EXAMPLE\",\"status\"",
        );
        assert!(check(&secret).is_some_and(|f| f.text().contains("secret")));
        let undeclared_status = unchecked(
            op,
            "GET",
            &answer(299, "application/json", order),
            policy,
            &scanner,
        );
        assert!(undeclared_status.unwrap().text().contains("status 299"));
        assert_eq!(
            unchecked(op, "GET", &answer(502, "text/plain", "x"), policy, &scanner),
            None,
            "a 5xx is masked before the response check"
        );
    }
}
