//! Checkpoints: the chain head (sequence number and hash) at a moment,
//! signed with the ledger's key. Every record up to a checkpoint is bound by
//! its signature, so a history rewritten without the key (even one whose
//! hashes were all recomputed) no longer matches, and a tail cut below a
//! checkpoint is noticed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::chain::Hash;
use crate::key::{AuditKey, PublicKey};

/// One signed chain head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last record it covers.
    pub seq: u64,
    /// That record's hash, hex.
    pub hash: String,
    /// When it was signed, milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub kid: String,
    /// Ed25519 signature over [`Checkpoint::message`], base64url.
    pub signature: String,
}

impl Checkpoint {
    /// Signs the head `(seq, hash)` at `time_ms`.
    pub fn sign(key: &AuditKey, seq: u64, hash: Hash, time_ms: i64) -> Self {
        let message = message(seq, &hash.to_hex(), time_ms);
        Self {
            seq,
            hash: hash.to_hex(),
            time_ms,
            kid: key.kid().to_owned(),
            signature: URL_SAFE_NO_PAD.encode(key.sign(&message)),
        }
    }

    /// Whether one of `keys` (by `kid`) signed exactly this head.
    pub fn is_signed_by(&self, keys: &[PublicKey]) -> bool {
        let Ok(signature) = URL_SAFE_NO_PAD.decode(&self.signature) else {
            return false;
        };
        let message = message(self.seq, &self.hash, self.time_ms);
        keys.iter()
            .filter(|k| k.kid == self.kid)
            .any(|k| k.verify(&message, &signature))
    }
}

/// What is signed: a fixed prefix (so the signature means nothing else),
/// then the fields, one per line.
fn message(seq: u64, hash_hex: &str, time_ms: i64) -> Vec<u8> {
    format!("portcullis-audit-checkpoint/v1\n{seq}\n{hash_hex}\n{time_ms}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_only_as_signed() {
        let key = AuditKey::generate("audit-1").unwrap();
        let other = AuditKey::generate("audit-1").unwrap();
        let cp = Checkpoint::sign(&key, 7, Hash::of(b"x"), 1_700_000_000_000);
        assert!(cp.is_signed_by(&[key.public()]));
        assert!(!cp.is_signed_by(&[other.public()]), "same kid, other key");
        let mut moved = cp.clone();
        moved.seq = 8;
        assert!(!moved.is_signed_by(&[key.public()]));
    }
}
