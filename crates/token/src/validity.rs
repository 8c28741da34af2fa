//! The time window of a token or assertion: `exp`, `nbf` and `iat` against an
//! injected `now`, with a bounded leeway for clock skew.
//!
//! Never reads the system clock, and saturates rather than overflows: an
//! attacker may put `i64::MAX` in any numeric claim.

use portcullis_core::UnixTime;

use crate::error::TokenError;

/// The registered time claims, as found in a token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) exp: UnixTime,
    pub(crate) nbf: Option<UnixTime>,
    pub(crate) iat: Option<UnixTime>,
}

impl Window {
    /// Refuses a token that is expired, or not yet valid, at `now`.
    ///
    /// `leeway` is the skew tolerated in either direction: a token is still
    /// accepted `leeway` seconds after `exp`, and `nbf`/`iat` may be up to
    /// `leeway` seconds in the future.
    pub(crate) fn check(self, now: UnixTime, leeway: i64) -> Result<(), TokenError> {
        if now > self.exp.saturating_add(leeway) {
            return Err(TokenError::Expired);
        }
        let latest_start = now.saturating_add(leeway);
        if self.nbf.is_some_and(|nbf| nbf > latest_start)
            || self.iat.is_some_and(|iat| iat > latest_start)
        {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(exp: i64, nbf: Option<i64>, iat: Option<i64>) -> Window {
        Window { exp, nbf, iat }
    }

    #[test]
    fn expiry_with_leeway() {
        assert_eq!(window(100, None, None).check(100, 0), Ok(()));
        assert_eq!(
            window(100, None, None).check(101, 0),
            Err(TokenError::Expired)
        );
        assert_eq!(window(100, None, None).check(130, 30), Ok(()));
        assert_eq!(
            window(100, None, None).check(131, 30),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn not_before_and_issued_at_with_leeway() {
        assert_eq!(window(900, Some(130), None).check(100, 30), Ok(()));
        assert_eq!(
            window(900, Some(131), None).check(100, 30),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            window(900, None, Some(131)).check(100, 30),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(window(900, None, Some(130)).check(100, 30), Ok(()));
    }

    #[test]
    fn extremes_saturate() {
        assert_eq!(window(i64::MAX, None, None).check(i64::MAX, 120), Ok(()));
        assert_eq!(
            window(i64::MIN, None, None).check(0, 120),
            Err(TokenError::Expired)
        );
        assert_eq!(
            window(i64::MAX, Some(i64::MAX), None).check(0, 120),
            Err(TokenError::NotYetValid)
        );
    }
}
