//! The models an experiment can set side by side, by name, with the settings each one takes.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};

use super::grid::parse_pairs;
use super::neural;
use crate::zoo::ModelKind;
use recsys::classic::{Ranker, RatingPredictor, TrainSet};
use recsys::runtime::context::Context;

/// What a model does: rank items (implicit feedback) or predict ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    Ranking,
    Rating,
}

impl Task {
    /// +1 when the primary metric is better higher (NDCG), -1 when lower (RMSE).
    pub fn sign(self) -> f64 {
        match self {
            Task::Ranking => 1.0,
            Task::Rating => -1.0,
        }
    }
}

/// A fitted model.
pub enum Fitted {
    Ranker(Box<dyn Ranker>),
    Rating(Box<dyn RatingPredictor>),
}

/// `--set` values: one number per setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(pub BTreeMap<String, f64>);

impl Settings {
    /// Parse `key=value key2=value`.
    pub fn parse(text: &str, flag: &str) -> Result<Settings> {
        let mut out = BTreeMap::new();
        for (key, values) in parse_pairs(text, flag)? {
            if values.len() != 1 {
                bail!("{flag} {key}: one value per setting (a list of values is for --grid)");
            }
            out.insert(key, values[0]);
        }
        Ok(Settings(out))
    }
}

/// One model of the zoo below, with its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Contender {
    which: Which,
    settings: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Random,
    Pop,
    ItemKnn,
    UserKnn,
    Ease,
    Als,
    Bpr,
    GlobalMean,
    Normal,
    Baseline,
    Svd,
    KnnBasic,
    Nmf,
    /// A network of the command line's zoo.
    Neural(ModelKind),
}

/// Name, task, settings it takes (its config's field names), and a line of help, per model.
type Entry = (
    Which,
    &'static str,
    Task,
    &'static [&'static str],
    &'static str,
);

const ZOO: [Entry; 18] = [
    (
        Which::Random,
        "random",
        Task::Ranking,
        &[],
        "uniform random scores",
    ),
    (
        Which::Pop,
        "pop",
        Task::Ranking,
        &[],
        "most popular in train",
    ),
    (
        Which::ItemKnn,
        "item-knn",
        Task::Ranking,
        &["neighbors", "shrink"],
        "item-based cosine kNN",
    ),
    (
        Which::UserKnn,
        "user-knn",
        Task::Ranking,
        &["neighbors", "shrink"],
        "user-based cosine kNN",
    ),
    (
        Which::Ease,
        "ease",
        Task::Ranking,
        &["lambda"],
        "EASE^R (Steck 2019)",
    ),
    (
        Which::Als,
        "als",
        Task::Ranking,
        &["factors", "regularization", "alpha", "iterations"],
        "implicit ALS (Hu, Koren & Volinsky 2008)",
    ),
    (
        Which::Bpr,
        "bpr",
        Task::Ranking,
        &["factors", "learning_rate", "regularization", "iterations"],
        "BPR-MF (Rendle et al. 2009)",
    ),
    (
        Which::GlobalMean,
        "global-mean",
        Task::Rating,
        &[],
        "the mean train rating",
    ),
    (
        Which::Normal,
        "normal",
        Task::Rating,
        &[],
        "Surprise's NormalPredictor (random)",
    ),
    (
        Which::Baseline,
        "baseline",
        Task::Rating,
        &["n_epochs", "reg_u", "reg_i"],
        "Surprise's BaselineOnly (user and item biases)",
    ),
    (
        Which::Svd,
        "svd",
        Task::Rating,
        &["n_factors", "n_epochs", "lr", "reg"],
        "Funk-SVD, Surprise's SVD (biased MF by SGD)",
    ),
    (
        Which::KnnBasic,
        "knn-basic",
        Task::Rating,
        &["neighbors", "min_k"],
        "Surprise's KNNBasic (user-based, MSD)",
    ),
    (
        Which::Nmf,
        "nmf",
        Task::Rating,
        &["n_factors", "n_epochs"],
        "Surprise's NMF",
    ),
    (
        Which::Neural(ModelKind::Mf),
        "mf",
        Task::Ranking,
        neural::KEYS,
        "matrix factorization (train's mf)",
    ),
    (
        Which::Neural(ModelKind::Neumf),
        "neumf",
        Task::Ranking,
        neural::KEYS,
        "NeuMF (He et al. 2017)",
    ),
    (
        Which::Neural(ModelKind::TwoTower),
        "two-tower",
        Task::Ranking,
        neural::KEYS,
        "two-tower (notebook 003)",
    ),
    (
        Which::Neural(ModelKind::Bilinear),
        "bilinear",
        Task::Rating,
        neural::KEYS,
        "Spotlight's bilinear net with biases",
    ),
    (
        Which::Neural(ModelKind::Mlp),
        "mlp",
        Task::Rating,
        neural::KEYS,
        "RecommenderNet (notebook 004)",
    ),
];

