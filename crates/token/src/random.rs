//! Random bytes from aws-lc's system generator, for keys, secrets and `jti`s.
//!
//! Must never fall back to a weaker source: a failure is an error, not a
//! quietly predictable value.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::error::TokenError;

/// `N` bytes from the operating system's CSPRNG (via aws-lc).
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], TokenError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| TokenError::Randomness)?;
    Ok(out)
}

/// 128 random bits as lower-case hex: an unguessable handle (an MCP session id).
///
/// # Errors
/// The system generator failed; never a weaker value instead.
pub fn hex_id() -> Result<String, TokenError> {
    Ok(bytes::<16>()?.iter().map(|b| format!("{b:02x}")).collect())
}
