use proptest::prelude::*;

use super::*;
use crate::oauth::{ClientAuth, TokenRequest, parse_token_request};

const NOW: UnixTime = 1_800_000_000;
const LIMITS: GrantLimits = GrantLimits {
    default_ttl: 300,
    max_ttl: 900,
};

fn delegation() -> DelegationLimits {
    DelegationLimits {
        max_chain: 3,
        max_ttl: 600,
        issuer: "portcullis".into(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn subject(allows: &[&str]) -> SubjectView {
    SubjectView {
        person: "alice".into(),
        issuer: "https://idp.example".into(),
        claims: serde_json::from_value(json!({ "tenant": "acme" })).unwrap(),
        allows: strings(allows),
        exp: NOW + 3600,
        chain: Vec::new(),
        sources: vec!["https://idp.example#p-1".into()],
        may_act: None,
        audience: None,
    }
}

fn ask<'a>(grant: &'a [String], requested: &'a [String]) -> ExchangeAsk<'a> {
    ExchangeAsk {
        actor: "support-bot",
        actor_grant: grant,
        requested,
        audience: "orders",
        lifetime: None,
    }
}

fn decide(ask: ExchangeAsk<'_>, subject: &SubjectView) -> Result<Exchanged, OAuthError> {
    exchange(ask, subject, LIMITS, &delegation(), NOW)
}

fn description(e: &OAuthError) -> String {
    e.to_json()["error_description"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_issued_token_names_the_person_and_the_actor() {
    let grant = strings(&["orders:read", "orders:write"]);
    let out = decide(
        ask(&grant, &strings(&["orders:read"])),
        &subject(&["orders:read"]),
    )
    .unwrap();
    assert_eq!(out.sub, "alice");
    assert_eq!(out.act.ids(), ["support-bot"]);
    assert_eq!(out.person.iss, "https://idp.example");
    assert_eq!(out.person.claims["tenant"], "acme");
    assert_eq!(out.exchanged_from, ["https://idp.example#p-1"]);
    assert_eq!(out.scopes, ["orders:read"]);
    assert_eq!(out.lifetime, 300);
}

/// Agent grant, subject allowance, request; the issued scopes or the refusal.
type ScopeCase = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    Result<&'static [&'static str], &'static str>,
);

/// Agent grant x subject allowance x request -> issued scopes or the refusal.
#[test]
fn scopes_are_the_requested_part_of_both_sides() {
    let table: [ScopeCase; 7] = [
        (&["r", "w"], &["r", "w"], &["r", "w"], Ok(&["r", "w"])),
        (&["r", "w"], &["r"], &["r"], Ok(&["r"])),
        (&["r"], &["r", "w"], &["r"], Ok(&["r"])),
        (
            &["r", "w"],
            &["r"],
            &["w"],
            Err("scope `w` is not allowed by the subject token"),
        ),
        (
            &["r"],
            &["r", "w"],
            &["w"],
            Err("scope `w` is not granted to this client"),
        ),
        (
            &["r"],
            &[],
            &["r"],
            Err("scope `r` is not allowed by the subject token"),
        ),
        (
            &["r"],
            &["r"],
            &[],
            Err("request the scopes the token needs with `scope`"),
        ),
    ];
    for (grant, allows, requested, expected) in table {
        let (grant, requested) = (strings(grant), strings(requested));
        let got = decide(ask(&grant, &requested), &subject(allows));
        match expected {
            Ok(scopes) => assert_eq!(got.unwrap().scopes, scopes),
            Err(why) => {
                let e = got.unwrap_err();
                assert_eq!(e.code(), OAuthErrorCode::InvalidScope);
                assert_eq!(description(&e), why);
            }
        }
    }
}

#[test]
fn the_lifetime_ends_no_later_than_the_subject_token_or_the_maxima() {
    let grant = strings(&["r"]);
    let mut short = subject(&["r"]);
    short.exp = NOW + 42;
    let mut a = ask(&grant, &grant);
    assert_eq!(decide(a, &short).unwrap().lifetime, 42);
    a.lifetime = Some(5000);
    assert_eq!(decide(a, &subject(&["r"])).unwrap().lifetime, 600);
    short.exp = NOW;
    let e = decide(a, &short).unwrap_err();
    assert_eq!(e.code(), OAuthErrorCode::InvalidRequest);
}

#[test]
fn chains_grow_by_one_up_to_the_bound_and_never_loop() {
    let grant = strings(&["r"]);
    let mut two = subject(&["r"]);
    two.chain = strings(&["planner", "support-bot-0"]);
    let out = decide(ask(&grant, &grant), &two).unwrap();
    assert_eq!(out.act.ids(), ["support-bot", "planner", "support-bot-0"]);
    two.chain.push("third".into());
    let e = decide(ask(&grant, &grant), &two).unwrap_err();
    assert_eq!(e.code(), OAuthErrorCode::InvalidRequest);
    assert_eq!(
        description(&e),
        "the act chain would be 4 long; at most 3 is allowed"
    );
    let mut looped = subject(&["r"]);
    looped.chain = strings(&["support-bot"]);
    assert_eq!(
        decide(ask(&grant, &grant), &looped).unwrap_err().code(),
        OAuthErrorCode::InvalidRequest
    );
    // Acting for oneself is not delegation.
    let mut itself = subject(&["r"]);
    itself.issuer = "portcullis".into();
    itself.person = "support-bot".into();
    assert!(decide(ask(&grant, &grant), &itself).is_err());
}

#[test]
fn may_act_must_name_the_actor() {
    let grant = strings(&["r"]);
    let mut s = subject(&["r"]);
    for (may_act, ok) in [
        (json!({ "sub": "support-bot" }), true),
        (json!({ "sub": "support-bot", "iss": "portcullis" }), true),
        (json!({ "sub": "other-bot" }), false),
        (
            json!({ "sub": "support-bot", "iss": "https://elsewhere" }),
            false,
        ),
        (json!({}), false),
    ] {
        s.may_act = Some(may_act.clone());
        let got = decide(ask(&grant, &grant), &s);
        assert_eq!(got.is_ok(), ok, "{may_act}");
        if !ok {
            assert_eq!(got.unwrap_err().code(), OAuthErrorCode::InvalidRequest);
        }
    }
}

#[test]
fn a_subject_token_of_ours_keeps_its_audience() {
    let grant = strings(&["r"]);
    let mut ours = subject(&["r"]);
    ours.audience = Some("billing".into());
    let e = decide(ask(&grant, &grant), &ours).unwrap_err();
    assert_eq!(e.code(), OAuthErrorCode::InvalidTarget);
    ours.audience = Some("orders".into());
    assert!(decide(ask(&grant, &grant), &ours).is_ok());
}

fn parse(body: &str) -> Result<TokenRequest, OAuthError> {
    parse_token_request(body.as_bytes(), None)
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[test]
fn exchange_requests_parse_and_every_malformed_one_is_refused() {
    let base = [
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", "h.p.s"),
        ("subject_token_type", JWT_TOKEN_TYPE),
        ("scope", "orders:read"),
    ];
    let with = |extra: &[(&str, &str)]| {
        let mut pairs = base.to_vec();
        pairs.extend_from_slice(extra);
        parse(&form(&pairs))
    };
    let r = with(&[("client_id", "bot"), ("client_secret", "pcs_x")]).unwrap();
    let exchange = r.exchange.unwrap();
    assert_eq!(exchange.subject_token, "h.p.s");
    assert_eq!(r.scopes, ["orders:read"]);
    let r = with(&[
        ("actor_token", "a.b.c"),
        ("actor_token_type", ACCESS_TOKEN_TYPE),
    ])
    .unwrap();
    assert_eq!(r.client, ClientAuth::ActorToken("a.b.c".into()));
    assert!(
        with(&[
            ("client_id", "b"),
            ("client_secret", "s"),
            ("requested_token_type", ACCESS_TOKEN_TYPE)
        ])
        .is_ok()
    );

    let bad: [&[(&str, &str)]; 7] = [
        &[
            ("client_id", "b"),
            ("client_secret", "s"),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
        ],
        &[("actor_token", "a.b.c")],
        &[
            ("actor_token", "a.b.c"),
            ("actor_token_type", "urn:ietf:params:oauth:token-type:saml2"),
        ],
        &[
            ("actor_token", "a.b.c"),
            ("actor_token_type", JWT_TOKEN_TYPE),
            ("client_id", "b"),
            ("client_secret", "s"),
        ],
        &[
            ("client_id", "b"),
            ("client_secret", "s"),
            ("subject_token", "again"),
        ],
        &[("client_id", "b"), ("client_secret", "s"), ("may_act", "x")],
        &[
            ("client_id", "b"),
            ("client_secret", "s"),
            ("audience", "orders"),
            ("resource", "orders"),
        ],
    ];
    for extra in bad {
        assert_eq!(
            with(extra).unwrap_err().code(),
            OAuthErrorCode::InvalidRequest,
            "{extra:?}"
        );
    }
    let wrong_type = form(&[
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", "h.p.s"),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:saml2",
        ),
        ("client_id", "b"),
        ("client_secret", "s"),
    ]);
    assert_eq!(
        parse(&wrong_type).unwrap_err().code(),
        OAuthErrorCode::InvalidRequest
    );
    let missing = form(&[
        ("grant_type", TOKEN_EXCHANGE),
        ("client_id", "b"),
        ("client_secret", "s"),
    ]);
    assert_eq!(
        description(&parse(&missing).unwrap_err()),
        "`subject_token` is required"
    );
    let not_for_credentials = form(&[
        ("grant_type", "client_credentials"),
        ("subject_token", "h.p.s"),
        ("client_id", "b"),
        ("client_secret", "s"),
    ]);
    assert_eq!(
        description(&parse(&not_for_credentials).unwrap_err()),
        "`subject_token` belongs to the token-exchange grant"
    );
}

fn scope_set() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(vec!["a", "b", "c", "d", "e"], 0..=5)
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

proptest! {
    /// An exchanged token is never wider than either input, nor longer-lived
    /// than the subject token or the configured maxima.
    #[test]
    fn never_wider_and_never_later(
        grant in scope_set(),
        allows in scope_set(),
        requested in scope_set(),
        remaining in 1i64..5000,
        asked in proptest::option::of(1i64..10_000),
        chain_len in 0usize..4,
    ) {
        let mut s = subject(&[]);
        s.allows = allows.clone();
        s.exp = NOW + remaining;
        s.chain = (0..chain_len).map(|i| format!("hop-{i}")).collect();
        let mut a = ask(&grant, &requested);
        a.lifetime = asked;
        if let Ok(out) = decide(a, &s) {
            prop_assert!(out.scopes.iter().all(|x| grant.contains(x) && allows.contains(x)));
            prop_assert!(!out.scopes.is_empty());
            prop_assert!(NOW + out.lifetime <= s.exp);
            prop_assert!(out.lifetime <= LIMITS.max_ttl.min(delegation().max_ttl));
            prop_assert!(out.act.ids().len() <= delegation().max_chain);
            prop_assert_eq!(out.act.ids().len(), chain_len + 1);
        } else {
            let within = !requested.is_empty()
                && requested.iter().all(|x| grant.contains(x) && allows.contains(x));
            prop_assert!(!within || chain_len + 1 > delegation().max_chain);
        }
    }
}
