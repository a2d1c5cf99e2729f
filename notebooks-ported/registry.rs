//! The notebooks, registered in one place: each is one [`Notebook`] implementation (its flags,
//! its typed outcome, its reproduce flags, what it shares with its PyTorch twin), listed once
//! in [`NOTEBOOKS`]. `recsys notebook`, `reproduce`, `compare` and `bench` read this list.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use anyhow::{bail, Context as _, Result};
use clap::{ArgMatches, FromArgMatches, Parser};
use serde::de::DeserializeOwned;
use serde::Serialize;

use recsys::report::Report;
use recsys::Context;

/// The numbers a port and its twin are set beside each other on: losses per epoch by series
/// name, and final metrics by name (sorted by name, as they print).
#[derive(Debug, Default, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Numbers {
    pub epochs: BTreeMap<String, Vec<f64>>,
    pub metrics: BTreeMap<String, f64>,
}

impl Numbers {
    /// Add a series of per-epoch losses.
    pub fn series(&mut self, name: impl Into<String>, losses: &[f64]) {
        self.epochs.insert(name.into(), losses.to_vec());
    }

    /// Add a final metric; a missing or non-finite value is left out (nothing to compare).
    pub fn metric(&mut self, name: impl Into<String>, value: impl Into<Option<f64>>) {
        if let Some(v) = value.into().filter(|v| v.is_finite()) {
            self.metrics.insert(name.into(), v);
        }
    }
}

/// `label name`, or `name` when the label is empty.
pub fn named(label: &str, name: &str) -> String {
    if label.is_empty() {
        name.to_string()
    } else {
        format!("{label} {name}")
    }
}

/// Where a port flag goes when `compare` passes it on.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// To the port and, under this name, to the twin.
    Both(&'static str),
    /// To the port only: it does not change the compared numbers (or the twin has it fixed).
    PortOnly,
    /// To the twin only, under the same name (a twin's own switch, e.g. `--adam`).
    TwinOnly,
    /// Refused: the twin cannot follow it, so the two sides would not be comparable.
    Unsupported(&'static str),
}

/// One port flag: its name without dashes, whether it takes a value, and where it goes.
pub type Rule = (&'static str, bool, Target);

/// What a notebook shares with its PyTorch twin (`notebooks-ported/python/<script>`).
#[derive(Debug, Clone, Copy)]
pub struct Twin {
    /// The twin's file name in the twins' folder.
    pub script: &'static str,
    /// How each port flag is passed on.
    pub rules: &'static [Rule],
    /// A flag naming the shipped data directory the twin must read (001's `--data-dir`).
    pub data_dir_flag: Option<&'static str>,
    /// Twins that run one mode per call: the port flag naming the mode (it is not passed on
    /// as is) and the modes the port runs when it is absent or `both`.
    pub mode_per_run: Option<(&'static str, &'static [&'static str])>,
}

/// One notebook port.
pub trait Notebook: 'static {
    /// "000" .. "004".
    const ID: &'static str;
    /// One line on what the notebook does (the help of `recsys notebook <id>`).
    const TITLE: &'static str;
    /// The flags `reproduce` runs it with: the notebook's own settings, faithful mode.
    const REPRODUCE_FLAGS: &'static [&'static str];
    /// What it shares with its twin.
    const TWIN: Twin;
    /// Its flags, as `recsys notebook <id>` takes them.
    type Args: clap::Args + FromArgMatches;
    /// Its typed outcome, kept in `--json` as the report's details.
    type Outcome: Serialize;
    /// The twin's `--json` output, typed.
    type TwinJson: DeserializeOwned;

    /// Run the port: it prints what the notebook printed, in its order.
    fn run(ctx: &Context, args: &Self::Args) -> Result<Report<Self::Outcome>>;
    /// The numbers of a port's run that its twin reports too.
    fn numbers(outcome: &Self::Outcome) -> Numbers;
    /// Add the numbers of one twin run (`label` prefixes its names when not empty).
    fn twin_numbers(label: &str, twin: Self::TwinJson, into: &mut Numbers);
}

/// One registered notebook's run: its report, details as JSON, and the numbers `compare`
/// sets beside the twin's.
pub struct Ran {
    pub report: Report,
    pub numbers: Numbers,
}

/// A registered notebook, behind `dyn` (the calls of [`Notebook`] with flags as strings or as
/// parsed clap matches).
pub trait Entry: Sync {
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    fn reproduce_flags(&self) -> &'static [&'static str];
    fn twin(&self) -> Twin;
    /// The clap command `recsys notebook <id>`.
    fn command(&self) -> clap::Command;
    /// Run with the flags parsed by [`Entry::command`].
    fn run_matches(&self, ctx: &Context, matches: &ArgMatches) -> Result<Ran>;
    /// Run with `flags`, as given to `recsys notebook <id>`.
    fn run_flags(&self, ctx: &Context, flags: &[String]) -> Result<Ran>;
    /// The twins' runs' numbers, each run's `--json` output parsed into the twin's type.
    fn twin_numbers(&self, runs: &[(String, serde_json::Value)]) -> Result<Numbers>;
}

/// Parses a notebook's flags alone.
#[derive(Parser)]
struct Flags<A: clap::Args> {
    #[command(flatten)]
    args: A,
}

/// `flags` parsed as `A` (none: its defaults, the notebook's own settings).
pub fn parse_flags<A: clap::Args + FromArgMatches>(flags: &[String]) -> Result<A> {
    let argv = std::iter::once("recsys".to_string()).chain(flags.iter().cloned());
    Ok(Flags::<A>::try_parse_from(argv)?.args)
}

/// Run notebook `N` with parsed flags, returning its report with JSON details and its numbers.
pub fn run<N: Notebook>(ctx: &Context, args: &N::Args) -> Result<Ran> {
    let report = N::run(ctx, args)?;
    let numbers = N::numbers(&report.details);
    Ok(Ran {
        report: report.to_json()?,
        numbers,
    })
}

struct Registered<N>(PhantomData<fn() -> N>);

impl<N: Notebook> Entry for Registered<N> {
    fn id(&self) -> &'static str {
        N::ID
    }
    fn title(&self) -> &'static str {
        N::TITLE
    }
    fn reproduce_flags(&self) -> &'static [&'static str] {
        N::REPRODUCE_FLAGS
    }
    fn twin(&self) -> Twin {
        N::TWIN
    }
    fn command(&self) -> clap::Command {
        // The title after the flags, which would otherwise set the help to the Args' own doc.
        <N::Args as clap::Args>::augment_args(clap::Command::new(N::ID)).about(self.title())
    }
    fn run_matches(&self, ctx: &Context, matches: &ArgMatches) -> Result<Ran> {
        run::<N>(ctx, &N::Args::from_arg_matches(matches)?)
    }
    fn run_flags(&self, ctx: &Context, flags: &[String]) -> Result<Ran> {
        run::<N>(ctx, &parse_flags::<N::Args>(flags)?)
    }
    fn twin_numbers(&self, runs: &[(String, serde_json::Value)]) -> Result<Numbers> {
        let mut numbers = Numbers::default();
        for (label, json) in runs {
            let twin: N::TwinJson = serde_json::from_value(json.clone()).with_context(|| {
                format!(
                    "notebook {}: the twin's --json output is not in the expected form",
                    N::ID
                )
            })?;
            N::twin_numbers(label, twin, &mut numbers);
        }
        Ok(numbers)
    }
}

