//! Every model, listed once: its name, its task, its typed configuration with the defaults
//! written once, a line of help, and how it is fitted and rebuilt from saved tensors.
//!
//! A configuration travels as a JSON object (`--set`, `--grid`, a checkpoint's sidecar, an
//! experiment's `config.toml`) and is read into the model's typed configuration, whose serde
//! derive refuses unknown fields; [`super::settings`] checks keys before any work.

use anyhow::{anyhow, bail, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tch::Device;

use super::classic::{base_of, factorization_of, knn_basic_of, take, State};
use super::classic::{co_clustering_of, knn_centered_of, slope_one_of, svd_pp_of};
use super::network::{NetKind, Network, NetworkConfig};
use super::settings::merged;
use super::{Recommender, Sizes, Task, TrainSet};
use crate::classic::{als, baseline, bpr, ease, funk_svd, knn, nmf, normal, popularity, random};
use crate::classic::{co_clustering, knn_centered, pmf, slope_one, surprise_knn, svd_pp};
use crate::train::pairs::{fit_network, EpochEnd};

/// What runs after each epoch of a network: printing, validation, or an error that stops it.
pub type EpochHook<'a> = &'a mut dyn FnMut(&EpochEnd) -> Result<()>;

/// What fitting needs beyond the train set and the configuration.
pub struct FitInput<'a> {
    /// Where the networks' tensors live (classic models compute on the CPU).
    pub device: Device,
    /// The train rows' timestamps (the sequence models order each user's items by them).
    pub times: Option<&'a [i64]>,
    /// Runs after each epoch of a network (printing, validation); classic models skip it.
    pub on_epoch: Option<EpochHook<'a>>,
}

impl FitInput<'_> {
    /// On `device`, with no timestamps and no epoch hook.
    pub fn on(device: Device) -> FitInput<'static> {
        FitInput {
            device,
            times: None,
            on_epoch: None,
        }
    }
}

/// A fitted model with the configuration it ran with (every default filled in) and, for the
/// networks, each epoch's mean loss.
pub struct Fitted {
    pub model: Box<dyn Recommender>,
    pub config: Value,
    pub losses: Vec<f64>,
}

type FitFn = fn(&Value, &TrainSet, &mut FitInput) -> Result<Fitted>;
type LoadFn = fn(&Value, Sizes, State, Device) -> Result<Box<dyn Recommender>>;

/// One model of the registry.
pub struct ModelEntry {
    /// The name every command uses.
    pub name: &'static str,
    /// Its task under its default configuration.
    pub task: Task,
    /// A line of help.
    pub help: &'static str,
    /// Whether it follows `--device` (the networks) or computes on the CPU.
    pub on_device: bool,
    defaults: fn() -> Value,
    check: fn(&Value) -> Result<()>,
    fit: FitFn,
    load: LoadFn,
}

impl ModelEntry {
    /// The configuration's defaults, as a JSON object whose keys are the model's settings.
    pub fn defaults(&self) -> Value {
        (self.defaults)()
    }

    /// The model's settings, in its configuration's order.
    pub fn keys(&self) -> Vec<String> {
        match self.defaults() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => vec![],
        }
    }

    /// The task under `config` (a network's feedback decides between ranking and rating).
    pub fn task_for(&self, config: &Value) -> Task {
        match config.get("feedback").and_then(Value::as_str) {
            Some("explicit") => Task::Rating,
            Some("implicit") if self.task == Task::Rating => Task::Ranking,
            _ => self.task,
        }
    }

    /// `overrides` (a JSON object of settings) over the defaults, read into the typed
    /// configuration: an unknown key or a value of the wrong type is an error naming both.
    pub fn resolve(&self, overrides: &Value) -> Result<Value> {
        let mut config = self.defaults();
        if let (Value::Object(base), Value::Object(given)) = (&mut config, overrides) {
            for (k, v) in given {
                if !base.contains_key(k) {
                    bail!(
                        "{} takes no setting {k:?}; its settings: {}",
                        self.name,
                        self.keys().join(", ")
                    );
                }
                base.insert(k.clone(), v.clone());
            }
        }
        // reading it into the typed configuration checks the types (and a network's values)
        super::settings::check_bounds(self.name, &config)?;
        (self.check)(&config)?;
        Ok(config)
    }

    /// Fit the model with `config` (resolved by [`ModelEntry::resolve`]) on `train`.
    pub fn fit(&self, config: &Value, train: &TrainSet, input: &mut FitInput) -> Result<Fitted> {
        (self.fit)(config, train, input)
    }

    /// Rebuild a saved model from its configuration, sizes and tensors.
    pub fn load(
        &self,
        config: &Value,
        sizes: Sizes,
        state: State,
        device: Device,
    ) -> Result<Box<dyn Recommender>> {
        (self.load)(config, sizes, state, device)
    }
}

