//! What an exchanged token says about delegation (RFC 8693 section 4): `act`,
//! the identities acting, outermost first; and `person`, where its `sub`
//! comes from. RFC 8693 carries only the subject's identifier; the issuer
//! and the mapped claims ride in `person` so each request can show them to
//! policies without the subject token at hand.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::TokenError;

/// The longest act chain any token may carry, whatever the configuration
/// says (it may say less): a bound on the nesting this crate reads back.
pub const MAX_CHAIN: usize = 8;

/// One hop of the act chain: who acts, and who acted before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// A chain from its identities, outermost (the one acting now) first.
    /// `None` for an empty list.
    pub fn chain<S: AsRef<str>>(ids: &[S]) -> Option<Self> {
        let mut inner: Option<Box<Actor>> = None;
        for id in ids.iter().rev() {
            inner = Some(Box::new(Actor {
                sub: id.as_ref().to_owned(),
                act: inner,
            }));
        }
        inner.map(|a| *a)
    }

    /// The identities in the chain, outermost first.
    pub fn ids(&self) -> Vec<&str> {
        let mut out = vec![self.sub.as_str()];
        let mut next = self.act.as_deref();
        while let Some(actor) = next {
            out.push(&actor.sub);
            next = actor.act.as_deref();
        }
        out
    }
}

/// Where an exchanged token's subject comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The subject token's issuer (the gateway's own for an identity).
    pub iss: String,
    /// The subject token's claims the configuration maps, by the names it
    /// gives them (for example `tenant`, `roles`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
}

/// `act` and `person` go together, and the chain is at most [`MAX_CHAIN`]
/// identities, none empty.
pub(super) fn check(act: Option<&Actor>, person: Option<&Person>) -> Result<(), TokenError> {
    match (act, person) {
        (None, None) => Ok(()),
        (Some(act), Some(person)) => {
            let ids = act.ids();
            if ids.len() > MAX_CHAIN || ids.iter().any(|id| id.is_empty()) || person.iss.is_empty()
            {
                return Err(TokenError::Malformed);
            }
            Ok(())
        }
        _ => Err(TokenError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_nests_outermost_first_and_reads_back() {
        let act = Actor::chain(&["sub-agent", "support-bot"]).unwrap();
        assert_eq!(
            serde_json::to_value(&act).unwrap(),
            serde_json::json!({ "sub": "sub-agent", "act": { "sub": "support-bot" } })
        );
        assert_eq!(act.ids(), ["sub-agent", "support-bot"]);
        assert_eq!(Actor::chain::<&str>(&[]), None);
    }

    #[test]
    fn act_and_person_go_together_and_the_chain_is_bounded() {
        let person = Person {
            iss: "https://idp.example".into(),
            claims: Map::new(),
        };
        let one = Actor::chain(&["bot"]).unwrap();
        assert_eq!(check(None, None), Ok(()));
        assert_eq!(check(Some(&one), Some(&person)), Ok(()));
        assert_eq!(check(Some(&one), None), Err(TokenError::Malformed));
        assert_eq!(check(None, Some(&person)), Err(TokenError::Malformed));
        let ids: Vec<String> = (0..=MAX_CHAIN).map(|i| format!("a{i}")).collect();
        let long = Actor::chain(&ids).unwrap();
        assert_eq!(
            check(Some(&long), Some(&person)),
            Err(TokenError::Malformed)
        );
        let empty = Actor::chain(&[""]).unwrap();
        assert_eq!(
            check(Some(&empty), Some(&person)),
            Err(TokenError::Malformed)
        );
    }
}