/// The notebooks, in order.
pub static NOTEBOOKS: [&dyn Entry; 5] = [
    &Registered::<super::nb000::Nb000>(PhantomData),
    &Registered::<super::nb001::Nb001>(PhantomData),
    &Registered::<super::nb002::Nb002>(PhantomData),
    &Registered::<super::nb003::Nb003>(PhantomData),
    &Registered::<super::nb004::Nb004>(PhantomData),
];

/// The registered notebook `id`, or an error listing them.
pub fn find(id: &str) -> Result<&'static dyn Entry> {
    match NOTEBOOKS.iter().find(|n| n.id() == id) {
        Some(n) => Ok(*n),
        None => bail!(
            "unknown notebook {id:?}; expected one of {}",
            ids().join(", ")
        ),
    }
}

/// The notebooks' ids, in order.
pub fn ids() -> Vec<&'static str> {
    NOTEBOOKS.iter().map(|n| n.id()).collect()
}

/// `recsys notebook <id>`: a subcommand per registered notebook, each with its own flags.
#[derive(Debug, Clone)]
pub struct NotebookCommand {
    /// The notebook's id.
    pub id: String,
    /// Its flags, parsed by [`Entry::command`].
    pub matches: ArgMatches,
}

impl NotebookCommand {
    /// Run the chosen notebook.
    pub fn run(&self, ctx: &Context) -> Result<Ran> {
        find(&self.id)?.run_matches(ctx, &self.matches)
    }
}

impl FromArgMatches for NotebookCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        match matches.subcommand() {
            Some((id, sub)) if NOTEBOOKS.iter().any(|n| n.id() == id) => Ok(NotebookCommand {
                id: id.to_string(),
                matches: sub.clone(),
            }),
            _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
        }
    }
    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Subcommand for NotebookCommand {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        NOTEBOOKS
            .iter()
            .fold(cmd, |cmd, n| cmd.subcommand(n.command()))
            .subcommand_required(true)
    }
    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }
    fn has_subcommand(name: &str) -> bool {
        NOTEBOOKS.iter().any(|n| n.id() == name)
    }
}