/// Read `config` into the typed configuration `C` of `model`; a value of the wrong type is an
/// error naming its setting (found by trying each setting alone over `defaults`).
pub fn typed<C: DeserializeOwned>(model: &str, config: &Value, defaults: &Value) -> Result<C> {
    serde_json::from_value(config.clone()).map_err(|e| {
        let culprit = config.as_object().into_iter().flatten().find(|(k, v)| {
            let mut one = defaults.clone();
            if let Value::Object(m) = &mut one {
                m.insert((*k).clone(), (*v).clone());
            }
            serde_json::from_value::<C>(one).is_err()
        });
        match culprit {
            Some((k, v)) => anyhow!("{model}: setting {k}={v}: {e}"),
            None => anyhow!("{model}: {e}"),
        }
    })
}

fn json<C: Serialize>(c: C) -> Value {
    serde_json::to_value(c).expect("a configuration serializes")
}

/// A classic model's entry: typed config `C`, fitted by `fit`, rebuilt by `load`.
macro_rules! classic {
    ($name:literal, $task:expr, $help:literal, $cfg:ty, $default:expr,
     fit: |$c:ident, $t:ident| $fit:expr,
     load: |$lc:ident, $sizes:ident, $state:ident| $load:expr) => {{
        fn defaults() -> Value {
            json::<$cfg>($default)
        }
        fn check(config: &Value) -> Result<()> {
            typed::<$cfg>($name, config, &defaults()).map(|_| ())
        }
        fn fit(config: &Value, $t: &TrainSet, _input: &mut FitInput) -> Result<Fitted> {
            let $c: $cfg = typed($name, config, &defaults())?;
            super::settings::ensure_fits($name, config, $t.n_users, $t.n_items)?;
            let model: Box<dyn Recommender> = Box::new($fit?);
            Ok(Fitted {
                model,
                config: json(&$c),
                losses: vec![],
            })
        }
        fn load(
            config: &Value,
            $sizes: Sizes,
            $state: State,
            _device: Device,
        ) -> Result<Box<dyn Recommender>> {
            let $lc: $cfg = typed($name, config, &defaults())?;
            let _ = &$lc;
            let model: Box<dyn Recommender> = Box::new($load?);
            if model.n_items() != $sizes.n_items {
                bail!(
                    "the saved {} scores {} items where its sidecar says {}",
                    $name,
                    model.n_items(),
                    $sizes.n_items
                );
            }
            Ok(model)
        }
        ModelEntry {
            name: $name,
            task: $task,
            help: $help,
            on_device: false,
            defaults,
            check,
            fit,
            load,
        }
    }};
}

/// A network's entry (the networks share one configuration, with defaults per kind).
macro_rules! network {
    ($kind:expr, $task:expr, $help:literal) => {{
        fn defaults() -> Value {
            let kind: NetKind = $kind;
            let all = json(NetworkConfig::defaults(kind));
            let keys = NetworkConfig::keys(kind);
            match all {
                Value::Object(m) => Value::Object(
                    m.into_iter()
                        .filter(|(k, _)| keys.contains(&k.as_str()))
                        .collect(),
                ),
                other => other,
            }
        }
        fn check(config: &Value) -> Result<()> {
            network_config($kind, config).map(|_| ())
        }
        fn fit(config: &Value, train: &TrainSet, input: &mut FitInput) -> Result<Fitted> {
            let kind: NetKind = $kind;
            let c = network_config(kind, config)?;
            let mut noop = |_: &EpochEnd| Ok(());
            let hook: &mut dyn FnMut(&EpochEnd) -> Result<()> = match input.on_epoch.as_mut() {
                Some(h) => *h,
                None => &mut noop,
            };
            let (net, losses) = fit_network(kind, &c, train, input.times, input.device, hook)?;
            let config = network_json(kind, &net.config);
            Ok(Fitted {
                model: Box::new(net),
                config,
                losses,
            })
        }
        fn load(
            config: &Value,
            sizes: Sizes,
            state: State,
            device: Device,
        ) -> Result<Box<dyn Recommender>> {
            let kind: NetKind = $kind;
            let c = network_config(kind, config)?;
            let mut net = Network::new(kind, c, sizes, device)?;
            net.load_state(&state)?;
            Ok(Box::new(net))
        }
        ModelEntry {
            name: NetKind::name($kind),
            task: $task,
            help: $help,
            on_device: true,
            defaults,
            check,
            fit,
            load,
        }
    }};
}

/// A network's configuration from its settings (the kind's defaults under the given ones).
fn network_config(kind: NetKind, config: &Value) -> Result<NetworkConfig> {
    let defaults = json(NetworkConfig::defaults(kind));
    let c: NetworkConfig = typed(kind.name(), &merged(&defaults, config), &defaults)?;
    c.check(kind)?;
    Ok(c)
}

