//! Next-item models on padded item sequences (notebook 002, part 2). Item id 0 is padding: its
//! embedding row starts at zero and gets no gradient.
//!
//! - [`Representation::Pooling`]: Spotlight's `ImplicitSequenceModel(representation='pooling',
//!   loss='pointwise')`. The user state before position `t` is
//!   `sum(embeddings of the items before t) / (number of non-padding items before t + 1)`
//!   (Spotlight's `PoolNet`: a cumulative sum divided by the cumulative count of non-zero
//!   entries plus one, so it is a mean shrunk towards zero). The score of item `i` is
//!   `<state, e_i> + b_i`. Embeddings N(0, (1/dim)^2), biases 0. The pointwise loss is
//!   `(1 - σ(score of the true item)) + σ(score of one uniform random item)`, averaged over the
//!   non-padding positions: it is not binary cross-entropy.
//! - [`Representation::Cbow`], [`Representation::Gru`], [`Representation::Lstm`]: the exercise.
//!   A context vector per position (the running mean of the item embeddings so far, or the
//!   hidden state of a GRU/LSTM), a linear layer to one logit per item, and cross-entropy
//!   against the next item at every position (padding targets ignored). Layers initialised as
//!   PyTorch does (embedding N(0,1) with the padding row zeroed; RNN and linear weights uniform in
//!   ±1/√fan), drawn in PyTorch's order, so a twin script draws the same numbers.
//!
//! Training ([`ImplicitSequenceModel::fit_epoch`]) shuffles the sequences with `randperm` each
//! epoch and steps Adam per minibatch; [`ImplicitSequenceModel::score_next`] scores every item id
//! as the next one after each given prefix.

use crate::optim::Adam;
use crate::train;
use anyhow::Result;
use tch::nn::{self, RNN};
use tch::{Device, Kind, Reduction, Tensor};

use crate::models::explicit::scaled_embedding;
use crate::prep::sequence::PADDING;

/// Which network turns a sequence into a user state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Representation {
    /// Spotlight's pooling network with the pointwise loss.
    Pooling,
    /// Running mean of item embeddings, softmax over items (cross-entropy).
    Cbow,
    /// GRU over item embeddings, softmax over items (cross-entropy).
    Gru,
    /// LSTM over item embeddings, softmax over items (cross-entropy).
    Lstm,
}

impl Representation {
    /// Every representation's name, for command-line choices.
    pub const NAMES: [&'static str; 4] = ["pooling", "cbow", "gru", "lstm"];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Representation::Pooling => "pooling",
            Representation::Cbow => "cbow",
            Representation::Gru => "gru",
            Representation::Lstm => "lstm",
        }
    }
}

impl std::str::FromStr for Representation {
    type Err = anyhow::Error;

    fn from_str(name: &str) -> anyhow::Result<Representation> {
        use Representation::*;
        [Pooling, Cbow, Gru, Lstm]
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown representation {name:?}: expected one of {}",
                    Representation::NAMES.join(", ")
                )
            })
    }
}

