//! The registry: every notebook once, in order, each with flags its own `Args` accept.

use clap::{CommandFactory, Parser};

use crate::notebooks::nb000::Nb000;
use crate::notebooks::nb001::Nb001;
use crate::notebooks::nb002::Nb002;
use crate::notebooks::nb003::Nb003;
use crate::notebooks::nb004::Nb004;
use crate::notebooks::registry::{self, parse_flags, Notebook, NotebookCommand, NOTEBOOKS};

#[test]
fn lists_the_notebooks_in_order() {
    assert_eq!(registry::ids(), ["000", "001", "002", "003", "004"]);
    assert_eq!(registry::find("003").unwrap().id(), "003");
    assert!(registry::find("005").is_err());
    for nb in NOTEBOOKS {
        assert!(!nb.title().is_empty());
        assert_eq!(nb.twin().script, format!("nb{}.py", nb.id()));
    }
}

fn reproduce_flags_parse<N: Notebook>() {
    let flags: Vec<String> = N::REPRODUCE_FLAGS.iter().map(|f| f.to_string()).collect();
    if let Err(e) = parse_flags::<N::Args>(&flags) {
        panic!("notebook {}: reproduce flags {flags:?}: {e}", N::ID);
    }
}

#[test]
fn reproduce_flags_parse_with_each_notebooks_args() {
    reproduce_flags_parse::<Nb000>();
    reproduce_flags_parse::<Nb001>();
    reproduce_flags_parse::<Nb002>();
    reproduce_flags_parse::<Nb003>();
    reproduce_flags_parse::<Nb004>();
    // And through the registry, as `reproduce` runs them.
    for nb in NOTEBOOKS {
        let flags: Vec<String> = nb.reproduce_flags().iter().map(|f| f.to_string()).collect();
        nb.command()
            .try_get_matches_from(std::iter::once(nb.id().to_string()).chain(flags))
            .unwrap_or_else(|e| panic!("notebook {}: {e}", nb.id()));
    }
}

/// `recsys notebook <id> ...` parses into the registry's command, and refuses a bad flag.
#[derive(Parser, Debug)]
struct Cli {
    #[command(subcommand)]
    notebook: NotebookCommand,
}

#[test]
fn notebook_subcommands_come_from_the_registry() {
    Cli::command().debug_assert();
    let cli =
        Cli::try_parse_from(["recsys", "003", "--mode", "faithful", "--epochs", "2"]).unwrap();
    assert_eq!(cli.notebook.id, "003");
    assert_eq!(cli.notebook.matches.get_one::<usize>("epochs"), Some(&2));
    assert!(Cli::try_parse_from(["recsys", "003", "--nonsense"]).is_err());
    assert!(Cli::try_parse_from(["recsys", "009"]).is_err());
}

/// The README's "`--corrected` fixes them": every notebook with a corrected mode takes the
/// one flag (003 and 004 as the alias of `--mode corrected`); 002, a homework with no bug to
/// fix, has none and refuses it.
#[test]
fn corrected_is_one_flag_across_the_notebooks() {
    for id in ["000", "001", "003", "004"] {
        let cli = Cli::try_parse_from(["recsys", id, "--corrected"])
            .unwrap_or_else(|e| panic!("notebook {id}: {e}"));
        assert!(cli.notebook.matches.get_flag("corrected"), "{id}");
    }
    assert!(Cli::try_parse_from(["recsys", "003", "--corrected", "--mode", "faithful"]).is_err());
    assert!(Cli::try_parse_from(["recsys", "002", "--corrected"]).is_err());
}
