//! How the ports print their cells: [`Out`] prints the notebook's transcript, cell by cell,
//! and keeps each entry, in order, so that a test can read it and check the notebook's order
//! (`say!(out, ...)` works as with a [`Context`]). The port's own notes, labels, extras and
//! corrected modes are asides ([`Out::aside`], [`Out::aside_block`]): kept apart and printed
//! after the transcript by [`Out::finish`], never between two cells. [`tqdm_line`] is the last
//! line of a tqdm bar.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;

use recsys::Context;

/// Keep one of the port's own lines as an aside: `aside!(out, "...", ...)`, as `say!`.
macro_rules! aside {
    ($out:expr, $($arg:tt)*) => { $out.aside(format_args!($($arg)*)) };
}
pub(crate) use aside;

/// The line that separates the notebook's transcript from the port's asides.
pub const ASIDES_HEADER: &str =
    "\n---- beyond the notebook: the port's notes, extras and corrected mode ----";

/// Prints the notebook's transcript through a [`Context`] and keeps each entry, in order; keeps
/// the port's asides for [`Out::finish`].
pub struct Out<'a> {
    /// The run's context.
    pub ctx: &'a Context,
    lines: RefCell<Vec<String>>,
    asides: RefCell<Vec<String>>,
    /// Above 0 inside [`Out::aside_block`]: what is said goes to the asides.
    aside_depth: Cell<usize>,
    finished: Cell<bool>,
}

