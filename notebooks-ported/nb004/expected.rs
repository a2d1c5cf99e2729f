//! What notebook 004 printed, and its numbers set beside a run's.

use recsys::models::recommender_net::Evaluation;
use recsys::say;

use crate::notebooks::transcript::Out;

// Published values. The bands are mean ± 3 sd of this port over seeds 0-4 at the notebook's
// settings (`scripts/seeds.py 004 --seeds 0-4`, see the README, notebook 004); each holds the
// notebook's value.
pub const NB_MF_LOSS_0: f64 = 5.326584339141846;
pub const NB_MF_LOSS_240: f64 = 0.5970937013626099;
pub const NB_MF_LOSS_LAST: f64 = 0.6075699925422668;
pub const NB_NET_LOSS_0: f64 = 1.2321830987930298;
pub const NB_NET_AVG_LOSS: f64 = 0.7456024885177612;
pub const NB_NET_ACCURACY: f64 = 0.44933000206947327;
pub const NB_FIRST_ROWS: &str = "tensor([[ 5,  3,  4,  ..., -1, -1, -1],
        [ 4, -1, -1,  ..., -1, -1, -1],
        [-1, -1, -1,  ..., -1, -1, -1],
        [-1, -1, -1,  ..., -1, -1, -1],
        [ 4,  3, -1,  ..., -1, -1, -1]])";

/// The RecommenderNet evaluations of both modes side by side, next to the notebook's.
pub fn print_beside_notebook(
    out: &Out,
    faithful: Option<&Evaluation>,
    corrected_train: Option<&Evaluation>,
    corrected_holdout: Option<&Evaluation>,
) {
    let cell = |e: Option<&Evaluation>, f: fn(&Evaluation) -> f64| {
        e.map(|e| format!("{:.4}", f(e)))
            .unwrap_or_else(|| "-".into())
    };
    say!(out, "");
    say!(
        out,
        "{:<34} {:>9} {:>9} {:>10} {:>10}",
        "RecommenderNet evaluation",
        "notebook",
        "faithful",
        "corrected",
        "corrected"
    );
    say!(
        out,
        "{:<34} {:>9} {:>9} {:>10} {:>10}",
        "",
        "train",
        "train",
        "train",
        "held out"
    );
    for (name, nb, f) in [
        (
            "average loss (MSE)",
            NB_NET_AVG_LOSS,
            (|e: &Evaluation| e.average_loss) as fn(&Evaluation) -> f64,
        ),
        (
            "accuracy (|error| < 0.5)",
            NB_NET_ACCURACY,
            |e: &Evaluation| e.accuracy,
        ),
    ] {
        say!(
            out,
            "{:<34} {:>9.4} {:>9} {:>10} {:>10}",
            name,
            nb,
            cell(faithful, f),
            cell(corrected_train, f),
            cell(corrected_holdout, f)
        );
    }
}
