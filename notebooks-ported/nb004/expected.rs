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
/// Part 1's printed losses, `(epoch, loss)` (every 10th epoch, from 0).
pub const NB_MF_LOSSES: [(usize, f64); 25] = [
    (0, 5.326584339141846),
    (10, 5.2930169105529785),
    (20, 5.199587345123291),
    (30, 5.049565315246582),
    (40, 4.848113059997559),
    (50, 4.601992130279541),
    (60, 4.31919002532959),
    (70, 4.008499622344971),
    (80, 3.6790778636932373),
    (90, 3.3400299549102783),
    (100, 3.0000295639038086),
    (110, 2.6670033931732178),
    (120, 2.347891092300415),
    (130, 2.0484859943389893),
    (140, 1.7733550071716309),
    (150, 1.5258251428604126),
    (160, 1.308035969734192),
    (170, 1.1210335493087769),
    (180, 0.9648990631103516),
    (190, 0.8388968706130981),
    (200, 0.7416288256645203),
    (210, 0.6711893677711487),
    (220, 0.625308632850647),
    (230, 0.6014841198921204),
    (240, 0.5970937013626099),
];
/// Part 2's printed losses of the last batch, `(epoch, loss)` (epochs 0-25; the text
/// cuts epoch 26's).
pub const NB_NET_LOSSES: [(usize, f64); 26] = [
    (0, 1.2321830987930298),
    (1, 1.037410020828247),
    (2, 0.9033569097518921),
    (3, 0.9484357237815857),
    (4, 0.8854527473449707),
    (5, 0.817359209060669),
    (6, 0.8303821086883545),
    (7, 0.8551475405693054),
    (8, 0.9294219613075256),
    (9, 0.7396958470344543),
    (10, 0.7679277062416077),
    (11, 0.7623749375343323),
    (12, 0.7428615093231201),
    (13, 0.7214045524597168),
    (14, 0.7749396562576294),
    (15, 0.7848702073097229),
    (16, 0.5242792367935181),
    (17, 0.6891729235649109),
    (18, 0.5654334425926208),
    (19, 0.7867417335510254),
    (20, 0.6534708142280579),
    (21, 0.607595682144165),
    (22, 0.737130343914032),
    (23, 0.6620026230812073),
    (24, 0.6156119108200073),
    (25, 0.7351477742195129),
];
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
