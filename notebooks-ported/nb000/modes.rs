//! `--compare-modes`: notebook 000's faithful and corrected runs side by side.

use recsys::eval::sampled::SampledMetrics;
use recsys::{say, Context};

use super::outcome::{ModelRuns, Outcome, TrainLog};

/// `--compare-modes`: the faithful and the corrected mode's numbers side by side.
pub fn print_side_by_side(ctx: &Context, f: &Outcome, c: &Outcome) {
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "split at (local time)".into(),
            f.data.split_at.clone(),
            c.data.split_at.clone(),
        ),
        (
            "train max datetime".into(),
            f.data.train_max_datetime.clone(),
            c.data.train_max_datetime.clone(),
        ),
        (
            "test min datetime".into(),
            f.data.test_min_datetime.clone(),
            c.data.test_min_datetime.clone(),
        ),
        (
            "days with interactions".into(),
            f.data.days.to_string(),
            c.data.days.to_string(),
        ),
        (
            "train / test rows".into(),
            format!("{} / {}", f.data.train_rows, f.data.test_rows),
            format!("{} / {}", c.data.train_rows, c.data.test_rows),
        ),
        (
            "test rows kept (users)".into(),
            format!("{} ({})", f.data.test_rows_kept, f.data.test_users),
            format!("{} ({})", c.data.test_rows_kept, c.data.test_users),
        ),
    ];
    let mut add_model = |name: &str, fr: &ModelRuns, cr: &ModelRuns| {
        let loss = |l: &TrainLog| l.printed.last().map_or("-".into(), |v| format!("{v:.4}"));
        rows.push((
            format!("{name} printed loss, last epoch (no sampling)"),
            loss(&fr.unsampled_training),
            loss(&cr.unsampled_training),
        ));
        rows.push((
            format!("{name} printed loss, last epoch (sampling)"),
            loss(&fr.sampled_training),
            loss(&cr.sampled_training),
        ));
        let stages = [
            ("untrained", &fr.untrained, &cr.untrained),
            ("no sampling", &fr.trained_unsampled, &cr.trained_unsampled),
            ("sampling", &fr.trained_sampled, &cr.trained_sampled),
        ];
        for (stage, a, b) in stages {
            let fmt = |m: &SampledMetrics| {
                m.recall
                    .iter()
                    .map(|x| format!("{x:.3}"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            rows.push((format!("{name} {stage} Recall@5/10/30"), fmt(a), fmt(b)));
            let ndcg = |m: &SampledMetrics| format!("{:.3}", m.ndcg[1]);
            rows.push((format!("{name} {stage} NDCG@10"), ndcg(a), ndcg(b)));
        }
    };
    add_model("MF", &f.mf, &c.mf);
    if let (Some(a), Some(b)) = (&f.neumf, &c.neumf) {
        add_model("NeuMF", a, b);
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(10).max(8);
    say!(ctx, "{:<w0$}  {:<w1$}  corrected", "quantity", "faithful");
    for (q, a, b) in rows {
        say!(ctx, "{q:<w0$}  {a:<w1$}  {b}");
    }
}
