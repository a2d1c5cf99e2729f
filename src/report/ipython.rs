//! What IPython itself prints around a cell's output: the `CPU times` and `Wall time` lines of
//! `%%time` (`IPython.core.magics.execution`), with this process's times, and how its pretty
//! printer lays out a dict or a tuple of multi-line reprs (`IPython.lib.pretty`).

use std::time::Instant;

/// A `%%time` cell being timed: wall clock and this process's user and system CPU time, as
/// IPython reads them (`resource.getrusage(RUSAGE_SELF)`).
#[derive(Debug, Clone, Copy)]
pub struct CellTimer {
    wall: Instant,
    cpu: (f64, f64),
}

impl CellTimer {
    /// Start timing a cell.
    pub fn start() -> CellTimer {
        CellTimer {
            wall: Instant::now(),
            cpu: cpu_times(),
        }
    }

    /// The two lines `%%time` prints when the cell ends, e.g.
    /// `CPU times: user 16.8 s, sys: 131 ms, total: 16.9 s` and `Wall time: 5.03 s`.
    pub fn lines(&self) -> String {
        let (user, sys) = cpu_times();
        let (user, sys) = ((user - self.cpu.0).max(0.0), (sys - self.cpu.1).max(0.0));
        time_lines(user, sys, self.wall.elapsed().as_secs_f64())
    }
}

/// IPython's display of a dict with str keys whose values are reprs, as when it does not fit on
/// one line: one entry a line, continuation lines of a value indented by the group's one space.
pub fn dict(entries: &[(&str, String)]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}: {}", super::pyfmt::py_str(k), v.replace('\n', "\n ")))
        .collect();
    format!("{{{}}}", items.join(",\n "))
}

/// IPython's display of a tuple of multi-line reprs: `(a,\n b)`, continuation lines indented.
pub fn tuple(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|v| v.replace('\n', "\n ")).collect();
    format!("({})", items.join(",\n "))
}

/// `%%time`'s two lines for the given user, system and wall seconds.
pub fn time_lines(user: f64, sys: f64, wall: f64) -> String {
    format!(
        "CPU times: user {}, sys: {}, total: {}\nWall time: {}",
        format_time(user),
        format_time(sys),
        format_time(user + sys),
        format_time(wall)
    )
}

/// This process's user and system CPU seconds (all threads).
fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage writes into the zeroed struct we pass it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (0.0, 0.0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

/// IPython's `_format_time(timespan, precision=3)`: `1min 5s` from a minute on, else three
/// significant digits in s, ms, µs or ns.
pub fn format_time(timespan: f64) -> String {
    if timespan >= 60.0 {
        let mut parts = Vec::new();
        let mut left = timespan;
        for (suffix, length) in [("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)] {
            let value = (left / length).trunc();
            if value > 0.0 {
                left %= length;
                parts.push(format!("{value}{suffix}"));
            }
            if left < 1.0 {
                break;
            }
        }
        return parts.join(" ");
    }
    let units = ["s", "ms", "µs", "ns"];
    let order = if timespan > 0.0 {
        // -int(floor(log10(t)) // 3), at most 3
        ((-(timespan.log10().floor() / 3.0).floor()) as i64).clamp(0, 3) as usize
    } else {
        3
    };
    let scaled = timespan * 1000f64.powi(order as i32);
    format!("{} {}", percent_g(scaled, 3), units[order])
}

/// C's `%.*g`: `precision` significant digits, trailing zeros dropped, exponent form when
/// the exponent is below -4 or at least `precision`.
pub fn percent_g(x: f64, precision: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { format!("{x}") };
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= p as i32 {
        format!(
            "{}e{}{:02}",
            trim(mantissa),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{x:.decimals$}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The notebooks' own `%%time` lines (002) and `IPython.core.magics.execution._format_time`.
    #[test]
    fn times_as_ipython_prints_them() {
        assert_eq!(
            time_lines(16.8, 0.131, 5.03),
            "CPU times: user 16.8 s, sys: 131 ms, total: 16.9 s\nWall time: 5.03 s"
        );
        assert_eq!(
            time_lines(22.8, 0.0157, 5.79),
            "CPU times: user 22.8 s, sys: 15.7 ms, total: 22.8 s\nWall time: 5.79 s"
        );
        assert_eq!(format_time(65.5), "1min 5s");
        assert_eq!(format_time(3600.0), "1h");
        assert_eq!(format_time(0.000_012_3), "12.3 µs");
        assert_eq!(format_time(0.0), "0 ns");
        assert_eq!(format_time(2.0), "2 s");
        assert_eq!(format_time(0.5), "500 ms");
        assert_eq!(percent_g(0.0001234, 3), "0.000123");
        assert_eq!(percent_g(1234.0, 3), "1.23e+03");
    }

    #[test]
    fn a_timer_reads_this_process() {
        let t = CellTimer::start();
        let lines = t.lines();
        assert!(lines.starts_with("CPU times: user "), "{lines}");
        assert!(lines.contains("\nWall time: "), "{lines}");
    }
}
