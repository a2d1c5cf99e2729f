//! How the ports print their cells: [`Out`] prints each line through the run's [`Context`] and
//! keeps it, in order, so that a test can read the transcript and check the notebook's order
//! (`say!(out, ...)` works as with a [`Context`]); [`tqdm_line`] is the last line of a tqdm bar.

use std::cell::RefCell;
use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;

use recsys::Context;

/// Prints through a [`Context`] and keeps each line, in order.
pub struct Out<'a> {
    /// The run's context.
    pub ctx: &'a Context,
    lines: RefCell<Vec<String>>,
}

impl<'a> Out<'a> {
    /// A printer over `ctx`, with nothing printed yet.
    pub fn new(ctx: &'a Context) -> Out<'a> {
        Out {
            ctx,
            lines: RefCell::new(Vec::new()),
        }
    }

    /// Print one cell's text (one line or several) and keep it as one entry.
    pub fn say(&self, args: fmt::Arguments) {
        let text = args.to_string();
        self.ctx.say(format_args!("{text}"));
        self.lines.borrow_mut().push(text);
    }

    /// The final line of a tqdm bar over `steps` batches that took `elapsed`: written on
    /// stderr, where tqdm writes, when stderr is not a terminal (a terminal shows the live
    /// progress bar instead); kept in the transcript either way.
    pub fn tqdm_done(&self, steps: u64, elapsed: Duration) {
        let line = tqdm_line(steps, elapsed.as_secs_f64());
        if !std::io::stderr().is_terminal() {
            eprintln!("{line}");
        }
        self.lines.borrow_mut().push(line);
    }

    /// Every entry printed so far (a print of several lines is one entry).
    pub fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }
}

/// tqdm's last line for a finished bar of `n` steps in `elapsed_s` seconds, as it writes it
/// to a file (bar 10 wide): `100%|██████████| 804/804 [00:02<00:00, 397.20it/s]`. The rate is
/// `n / elapsed` (tqdm's own is smoothed over the last updates).
pub fn tqdm_line(n: u64, elapsed_s: f64) -> String {
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
    if n == 0 {
        return format!("0it [{}, {rate}]", interval(elapsed_s));
    }
    format!(
        "100%|{}| {n}/{n} [{}<00:00, {rate}]",
        "█".repeat(10),
        interval(elapsed_s)
    )
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
            tqdm_line(804, 2.024),
            "100%|██████████| 804/804 [00:02<00:00, 397.23it/s]"
        );
        assert_eq!(
            tqdm_line(1608, 3903.0),
            "100%|██████████| 1608/1608 [1:05:03<00:00,  2.43s/it]"
        );
        assert_eq!(
            tqdm_line(5, 0.0),
            "100%|██████████| 5/5 [00:00<00:00, ?it/s]"
        );
        assert_eq!(tqdm_line(0, 0.5), "0it [00:00,  0.00it/s]");
    }
}