impl Contender {
    fn entry(&self) -> &'static Entry {
        ZOO.iter()
            .find(|e| e.0 == self.which)
            .expect("every model is in the zoo")
    }

    /// The model `name`, with the `--set` settings it knows.
    pub fn parse(name: &str, settings: &Settings) -> Result<Contender> {
        let (which, ..) = ZOO.iter().find(|e| e.1 == name).ok_or_else(|| {
            let names: Vec<&str> = ZOO.iter().map(|e| e.1).collect();
            anyhow!(
                "--models: unknown model {name:?}; choose from {}",
                names.join(", ")
            )
        })?;
        let c = Contender {
            which: *which,
            settings: BTreeMap::new(),
        };
        Ok(c.with(&settings.0))
    }

    /// The command-line name.
    pub fn name(&self) -> &'static str {
        self.entry().1
    }

    /// Ranking or rating.
    pub fn task(&self) -> Task {
        self.entry().2
    }

    /// Whether the model takes the setting `key`.
    pub fn knows(&self, key: &str) -> bool {
        self.entry().3.contains(&key)
    }

    /// A copy with `settings` applied (the ones the model does not know are ignored).
    pub fn with(&self, settings: &BTreeMap<String, f64>) -> Contender {
        let mut c = self.clone();
        for (k, v) in settings.iter().filter(|(k, _)| self.knows(k)) {
            c.settings.insert(k.clone(), *v);
        }
        c
    }

    fn get(&self, key: &str) -> Option<f64> {
        self.settings.get(key).copied()
    }

    /// Fit on `train` (libtorch's generator seeded by the caller).
    pub fn fit(&self, ctx: &Context, train: &TrainSet) -> Result<Fitted> {
        use recsys::classic::*;
        let count = |key: &str, default: usize| -> Result<usize> {
            match self.get(key) {
                None => Ok(default),
                Some(v) if v >= 1.0 && v.fract() == 0.0 => Ok(v as usize),
                Some(v) => bail!("{}: {key} must be a whole number ≥ 1, got {v}", self.name()),
            }
        };
        let real = |key: &str, default: f64| self.get(key).unwrap_or(default);
        let rank = |r: Box<dyn Ranker>| Ok(Fitted::Ranker(r));
        let rate = |r: Box<dyn RatingPredictor>| Ok(Fitted::Rating(r));
        match self.which {
            Which::Random => rank(Box::new(random::Random::fit(train, &random::Config {})?)),
            Which::Pop => rank(Box::new(popularity::MostPopular::fit(
                train,
                &popularity::Config {},
            )?)),
            Which::ItemKnn | Which::UserKnn => {
                let mut c = if self.which == Which::ItemKnn {
                    knn::Config::item_default()
                } else {
                    knn::Config::user_default()
                };
                c.k = count("neighbors", c.k)?;
                c.shrink = real("shrink", c.shrink);
                if self.which == Which::ItemKnn {
                    rank(Box::new(knn::ItemKnn::fit(train, &c)?))
                } else {
                    rank(Box::new(knn::UserKnn::fit(train, &c)?))
                }
            }
            Which::Ease => {
                let d = ease::Config::default();
                let c = ease::Config {
                    lambda: real("lambda", d.lambda),
                    ..d
                };
                rank(Box::new(ease::Ease::fit(train, &c)?))
            }
            Which::Als => {
                let d = als::Config::default();
                let c = als::Config {
                    factors: count("factors", d.factors)?,
                    regularization: real("regularization", d.regularization),
                    alpha: real("alpha", d.alpha),
                    iterations: count("iterations", d.iterations)?,
                    ..d
                };
                rank(Box::new(als::Als::fit(train, &c)?))
            }
            Which::Bpr => {
                let d = bpr::Config::default();
                let c = bpr::Config {
                    factors: count("factors", d.factors)?,
                    learning_rate: real("learning_rate", d.learning_rate as f64) as f32,
                    regularization: real("regularization", d.regularization as f64) as f32,
                    iterations: count("iterations", d.iterations)?,
                };
                rank(Box::new(bpr::Bpr::fit(train, &c)?))
            }
            Which::GlobalMean => rate(Box::new(baseline::GlobalMean::fit(train)?)),
            Which::Normal => rate(Box::new(normal::NormalPredictor::fit(train)?)),
            Which::Baseline => {
                let d = baseline::BaselineConfig::default();
                let c = baseline::BaselineConfig {
                    n_epochs: count("n_epochs", d.n_epochs)?,
                    reg_u: real("reg_u", d.reg_u),
                    reg_i: real("reg_i", d.reg_i),
                };
                rate(Box::new(baseline::BaselineOnly::fit(train, &c)?))
            }
            Which::Svd => {
                let d = funk_svd::FunkSvdConfig::default();
                let c = funk_svd::FunkSvdConfig {
                    n_factors: count("n_factors", d.n_factors)?,
                    n_epochs: count("n_epochs", d.n_epochs)?,
                    lr: real("lr", d.lr),
                    reg: real("reg", d.reg),
                    ..d
                };
                rate(Box::new(funk_svd::FunkSvd::fit(train, &c)?))
            }
            Which::KnnBasic => {
                let d = surprise_knn::KnnBasicConfig::default();
                let c = surprise_knn::KnnBasicConfig {
                    k: count("neighbors", d.k)?,
                    min_k: count("min_k", d.min_k)?,
                    ..d
                };
                rate(Box::new(surprise_knn::KnnBasic::fit(train, &c)?))
            }
            Which::Neural(kind) => neural::fit(kind, &self.settings, train, ctx.device),
            Which::Nmf => {
                let d = nmf::NmfConfig::default();
                let c = nmf::NmfConfig {
                    n_factors: count("n_factors", d.n_factors)?,
                    n_epochs: count("n_epochs", d.n_epochs)?,
                    ..d
                };
                rate(Box::new(nmf::Nmf::fit(train, &c)?))
            }
        }
    }
}
