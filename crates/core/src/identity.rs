//! Machine identities as the inventory records them, and the clock every
//! time-based decision takes as an argument.
//!
//! Plain data: storage, tokens and policy all speak these types, and none of
//! them reads the system clock itself.

use std::fmt;
use std::str::FromStr;

/// Seconds since the Unix epoch, UTC.
pub type UnixTime = i64;

/// Where "now" comes from: injected, so decisions are testable and deterministic.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> UnixTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// A clock that says what it is told (tests, offline explain).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0
    }
}

/// What sort of non-human identity this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    Agent,
    Service,
    Workload,
    CiJob,
}

/// Whether an identity may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityState {
    Active,
    Suspended,
    Quarantined,
    Retired,
}

/// A value that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of: {expected}")]
pub struct UnknownValue {
    value: String,
    expected: &'static str,
}

macro_rules! spelled {
    ($ty:ty, $expected:literal, { $($variant:path => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stable spelling used in configuration, storage and policy.
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
        }

        impl FromStr for $ty {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($variant),)+
                    _ => Err(UnknownValue { value: s.to_owned(), expected: $expected }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled!(IdentityKind, "agent, service, workload, ci-job", {
    IdentityKind::Agent => "agent",
    IdentityKind::Service => "service",
    IdentityKind::Workload => "workload",
    IdentityKind::CiJob => "ci-job",
});

spelled!(IdentityState, "active, suspended, quarantined, retired", {
    IdentityState::Active => "active",
    IdentityState::Suspended => "suspended",
    IdentityState::Quarantined => "quarantined",
    IdentityState::Retired => "retired",
});

/// One identity in the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Stable, unique: `[a-z0-9][a-z0-9._-]{0,62}`.
    pub id: String,
    pub kind: IdentityKind,
    /// The person or team answerable for it.
    pub owner: String,
    pub environment: String,
    pub tags: Vec<String>,
    /// Every scope it may ever be granted; a token carries a subset.
    pub scopes: Vec<String>,
    pub state: IdentityState,
    pub created: UnixTime,
    pub expires: Option<UnixTime>,
    pub last_used: Option<UnixTime>,
}

/// Why an identity may not act now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("identity is {0}")]
    State(IdentityState),
    #[error("identity expired")]
    Expired,
}

impl Identity {
    /// Whether the identity may act at `now`: active and not expired.
    pub fn check_usable(&self, now: UnixTime) -> Result<(), Unusable> {
        if self.state != IdentityState::Active {
            return Err(Unusable::State(self.state));
        }
        match self.expires {
            Some(at) if at <= now => Err(Unusable::Expired),
            _ => Ok(()),
        }
    }
}

/// Whether `id` is a valid identity id.
pub fn valid_identity_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b.is_ascii_digit())
        && id.len() <= 63
        && bytes.all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// Whether `scope` is a valid OAuth scope token (RFC 6749 section 3.3).
pub fn valid_scope(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(state: IdentityState, expires: Option<UnixTime>) -> Identity {
        Identity {
            id: "reporting-bot".into(),
            kind: IdentityKind::Agent,
            owner: "team-data".into(),
            environment: "prod".into(),
            tags: vec![],
            scopes: vec!["orders:read".into()],
            state,
            created: 0,
            expires,
            last_used: None,
        }
    }

    #[test]
    fn only_active_unexpired_identities_are_usable() {
        assert_eq!(
            identity(IdentityState::Active, None).check_usable(10),
            Ok(())
        );
        assert_eq!(
            identity(IdentityState::Active, Some(11)).check_usable(10),
            Ok(())
        );
        assert_eq!(
            identity(IdentityState::Active, Some(10)).check_usable(10),
            Err(Unusable::Expired)
        );
        for s in [
            IdentityState::Suspended,
            IdentityState::Quarantined,
            IdentityState::Retired,
        ] {
            assert_eq!(identity(s, None).check_usable(10), Err(Unusable::State(s)));
        }
    }

    #[test]
    fn spellings_round_trip() {
        for k in [
            IdentityKind::Agent,
            IdentityKind::Service,
            IdentityKind::Workload,
            IdentityKind::CiJob,
        ] {
            assert_eq!(k.as_str().parse::<IdentityKind>(), Ok(k));
        }
        assert!("robot".parse::<IdentityKind>().is_err());
        assert_eq!(
            "suspended".parse::<IdentityState>(),
            Ok(IdentityState::Suspended)
        );
    }

    #[test]
    fn ids_and_scopes() {
        assert!(valid_identity_id("ci-job.deploy_1"));
        assert!(!valid_identity_id("Bot"));
        assert!(!valid_identity_id("-x"));
        assert!(!valid_identity_id(""));
        assert!(valid_scope("orders:read"));
        assert!(!valid_scope("orders read"));
        assert!(!valid_scope("a\"b"));
    }
}
