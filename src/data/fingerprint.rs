//! Data fingerprints: a count and a short hash of a set of (user, item) pairs, printed by the
//! Rust ports and their Python twins so that both can be seen to train on the same data, and
//! stored beside saved models so a checkpoint is not used on other data.
//!
//! The hash is the first 16 hex digits of the SHA-256 of the pairs sorted ascending, written as
//! `"{user},{item}\n"` each. In Python:
//! `hashlib.sha256("".join(f"{u},{i}\n" for u, i in sorted(pairs)).encode()).hexdigest()[:16]`.

use sha2::{Digest, Sha256};

/// Count and hash of a set of (user, item) pairs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    pub rows: usize,
    pub hash: String,
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rows, sha256 {}", self.rows, self.hash)
    }
}

/// Fingerprint pairs given as parallel user and item columns (any order, duplicates counted).
pub fn fingerprint(users: &[i64], items: &[i64]) -> Fingerprint {
    assert_eq!(
        users.len(),
        items.len(),
        "fingerprint: column lengths differ"
    );
    let mut pairs: Vec<(i64, i64)> = users.iter().copied().zip(items.iter().copied()).collect();
    pairs.sort_unstable();
    let mut hasher = Sha256::new();
    for (u, i) in &pairs {
        hasher.update(format!("{u},{i}\n").as_bytes());
    }
    let hash = hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    Fingerprint {
        rows: pairs.len(),
        hash,
    }
}

/// Fingerprint the `user_id` and `item_id` columns of a ratings table.
pub fn fingerprint_table(df: &polars::prelude::DataFrame) -> anyhow::Result<Fingerprint> {
    let users: Vec<i64> = crate::prep::i64_values(df, "user_id")?.collect();
    let items: Vec<i64> = crate::prep::i64_values(df, "item_id")?.collect();
    Ok(fingerprint(&users, &items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_content_does() {
        let a = fingerprint(&[2, 1], &[5, 7]);
        assert_eq!(a, fingerprint(&[1, 2], &[7, 5]));
        assert_ne!(a, fingerprint(&[1, 2], &[7, 6]));
        // Python: hashlib.sha256(b"1,7\n2,5\n").hexdigest()[:16]
        assert_eq!(a.hash, "8a0bdf6d7a3444a1");
        assert_eq!(a.rows, 2);
    }
}