/// The settings of `kind` in `c`, as its defaults list them.
fn network_json(kind: NetKind, c: &NetworkConfig) -> Value {
    let keys = NetworkConfig::keys(kind);
    match json(c) {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    }
}

/// Every model, in the order of the help text: ranking, rating, then next-item.
pub fn models() -> &'static [ModelEntry] {
    static MODELS: std::sync::OnceLock<Vec<ModelEntry>> = std::sync::OnceLock::new();
    MODELS.get_or_init(|| {
        vec![
            classic!("random", Task::Ranking, "uniform random scores (the floor)", random::Config, random::Config {},
                fit: |c, t| random::Random::fit(t, &c),
                load: |_c, s, _st| Ok::<_, anyhow::Error>(random::Random { n_users: s.n_users, n_items: s.n_items })),
            classic!("pop", Task::Ranking, "most popular in train", popularity::Config, popularity::Config {},
                fit: |c, t| popularity::MostPopular::fit(t, &c),
                load: |_c, s, st| Ok::<_, anyhow::Error>(popularity::MostPopular {
                    counts: take(&st, "counts", "pop")?, n_users: s.n_users })),
            classic!("item-knn", Task::Ranking, "item-based cosine kNN", knn::Config, knn::Config::item_default(),
                fit: |c, t| knn::ItemKnn::fit(t, &c),
                load: |_c, _s, st| Ok::<_, anyhow::Error>(knn::ItemKnn {
                    x: take(&st, "x", "item-knn")?, sim: take(&st, "sim", "item-knn")? })),
            classic!("user-knn", Task::Ranking, "user-based cosine kNN", knn::Config, knn::Config::user_default(),
                fit: |c, t| knn::UserKnn::fit(t, &c),
                load: |_c, _s, st| Ok::<_, anyhow::Error>(knn::UserKnn {
                    x: take(&st, "x", "user-knn")?, sim: take(&st, "sim", "user-knn")? })),
            classic!("ease", Task::Ranking, "EASE^R, closed-form item-item (Steck 2019)", ease::Config, ease::Config::default(),
                fit: |c, t| ease::Ease::fit(t, &c),
                load: |_c, _s, st| Ok::<_, anyhow::Error>(ease::Ease {
                    x: take(&st, "x", "ease")?, b: take(&st, "b", "ease")? })),
            classic!("als", Task::Ranking, "implicit ALS (Hu, Koren & Volinsky 2008)", als::Config, als::Config::default(),
                fit: |c, t| als::Als::fit(t, &c),
                load: |_c, _s, st| Ok::<_, anyhow::Error>(als::Als {
                    user_factors: take(&st, "user_factors", "als")?,
                    item_factors: take(&st, "item_factors", "als")? })),
            classic!("bpr", Task::Ranking, "BPR-MF by SGD on sampled triples (Rendle et al. 2009); one thread: its steps run in order, the same bytes at any --threads", bpr::Config, bpr::Config::default(),
                fit: |c, t| bpr::Bpr::fit(t, &c),
                load: |_c, _s, st| Ok::<_, anyhow::Error>(bpr::Bpr {
                    user_factors: take(&st, "user_factors", "bpr")?,
                    item_factors: take(&st, "item_factors", "bpr")?,
                    item_biases: take(&st, "item_biases", "bpr")? })),
            network!(NetKind::Mf, Task::Ranking, "matrix factorization p_u . q_i (notebook 000)"),
            network!(NetKind::Neumf, Task::Ranking, "NeuMF, GMF + MLP (He et al. 2017; notebook 000)"),
            network!(NetKind::TwoTower, Task::Ranking, "two-tower (DSSM; notebook 003)"),
            classic!("global-mean", Task::Rating, "the mean train rating", popularity::Config, popularity::Config {},
                fit: |_c, t| baseline::GlobalMean::fit(t),
                load: |_c, _s, st| base_of(&st, "global-mean")),
            classic!("normal", Task::Rating, "Surprise's NormalPredictor (random ratings)", popularity::Config, popularity::Config {},
                fit: |_c, t| normal::NormalPredictor::fit(t),
                load: |_c, _s, st| Ok::<_, anyhow::Error>(normal::NormalPredictor {
                    base: base_of(&st, "normal")?,
                    sd: f64::try_from(take(&st, "sd", "normal")?.get(0))? })),
            classic!("baseline", Task::Rating, "Surprise's BaselineOnly (user and item biases)", baseline::BaselineConfig, baseline::BaselineConfig::default(),
                fit: |c, t| baseline::BaselineOnly::fit(t, &c),
                load: |_c, _s, st| Ok::<_, anyhow::Error>(baseline::BaselineOnly {
                    base: base_of(&st, "baseline")?,
                    user_bias: Vec::<f64>::try_from(take(&st, "user_bias", "baseline")?)?,
                    item_bias: Vec::<f64>::try_from(take(&st, "item_bias", "baseline")?)? })),
            classic!("svd", Task::Rating, "Funk-SVD, Surprise's SVD (biased MF by SGD)", funk_svd::FunkSvdConfig, funk_svd::FunkSvdConfig::default(),
                fit: |c, t| funk_svd::FunkSvd::fit(t, &c),
                load: |c, _s, st| Ok::<_, anyhow::Error>(funk_svd::FunkSvd { factors: factorization_of(&st, "svd", c.biased)? })),
            classic!("knn-basic", Task::Rating, "Surprise's KNNBasic (user-based, MSD)", surprise_knn::KnnBasicConfig, surprise_knn::KnnBasicConfig::default(),
                fit: |c, t| surprise_knn::KnnBasic::fit(t, &c),
                load: |c, _s, st| knn_basic_of(&st, c)),
            classic!("nmf", Task::Rating, "Surprise's NMF (non-negative factors)", nmf::NmfConfig, nmf::NmfConfig::default(),
                fit: |c, t| nmf::Nmf::fit(t, &c),
                load: |c, _s, st| Ok::<_, anyhow::Error>(nmf::Nmf { factors: factorization_of(&st, "nmf", c.biased)? })),
            classic!("pmf", Task::Rating, "probabilistic MF (Salakhutdinov & Mnih 2008), Cornac's PMF", pmf::PmfConfig, pmf::PmfConfig::default(),
                fit: |c, t| pmf::Pmf::fit(t, &c),
                load: |c, _s, st| pmf::Pmf::from_parts(c, &st)),
            classic!("svd-pp", Task::Rating, "Surprise's SVDpp: SVD plus the implicit feedback of the rated items (Koren 2008)", svd_pp::SvdPpConfig, svd_pp::SvdPpConfig::default(),
                fit: |c, t| svd_pp::SvdPp::fit(t, &c),
                load: |_c, _s, st| svd_pp_of(&st)),
            classic!("slope-one", Task::Rating, "Surprise's SlopeOne (Lemire & Maclachlan 2005)", popularity::Config, popularity::Config {},
                fit: |_c, t| slope_one::SlopeOne::fit(t),
                load: |_c, _s, st| slope_one_of(&st)),
            classic!("knn-means", Task::Rating, "Surprise's KNNWithMeans, centered k-NN (user-based, MSD)", surprise_knn::KnnBasicConfig, surprise_knn::KnnBasicConfig::default(),
                fit: |c, t| knn_centered::KnnCentered::fit_means(t, &c),
                load: |c, _s, st| knn_centered_of(&st, c, true)),
            classic!("knn-baseline", Task::Rating, "Surprise's KNNBaseline, k-NN on baseline deviations (user-based, MSD)", surprise_knn::KnnBasicConfig, surprise_knn::KnnBasicConfig::default(),
                fit: |c, t| knn_centered::KnnCentered::fit_baseline(t, &c, &baseline::BaselineConfig::default()),
                load: |c, _s, st| knn_centered_of(&st, c, false)),
            classic!("co-clustering", Task::Rating, "Surprise's CoClustering (George & Merugu 2005)", co_clustering::CoClusteringConfig, co_clustering::CoClusteringConfig::default(),
                fit: |c, t| co_clustering::CoClustering::fit(t, &c),
                load: |_c, _s, st| co_clustering_of(&st)),
            network!(NetKind::Bilinear, Task::Rating, "Spotlight's bilinear net with biases (notebook 002)"),
            network!(NetKind::Mlp, Task::Rating, "RecommenderNet, a deep MLP on two embeddings (notebook 004)"),
            network!(NetKind::Pooling, Task::NextItem, "next item from the mean of the history's embeddings (notebook 002)"),
            network!(NetKind::Cbow, Task::NextItem, "next item by a CBOW-style window (notebook 002)"),
            network!(NetKind::Gru, Task::NextItem, "next item by a GRU over the history (notebook 002)"),
            network!(NetKind::Lstm, Task::NextItem, "next item by an LSTM over the history (notebook 002)"),
        ]
    })
}

/// The model `name`, or an error listing every name.
pub fn find(name: &str) -> Result<&'static ModelEntry> {
    models().iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = models().iter().map(|m| m.name).collect();
        anyhow!("unknown model {name:?}; choose one of {}", names.join(", "))
    })
}

/// Every model's name, in the registry's order.
pub fn names() -> Vec<&'static str> {
    models().iter().map(|m| m.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_listed_once_and_its_defaults_read_back() {
        let names = names();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for m in models() {
            let d = m.defaults();
            assert!(d.is_object(), "{}", m.name);
            // the defaults are a valid configuration of the model
            m.resolve(&Value::Object(Default::default())).unwrap();
        }
        assert!(find("lamda").is_err());
    }
}
