//! Printing shared by the commands that split data: the split line with its fingerprints.

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
