//! Printing shared by the commands: the split line with its fingerprints, and numbers as
//! people read them (never `-0.0000`).

use recsys::prep::prepared::Prepared;
use recsys::prep::spec::SplitSpec;
use recsys::prep::split::validation::ValidationSplit;
use recsys::runtime::context::Context;
use recsys::say;

/// Print the split: sizes and fingerprints, the validation part, dropped test rows.
pub fn say_split(ctx: &Context, split: &SplitSpec, data: &Prepared) {
    say!(
        ctx,
        "split     {}: train {} ({} users, {} items), test {}",
        split.describe(),
        data.fingerprints.train,
        data.users.len(),
        data.items.len(),
        data.fingerprints.test
    );
    if let (Some(f), Some(v)) = (split.validation_fraction, &data.fingerprints.validation) {
        let how = match split.validation_kind() {
            ValidationSplit::LastN(n) => format!("each user's last {n} of train"),
            kind => format!("{f} of train, {kind:?} as the test"),
        };
        say!(ctx, "validation {how}: {v}");
    }
    if data.dropped_test > 0 {
        say!(
            ctx,
            "test      {} rows of {} dropped: their user or item is not in train",
            data.dropped_test,
            split.test_file.as_deref().unwrap_or("the test file")
        );
    }
}

/// `x` with 4 decimals, as a metric is printed: a value that rounds to zero prints `0.0000`,
/// never `-0.0000` (a negative zero or a tiny negative rounding error is no sign to show).
pub fn metric(x: f64) -> String {
    let text = format!("{x:.4}");
    match text.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_negative_zero_is_printed() {
        assert_eq!(super::metric(-0.0), "0.0000");
        assert_eq!(super::metric(-0.00001), "0.0000");
        assert_eq!(super::metric(-0.5), "-0.5000");
        assert_eq!(super::metric(0.12345), "0.1235");
        assert_eq!(super::metric(f64::NAN), "NaN");
    }
}
