//! The bounds of every count a user gives on the command line, checked as the flag is read,
//! before anything is sized from it: `-k 4611686018427387904` is one line naming `-k` and its
//! limit, never a `capacity overflow`. A model's settings (`factors`, `epochs`, ...) are bounded
//! in [`crate::recommender::settings::BOUNDS`]; a data file's sizes by the data layer.
//!
//! Each bound is a [`Count`]; `value_parser = limits::K.parser()` reads a flag through it.

/// A count flag's bounds, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    /// The least value (0 where 0 means "none").
    pub least: u64,
    /// The most.
    pub most: u64,
}

/// `-k`: the length of a top-k list (more than the catalogue only ranks all of it).
pub const K: Count = Count {
    least: 1,
    most: 1_000_000,
};
/// `--sampled` / `--negatives` of a sampled protocol: negatives per test user (0: none).
pub const SAMPLED: Count = Count {
    least: 0,
    most: 100_000,
};
/// `--seeds`: runs of each model (each one a full training).
pub const SEEDS: Count = Count {
    least: 1,
    most: 1000,
};
/// `--folds` of a k-fold split.
pub const FOLDS: Count = Count {
    least: 2,
    most: 1000,
};
/// `--fold`: which fold of a k-fold split (also checked against `--folds`).
pub const FOLD: Count = Count {
    least: 0,
    most: 999,
};
/// `--last-n`: each user's last interactions held out.
pub const LAST_N: Count = Count {
    least: 1,
    most: 1_000_000,
};
/// `--epochs` (and the notebooks' epoch counts), `selftest --steps`.
pub const EPOCHS: Count = Count {
    least: 1,
    most: 1_000_000,
};
/// A notebook's epoch counts, where 0 runs its data preparation alone.
pub const EPOCHS_OR_NONE: Count = Count {
    least: 0,
    most: 1_000_000,
};
/// An embedding width (`--factors`, `--emb-dim`).
pub const FACTORS: Count = Count {
    least: 1,
    most: 65_536,
};
/// A batch size.
pub const BATCH: Count = Count {
    least: 1,
    most: 16_777_216,
};
/// Negatives drawn per positive while training.
pub const TRAIN_NEGATIVES: Count = Count {
    least: 1,
    most: 1000,
};
/// Hidden layers of a tower (`--neumf-layers`).
pub const LAYERS: Count = Count { least: 1, most: 8 };
/// `--threads`: libtorch's intra-op threads (0: the default).
pub const THREADS: Count = Count {
    least: 0,
    most: 1024,
};
/// Repeated runs of a notebook cell (`--prior-runs`, nb002's `--seeds`).
pub const RUNS: Count = Count {
    least: 0,
    most: 1000,
};

impl Count {
    /// `text` as a count within these bounds, or the reason it is not (clap prefixes the
    /// flag: `invalid value '0' for '-k <K>': must be 1 to 1000000, got 0`).
    pub fn read(&self, text: &str) -> Result<u64, String> {
        let range = format!(
            "must be a whole number from {} to {}",
            self.least, self.most
        );
        let got = crate::data::excerpt(text);
        match text.trim().parse::<u64>() {
            Ok(n) if (self.least..=self.most).contains(&n) => Ok(n),
            _ => Err(format!("{range}, got {got}")),
        }
    }

    /// A clap value parser reading a `usize` flag through [`Count::read`].
    pub fn parser(self) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
        move |text| self.read(text).map(|n| n as usize)
    }

    /// A clap value parser reading an `i64` flag through [`Count::read`].
    pub fn parser_i64(
        self,
    ) -> impl Fn(&str) -> Result<i64, String> + Clone + Send + Sync + 'static {
        move |text| self.read(text).map(|n| n as i64)
    }

    /// A clap value parser reading an `i32` flag (libtorch's thread counts) through
    /// [`Count::read`].
    pub fn parser_i32(
        self,
    ) -> impl Fn(&str) -> Result<i32, String> + Clone + Send + Sync + 'static {
        assert!(self.most <= i32::MAX as u64, "a bound that fits an i32");
        move |text| self.read(text).map(|n| n as i32)
    }

    /// Check a count that did not come through a parser (a config file's), naming `what`.
    pub fn check(&self, what: &str, n: u64) -> anyhow::Result<()> {
        if !(self.least..=self.most).contains(&n) {
            anyhow::bail!("{what} must be {} to {}, got {n}", self.least, self.most);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outside_their_bounds_are_refused_with_the_bounds() {
        assert_eq!(K.read("10"), Ok(10));
        for bad in [
            "0",
            "4611686018427387904",
            "1e18",
            "-3",
            "",
            "18446744073709551616",
        ] {
            let e = K.read(bad).unwrap_err();
            assert!(
                e.starts_with("must be a whole number from 1 to 1000000"),
                "{e}"
            );
        }
        assert_eq!(SAMPLED.read("0"), Ok(0));
        assert!(K.read(&"9".repeat(100_000)).unwrap_err().len() < 200);
        assert!(SEEDS.check("seeds", 0).is_err() && SEEDS.check("seeds", 3).is_ok());
    }
}
