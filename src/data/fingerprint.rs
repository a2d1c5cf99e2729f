//! Data fingerprints: a count and a short hash of a set of (user, item) pairs, printed by the
//! Rust ports and their Python twins so that both can be seen to train on the same data; and
//! [`fingerprint_table`], over every canonical column (ratings and timestamps too), stored
//! beside saved models so a checkpoint is not used on other data.
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
    Fingerprint {
        rows: pairs.len(),
        hash: short_hex(hasher),
    }
}

/// Fingerprint every canonical column of a ratings table: the SHA-256 (first 16 hex digits) of
/// its rows written as `"{user},{item},{rating},{timestamp}\n"` (the rating in Rust's shortest
/// round-trip form, e.g. `4.5`, `5`), sorted ascending (by user, item, timestamp, rating). A
/// changed rating or timestamp changes it, as does a changed pair.
pub fn fingerprint_table(df: &polars::prelude::DataFrame) -> anyhow::Result<Fingerprint> {
    use crate::prep::{f64_values, i64_values};
    let mut rows: Vec<(i64, i64, i64, f64)> = i64_values(df, "user_id")?
        .zip(i64_values(df, "item_id")?)
        .zip(i64_values(df, "timestamp")?)
        .zip(f64_values(df, "rating")?)
        .map(|(((u, i), t), r)| (u, i, t, r))
        .collect();
    rows.sort_unstable_by(|a, b| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then(a.3.total_cmp(&b.3))
    });
    let mut hasher = Sha256::new();
    for (u, i, t, r) in &rows {
        hasher.update(format!("{u},{i},{r},{t}\n").as_bytes());
    }
    Ok(Fingerprint {
        rows: rows.len(),
        hash: short_hex(hasher),
    })
}

fn short_hex(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
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

    #[test]
    fn table_fingerprint_covers_ratings_and_timestamps() {
        use polars::prelude::*;
        let table = |r: [f64; 2], t: [i64; 2]| {
            df!("user_id" => [1i64, 2], "item_id" => [7i64, 5], "rating" => r, "timestamp" => t)
                .unwrap()
        };
        let base = fingerprint_table(&table([4.0, 2.5], [10, 20])).unwrap();
        assert_eq!(base.rows, 2);
        // Python: sha256(b"1,7,4,10\n2,5,2.5,20\n").hexdigest()[:16]
        let text = "1,7,4,10\n2,5,2.5,20\n";
        let mut h = Sha256::new();
        h.update(text.as_bytes());
        assert_eq!(base.hash, short_hex(h));
        let flipped = fingerprint_table(&table([2.0, 3.5], [10, 20])).unwrap();
        let negated = fingerprint_table(&table([4.0, 2.5], [-10, -20])).unwrap();
        assert_ne!(base, flipped, "ratings count");
        assert_ne!(base, negated, "timestamps count");
        assert_ne!(flipped, negated);
    }
}
