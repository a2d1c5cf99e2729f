//! Progress on stderr: indicatif bars on a terminal, and plain lines every few seconds when
//! stderr is not one (a log, CI, `2> file`), so a long run never goes silent.
//!
//! - [`epoch_bar`] and [`bytes_bar`]: indicatif bars, hidden when stderr is not a terminal (the
//!   notebook ports' epochs take seconds).
//! - [`Progress`]: work of known size (training steps, users scored, rows written): a bar on a
//!   terminal, else a line such as `epoch 1/3  41%  12.3k steps/s  eta 1m05s` every
//!   [`line_interval`].
//! - [`during`]: work of unknown size (loading a file): a spinner on a terminal, else a line
//!   `loading r25m.csv  10 s` every [`line_interval`].

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over the steps of one training epoch, showing the running loss in its message.
pub fn epoch_bar(steps: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>14} [{bar:30}] {pos}/{len} {elapsed_precise} {per_sec} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// A bar over bytes, for downloads; `total` is unknown when the server does not say.
pub fn bytes_bar(total: Option<u64>, label: &str) -> ProgressBar {
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// Seconds between two progress lines when stderr is not a terminal: `RECSYS_PROGRESS_SECS`
/// (0 turns the lines off), 5 by default.
pub fn line_interval() -> Option<Duration> {
    let secs = std::env::var("RECSYS_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(5.0);
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// `0.25`, `12`, `12.3k`, `4.56M`: a count or rate in three significant figures (two
/// decimals below 10, so that a slow rate does not read 0).
pub fn human_count(x: f64) -> String {
    let (value, suffix) = if x >= 1e9 {
        (x / 1e9, "G")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else if x >= 10.0 {
        return format!("{x:.0}");
    } else {
        return format!("{x:.2}");
    };
    if value >= 100.0 {
        format!("{value:.0}{suffix}")
    } else if value >= 10.0 {
        format!("{value:.1}{suffix}")
    } else {
        format!("{value:.2}{suffix}")
    }
}

/// `45s`, `1m05s`, `2h03m`: a duration for people.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// One progress line: `label  41%  12.3k steps/s  eta 1m05s  msg`.
pub fn progress_line(
    label: &str,
    done: u64,
    total: u64,
    unit: &str,
    elapsed: Duration,
    msg: &str,
) -> String {
    let pct = if total == 0 {
        100.0
    } else {
        100.0 * done as f64 / total as f64
    };
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let eta = if rate > 0.0 && done < total {
        human_duration(Duration::from_secs_f64((total - done) as f64 / rate + 0.5))
    } else {
        "-".to_string()
    };
    let mut line = format!(
        "{label}  {pct:.0}%  {} {unit}/s  eta {eta}",
        human_count(rate)
    );
    if !msg.is_empty() {
        line.push_str("  ");
        line.push_str(msg);
    }
    line
}

/// Progress over `total` units of work: an indicatif bar when stderr is a terminal, else a
/// [`progress_line`] on stderr every [`line_interval`] (none for work shorter than that).
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    unit: &'static str,
    total: u64,
    done: Cell<u64>,
    started: Instant,
    last_line: Cell<Instant>,
    interval: Option<Duration>,
    message: std::cell::RefCell<String>,
}

impl Progress {
    /// Progress over `total` units called `unit` (plural, e.g. "steps", "users", "rows").
    pub fn new(total: u64, label: &str, unit: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let template = "{prefix:>14} [{bar:30}] {percent:>3}% {human_pos}/{human_len} \
                            {per_sec} eta {eta} {msg}";
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            label: label.to_string(),
            unit,
            total,
            done: Cell::new(0),
            started: now,
            last_line: Cell::new(now),
            interval: line_interval(),
            message: Default::default(),
        }
    }

    /// `n` more units done.
    pub fn inc(&self, n: u64) {
        self.done.set(self.done.get() + n);
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        let Some(interval) = self.interval else {
            return;
        };
        if self.last_line.get().elapsed() >= interval {
            self.last_line.set(Instant::now());
            self.print_line();
        }
    }

    /// A short note shown after the numbers (e.g. the running loss).
    pub fn set_message(&self, msg: impl Into<String>) {
        let msg = msg.into();
        if let Some(bar) = &self.bar {
            bar.set_message(msg.clone());
        }
        *self.message.borrow_mut() = msg;
    }

    /// Units done so far.
    pub fn position(&self) -> u64 {
        self.done.get()
    }

    /// Close the bar (a terminal keeps it drawn); lines print nothing more.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    fn print_line(&self) {
        let line = progress_line(
            &self.label,
            self.done.get(),
            self.total,
            self.unit,
            self.started.elapsed(),
            &self.message.borrow(),
        );
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// Runs `work` on this thread while another shows that it is alive: a spinner with the time so
/// far on a terminal, else a line `label  10 s` every [`line_interval`].
pub fn during<T>(label: &str, work: impl FnOnce() -> T) -> T {
    let stop = Arc::new(AtomicBool::new(false));
    let terminal = std::io::stderr().is_terminal();
    let interval = line_interval();
    let ticker = (terminal || interval.is_some()).then(|| {
        let (stop, label) = (Arc::clone(&stop), label.to_string());
        std::thread::spawn(move || tick(&label, &stop, terminal, interval))
    });
    let out = work();
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        let _ = t.join();
    }
    out
}

/// The body of [`during`]'s thread: until `stop`, a spinner or a line per `interval`.
fn tick(label: &str, stop: &AtomicBool, terminal: bool, interval: Option<Duration>) {
    let started = Instant::now();
    let spinner = terminal.then(|| {
        let s = ProgressBar::new_spinner();
        s.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {elapsed}").expect("valid template"),
        );
        s.set_prefix(label.to_string());
        s
    });
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(s) = &spinner {
            s.tick();
        } else if let Some(every) = interval {
            if last.elapsed() >= every {
                last = Instant::now();
                let secs = started.elapsed().as_secs();
                let _ = writeln!(std::io::stderr().lock(), "{label}  {secs} s");
            }
        }
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_documented() {
        let line = progress_line(
            "epoch 1",
            41,
            100,
            "steps",
            Duration::from_secs_f64(41.0 / 12_300.0),
            "",
        );
        assert_eq!(line, "epoch 1  41%  12.3k steps/s  eta 0s");
        // 41 of 100 in 41 s: 1 step/s, 59 s to go.
        let line = progress_line("e", 41, 100, "steps", Duration::from_secs(41), "loss 0.5");
        assert_eq!(line, "e  41%  1.00 steps/s  eta 59s  loss 0.5");
        let line = progress_line("e", 0, 100, "rows", Duration::ZERO, "");
        assert_eq!(line, "e  0%  0.00 rows/s  eta -");
        let line = progress_line("fits", 1, 2, "fits", Duration::from_secs(40), "");
        assert_eq!(line, "fits  50%  0.03 fits/s  eta 40s");
    }

    #[test]
    fn counts_and_durations() {
        assert_eq!(human_count(999.0), "999");
        assert_eq!(human_count(0.25), "0.25");
        assert_eq!(human_count(9.5), "9.50");
        assert_eq!(human_count(12_345.0), "12.3k");
        assert_eq!(human_count(4_560_000.0), "4.56M");
        assert_eq!(human_count(250_000_000.0), "250M");
        assert_eq!(human_duration(Duration::from_secs(65)), "1m05s");
        assert_eq!(human_duration(Duration::from_secs(7380)), "2h03m");
    }

    #[test]
    fn progress_counts_its_units() {
        let p = Progress::new(10, "test", "steps");
        p.inc(3);
        p.inc(4);
        p.set_message("x");
        assert_eq!(p.position(), 7);
        p.finish();
        assert_eq!(during("work", || 2 + 2), 4);
    }
}