impl<'a> Out<'a> {
    /// A printer over `ctx`, with nothing printed yet.
    pub fn new(ctx: &'a Context) -> Out<'a> {
        Out {
            ctx,
            lines: RefCell::new(Vec::new()),
            asides: RefCell::new(Vec::new()),
            aside_depth: Cell::new(0),
            finished: Cell::new(false),
        }
    }

    /// Print one cell's text (one line or several) and keep it as one entry; inside
    /// [`Out::aside_block`] it is kept as an aside instead.
    pub fn say(&self, args: fmt::Arguments) {
        if self.aside_depth.get() > 0 {
            return self.aside(args);
        }
        let text = args.to_string();
        self.ctx.say(format_args!("{text}"));
        self.lines.borrow_mut().push(text);
    }

    /// Keep one of the port's own notes, labels or extras, printed after the transcript.
    pub fn aside(&self, args: fmt::Arguments) {
        self.asides.borrow_mut().push(args.to_string());
    }

    /// Run `f` with everything it says kept as asides (a corrected mode, an extra model).
    pub fn aside_block<R>(&self, f: impl FnOnce() -> R) -> R {
        self.aside_depth.set(self.aside_depth.get() + 1);
        let r = f();
        self.aside_depth.set(self.aside_depth.get() - 1);
        r
    }

    /// The final line of a tqdm bar over `steps` batches that took `elapsed`, `ncols` wide as
    /// [`tqdm_line`] writes it: written on stderr, where tqdm writes, when stderr is not a
    /// terminal (a terminal shows the live progress bar instead); kept in the transcript
    /// either way (an aside inside [`Out::aside_block`]).
    pub fn tqdm_done(&self, steps: u64, elapsed: Duration, ncols: Option<usize>) {
        let line = tqdm_line("", steps, elapsed.as_secs_f64(), ncols);
        if self.aside_depth.get() > 0 {
            self.asides.borrow_mut().push(line);
            return;
        }
        if !std::io::stderr().is_terminal() {
            eprintln!("{line}");
        }
        self.lines.borrow_mut().push(line);
    }

    /// Print the asides after the transcript (once), under [`ASIDES_HEADER`], and return every
    /// entry in the order printed ([`Out::lines`]).
    pub fn finish(&self) -> Vec<String> {
        if !self.finished.replace(true) {
            let asides = self.asides.borrow();
            if !asides.is_empty() {
                self.ctx.say(format_args!("{ASIDES_HEADER}"));
                for a in asides.iter() {
                    self.ctx.say(format_args!("{a}"));
                }
            }
        }
        self.lines()
    }

    /// The notebook's transcript so far (a print of several lines is one entry).
    pub fn transcript(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }

    /// Every entry, in the order [`Out::finish`] prints them: the transcript, then (when there
    /// are any) [`ASIDES_HEADER`] and the asides.
    pub fn lines(&self) -> Vec<String> {
        let mut all = self.transcript();
        let asides = self.asides.borrow();
        if !asides.is_empty() {
            all.push(ASIDES_HEADER.to_string());
            all.extend(asides.iter().cloned());
        }
        all
    }
}

/// tqdm's last line for a finished bar of `n` steps in `elapsed_s` seconds, with the
/// description `desc` (tqdm adds `": "` after it). Without `ncols` the bar is 10 wide, as tqdm
/// writes to a file: `100%|██████████| 804/804 [00:02<00:00, 397.20it/s]`; with `ncols` the
/// whole line is that wide and the bar takes what the text leaves (000's notebook: 119). The
/// rate is `n / elapsed` (tqdm's own is smoothed over the last updates).
pub fn tqdm_line(desc: &str, n: u64, elapsed_s: f64, ncols: Option<usize>) -> String {
    let rate = if elapsed_s > 0.0 {
        let per_s = n as f64 / elapsed_s;
        if per_s > 0.0 && per_s < 1.0 {
            format!("{:5.2}s/it", 1.0 / per_s)
        } else {
            format!("{per_s:5.2}it/s")
        }
    } else {
        "?it/s".to_string()
    };
    let desc = if desc.is_empty() {
        String::new()
    } else {
        format!("{desc}: ")
    };
    if n == 0 {
        return format!("{desc}0it [{}, {rate}]", interval(elapsed_s));
    }
    let left = format!("{desc}100%|");
    let right = format!("| {n}/{n} [{}<00:00, {rate}]", interval(elapsed_s));
    let bar = match ncols {
        None => 10,
        Some(w) => w
            .saturating_sub(left.chars().count() + right.chars().count())
            .max(1),
    };
    format!("{left}{}{right}", "█".repeat(bar))
}

/// tqdm's `format_interval`: `MM:SS`, or `H:MM:SS` from an hour on.
fn interval(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tqdm_lines_as_tqdm_writes_them() {
        assert_eq!(
            tqdm_line("", 804, 2.024, None),
            "100%|██████████| 804/804 [00:02<00:00, 397.23it/s]"
        );
        assert_eq!(
            tqdm_line("", 1608, 3903.0, None),
            "100%|██████████| 1608/1608 [1:05:03<00:00,  2.43s/it]"
        );
        assert_eq!(
            tqdm_line("", 5, 0.0, None),
            "100%|██████████| 5/5 [00:00<00:00, ?it/s]"
        );
        assert_eq!(tqdm_line("", 0, 0.5, None), "0it [00:00,  0.00it/s]");
        // 000's notebook: 119 columns, so 79 blocks at 804 steps and 77 at 1608.
        let line = |n, s| tqdm_line("", n, s, Some(119));
        assert_eq!(
            line(804, 804.0 / 397.2),
            format!("100%|{}| 804/804 [00:02<00:00, 397.20it/s]", "█".repeat(79))
        );
        assert_eq!(
            line(1608, 1608.0 / 411.99),
            format!(
                "100%|{}| 1608/1608 [00:03<00:00, 411.99it/s]",
                "█".repeat(77)
            )
        );
        // 001's notebook: a description, bar 10 wide.
        assert_eq!(
            tqdm_line("avg loss: avg_loss=0.93", 70000, 70000.0 / 534661.39, None),
            "avg loss: avg_loss=0.93: 100%|██████████| 70000/70000 [00:00<00:00, 534661.39it/s]"
        );
    }

    #[test]
    fn asides_come_after_the_transcript() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::for_tests(dir.path());
        let out = Out::new(&ctx);
        recsys::say!(out, "cell 1");
        out.aside(format_args!("a note"));
        out.aside_block(|| recsys::say!(out, "corrected cell"));
        recsys::say!(out, "cell 2");
        assert_eq!(out.transcript(), ["cell 1", "cell 2"]);
        assert_eq!(
            out.finish(),
            [
                "cell 1",
                "cell 2",
                ASIDES_HEADER,
                "a note",
                "corrected cell"
            ]
        );
    }
}
