//! Train EASE^R and implicit ALS on a ratings CSV and print each one's NDCG@10.
//!
//! ```sh
//! cargo run --release --example classic_ndcg -- ratings.csv   # user,item,rating,timestamp
//! cargo run --release --example classic_ndcg                  # ml-100k, shipped
//! ```

use anyhow::Result;
use recsys::prep::prepared::prepare;
use recsys::prep::spec::{DataSpec, SplitKind, SplitSpec};
use recsys::recommender::evaluation::{evaluate, Evaluation};
use recsys::recommender::registry::{self, FitInput};
use recsys::recommender::{train_set, Task};
use recsys::Context;
use serde_json::json;

fn main() -> Result<()> {
    let data = std::env::args().nth(1).unwrap_or_else(|| "ml-100k".into());
    let ctx = Context::for_tests(std::path::Path::new("."));
    let ratings = DataSpec::new(&data).load(&ctx)?;

    // Ratings above 3 are the positives; a random 80/20 split, seeded.
    tch::manual_seed(42);
    let split = SplitSpec::new(SplitKind::Random, 0.2);
    let run = prepare(ratings, None, Some(3.0), &split)?;
    let train = train_set(&run, &run.train, Task::Ranking)?;

    for (name, settings) in [
        ("ease", json!({ "lambda": 300.0 })),
        ("als", json!({ "factors": 64 })),
    ] {
        let model = registry::find(name)?;
        let config = model.resolve(&settings)?;
        let fitted = model.fit(&config, &train, &mut FitInput::on(tch::Device::Cpu))?;
        if let Evaluation::Ranking { full, .. } =
            evaluate(fitted.model.as_ref(), &run, split.kind, 10, 0, 42)?
        {
            println!("{name:<5} NDCG@10 {:.4}", full.ndcg);
        }
    }
    Ok(())
}