impl std::fmt::Display for Representation {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Hyper-parameters of an [`ImplicitSequenceModel`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SequenceConfig {
    /// The network.
    pub representation: Representation,
    /// Item embedding size.
    pub embedding_dim: i64,
    /// Hidden state size of the GRU/LSTM (unused by pooling and CBOW).
    pub hidden_dim: i64,
    /// Epochs.
    pub n_iter: usize,
    /// Sequences per minibatch.
    pub batch_size: i64,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Adam weight decay (coupled L2).
    pub l2: f64,
}

impl SequenceConfig {
    /// Spotlight's `ImplicitSequenceModel` defaults with the pooling representation: dim 32,
    /// batch 256, lr 1e-2, l2 0, and `n_iter` epochs (the notebook uses 3).
    pub fn spotlight_pooling(n_iter: usize) -> SequenceConfig {
        SequenceConfig {
            representation: Representation::Pooling,
            embedding_dim: 32,
            hidden_dim: 32,
            n_iter,
            batch_size: 256,
            learning_rate: 1e-2,
            l2: 0.0,
        }
    }

    /// The exercise's cross-entropy models: dim 64, hidden 64, batch 128, Adam lr 2e-3, 10 epochs.
    pub fn cross_entropy(representation: Representation) -> SequenceConfig {
        SequenceConfig {
            representation,
            embedding_dim: 64,
            hidden_dim: 64,
            n_iter: 10,
            batch_size: 128,
            learning_rate: 2e-3,
            l2: 0.0,
        }
    }
}

/// An embedding lookup that leaves the padding row out of the gradient.
fn embed(weight: &Tensor, ids: &Tensor) -> Tensor {
    Tensor::embedding(weight, ids, PADDING, false, false)
}

/// Zero the padding row, as `padding_idx` does at construction.
fn zero_padding_row(weight: &Tensor) {
    tch::no_grad(|| {
        let _ = weight.get(PADDING).zero_();
    });
}

/// Spotlight's `PoolNet`.
#[derive(Debug)]
struct PoolNet {
    item_embeddings: Tensor,
    item_biases: Tensor,
}

impl PoolNet {
    fn new(path: &nn::Path, num_items: i64, dim: i64) -> PoolNet {
        let item_embeddings = scaled_embedding(path, "item_embeddings", num_items, dim);
        zero_padding_row(&item_embeddings);
        let item_biases = path.zeros("item_biases", &[num_items, 1]);
        PoolNet {
            item_embeddings,
            item_biases,
        }
    }

    /// `(states before each position [B, L, D], state after the last position [B, D])`.
    fn user_representation(&self, seqs: &Tensor) -> (Tensor, Tensor) {
        let (b, l) = (seqs.size()[0], seqs.size()[1]);
        let emb = embed(&self.item_embeddings, seqs); // [B, L, D]
        let dim = emb.size()[2];
        let zeros = Tensor::zeros([b, 1, dim], (emb.kind(), emb.device()));
        let sums = Tensor::cat(&[zeros, emb], 1).cumsum(1, Kind::Float); // [B, L+1, D]
        let present = seqs.ne(PADDING).to_kind(Kind::Float);
        let counts = Tensor::cat(
            &[Tensor::zeros([b, 1], (Kind::Float, seqs.device())), present],
            1,
        )
        .cumsum(1, Kind::Float); // [B, L+1]
        let states = sums / (counts + 1.0).unsqueeze(-1);
        (states.narrow(1, 0, l), states.select(1, l))
    }

    /// Scores `[B, L]` of `targets` under `states` `[B, L, D]`.
    fn score(&self, states: &Tensor, targets: &Tensor) -> Tensor {
        let e = embed(&self.item_embeddings, targets);
        let dot = (states * e).sum_dim_intlist([-1i64].as_slice(), false, Kind::Float);
        dot + embed(&self.item_biases, targets).squeeze_dim(-1)
    }

    /// Spotlight's pointwise loss with one uniform negative per position.
    fn loss(&self, seqs: &Tensor, num_items: i64) -> Tensor {
        let (states, _) = self.user_representation(seqs);
        let positive = self.score(&states, seqs);
        let negatives = Tensor::randint(num_items, seqs.size(), (Kind::Int64, Device::Cpu))
            .to_device(seqs.device());
        let negative = self.score(&states, &negatives);
        let mask = seqs.ne(PADDING).to_kind(Kind::Float);
        let loss: Tensor = positive.sigmoid().neg() + 1.0 + negative.sigmoid();
        let total: Tensor = (loss * &mask).sum(Kind::Float);
        total / mask.sum(Kind::Float)
    }

    fn score_next(&self, prefixes: &Tensor) -> Tensor {
        let (_, last) = self.user_representation(prefixes);
        last.matmul(&self.item_embeddings.tr()) + self.item_biases.squeeze_dim(1)
    }
}

/// The exercise's networks: context per position, then a linear layer to item logits.
#[derive(Debug)]
struct SoftmaxNet {
    item_embeddings: Tensor,
    gru: Option<nn::GRU>,
    lstm: Option<nn::LSTM>,
    out_weight: Tensor,
    out_bias: Tensor,
}

fn uniform(bound: f64) -> nn::Init {
    nn::Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

impl SoftmaxNet {
    fn new(path: &nn::Path, num_items: i64, c: &SequenceConfig) -> SoftmaxNet {
        // PyTorch's nn.Embedding: N(0, 1), then the padding row set to zero.
        let item_embeddings = path.var(
            "item_embeddings",
            &[num_items, c.embedding_dim],
            nn::Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            },
        );
        zero_padding_row(&item_embeddings);
        let k = 1.0 / (c.hidden_dim as f64).sqrt();
        let rnn_config = nn::RNNConfig {
            w_ih_init: uniform(k),
            w_hh_init: uniform(k),
            b_ih_init: Some(uniform(k)),
            b_hh_init: Some(uniform(k)),
            ..Default::default()
        };
        let (mut gru, mut lstm, mut context_dim) = (None, None, c.embedding_dim);
        match c.representation {
            Representation::Gru => {
                gru = Some(nn::gru(
                    path / "gru",
                    c.embedding_dim,
                    c.hidden_dim,
                    rnn_config,
                ));
                context_dim = c.hidden_dim;
            }
            Representation::Lstm => {
                lstm = Some(nn::lstm(
                    path / "lstm",
                    c.embedding_dim,
                    c.hidden_dim,
                    rnn_config,
                ));
                context_dim = c.hidden_dim;
            }
            _ => {}
        }
        // PyTorch's nn.Linear: weight then bias, both uniform in ±1/sqrt(fan_in).
        let k = 1.0 / (context_dim as f64).sqrt();
        let out_weight = path.var("out_weight", &[num_items, context_dim], uniform(k));
        let out_bias = path.var("out_bias", &[num_items], uniform(k));
        SoftmaxNet {
            item_embeddings,
            gru,
            lstm,
            out_weight,
            out_bias,
        }
    }

    /// Context vectors `[B, L, H]`: position `t` has seen items `0..=t`.
    fn contexts(&self, seqs: &Tensor) -> Tensor {
        let emb = embed(&self.item_embeddings, seqs);
        if let Some(gru) = &self.gru {
            return gru.seq(&emb).0;
        }
        if let Some(lstm) = &self.lstm {
            return lstm.seq(&emb).0;
        }
        // CBOW: running mean over the non-padding items so far (zero before the first one).
        let present = seqs.ne(PADDING).to_kind(Kind::Float).cumsum(1, Kind::Float);
        emb.cumsum(1, Kind::Float) / present.clamp_min(1.0).unsqueeze(-1)
    }

    fn logits(&self, contexts: &Tensor) -> Tensor {
        contexts.linear(&self.out_weight, Some(&self.out_bias))
    }

    /// Cross-entropy of the next item at every position, padding targets ignored.
    fn loss(&self, seqs: &Tensor) -> Tensor {
        let l = seqs.size()[1];
        let inputs = seqs.narrow(1, 0, l - 1);
        let targets = seqs.narrow(1, 1, l - 1).reshape([-1]);
        let logits = self.logits(&self.contexts(&inputs));
        let n = logits.size()[2];
        logits.reshape([-1, n]).cross_entropy_loss::<Tensor>(
            &targets,
            None,
            Reduction::Mean,
            PADDING,
            0.0,
        )
    }

    fn score_next(&self, prefixes: &Tensor) -> Tensor {
        let l = prefixes.size()[1];
        self.logits(&self.contexts(prefixes).select(1, l - 1))
    }
}

#[derive(Debug)]
enum Net {
    Pool(PoolNet),
    Softmax(Box<SoftmaxNet>),
}

impl Net {
    /// The training loss on a batch of sequences `[B, L]`.
    fn loss(&self, seqs: &Tensor, num_items: i64) -> Tensor {
        match self {
            Net::Pool(p) => p.loss(seqs, num_items),
            Net::Softmax(s) => s.loss(seqs),
        }
    }
}

/// A next-item model with its optimiser: Spotlight's `ImplicitSequenceModel` for pooling, and
/// the exercise's cross-entropy models.
pub struct ImplicitSequenceModel {
    /// The variables.
    pub vs: nn::VarStore,
    /// Hyper-parameters.
    pub config: SequenceConfig,
    /// Size of the item id space, padding included.
    pub num_items: i64,
    net: Net,
    optimizer: Adam,
}

impl ImplicitSequenceModel {
    /// A fresh model (draws its initial weights from libtorch's generator).
    pub fn new(
        num_items: i64,
        config: SequenceConfig,
        device: Device,
    ) -> Result<ImplicitSequenceModel> {
        anyhow::ensure!(
            num_items > 1,
            "a sequence model needs at least one item besides padding"
        );
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let net = match config.representation {
            Representation::Pooling => {
                Net::Pool(PoolNet::new(&root, num_items, config.embedding_dim))
            }
            _ => Net::Softmax(Box::new(SoftmaxNet::new(&root, num_items, &config))),
        };
        let optimizer = Adam::with_weight_decay(&vs, config.learning_rate, config.l2)?;
        Ok(ImplicitSequenceModel {
            vs,
            config,
            num_items,
            net,
            optimizer,
        })
    }

    /// The item embeddings `[num_items, dim]`, padding row (item 0) included.
    pub fn item_embeddings(&self) -> &Tensor {
        match &self.net {
            Net::Pool(p) => &p.item_embeddings,
            Net::Softmax(s) => &s.item_embeddings,
        }
    }

    /// The training loss on a batch of sequences `[B, L]` (int64, left-padded).
    pub fn loss(&self, seqs: &Tensor) -> Tensor {
        self.net.loss(seqs, self.num_items)
    }

    /// One epoch over `sequences` `[n, L]` (on the model's device): a `randperm(n)` shuffle
    /// on the CPU generator, then one Adam step per minibatch ([`train::epoch`]). Returns the
    /// mean minibatch loss.
    pub fn fit_epoch(&mut self, sequences: &Tensor) -> Result<f64> {
        let n = sequences.size()[0];
        let perm = train::shuffled_on_cpu(n, sequences.device());
        let Self { net, optimizer, .. } = self;
        let num_items = self.num_items;
        let losses = train::epoch(
            optimizer,
            train::ranges(n, self.config.batch_size),
            |(start, len)| {
                let batch = sequences.index_select(0, &perm.narrow(0, start, len));
                Ok(net.loss(&batch, num_items))
            },
            |_| {},
        )?;
        losses.mean()
    }

    /// Train for `config.n_iter` epochs; returns each epoch's loss.
    pub fn fit(&mut self, sequences: &Tensor) -> Result<Vec<f64>> {
        (0..self.config.n_iter)
            .map(|_| self.fit_epoch(sequences))
            .collect()
    }

    /// Scores `[n, num_items]` of every item id as the next item after each prefix `[n, L]`
    /// (int64, left-padded), without gradients. Item 0 (padding) is scored too, as Spotlight does.
    pub fn score_next(&self, prefixes: &Tensor) -> Tensor {
        tch::no_grad(|| match &self.net {
            Net::Pool(p) => p.score_next(prefixes),
            Net::Softmax(s) => s.score_next(prefixes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_state_is_shrunk_running_mean() {
        tch::manual_seed(0);
        let net = PoolNet::new(&nn::VarStore::new(Device::Cpu).root(), 5, 4);
        let seqs = Tensor::from_slice(&[0i64, 2, 3]).view([1, 3]);
        let (states, last) = net.user_representation(&seqs);
        // before position 0 and 1: nothing seen (padding) -> zero
        assert_eq!(
            states
                .get(0)
                .get(1)
                .abs()
                .sum(Kind::Float)
                .double_value(&[]),
            0.0
        );
        // after items 2 and 3: (e2 + e3) / (2 + 1)
        let want = (net.item_embeddings.get(2) + net.item_embeddings.get(3)) / 3.0;
        let diff = (last.get(0) - want).abs().max().double_value(&[]);
        assert!(diff < 1e-7, "{diff}");
        assert_eq!(
            net.item_embeddings
                .get(0)
                .abs()
                .sum(Kind::Float)
                .double_value(&[]),
            0.0
        );
    }

    #[test]
    fn cbow_context_ignores_padding() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = SoftmaxNet::new(
            &vs.root(),
            6,
            &SequenceConfig::cross_entropy(Representation::Cbow),
        );
        let seqs = Tensor::from_slice(&[0i64, 0, 4, 5]).view([1, 4]);
        let ctx = net.contexts(&seqs);
        let want = (net.item_embeddings.get(4) + net.item_embeddings.get(5)) / 2.0;
        assert!((ctx.get(0).get(3) - want).abs().max().double_value(&[]) < 1e-6);
        assert_eq!(
            ctx.get(0).get(1).abs().sum(Kind::Float).double_value(&[]),
            0.0
        );
    }
}
