//! Bad input through the binary, properties: random malformed ratings text and random option
//! values are a table, a success or one error line, never a panic. The cases by class are in
//! `bad_input_sizes.rs`, `bad_input_messages.rs`, `bad_input_writes.rs`, `bad_input_files.rs`
//! and `bad_input_data.rs`.

mod common;
use common::{assert_one_line_error, scratch, stderr, train_b as train};

/// A small deterministic generator (xorshift64*), so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// Property: random malformed ratings text is an error or a table, never a panic.
#[test]
fn random_malformed_csv_never_panics() {
    use recsys::data::table::parse_ratings;
    use recsys::data::{ColumnRef, RatingsFormat};
    let tokens = [
        "1",
        "42",
        "-3",
        "4.5",
        "",
        " ",
        "NaN",
        "inf",
        "-inf",
        "1e309",
        "9223372036854775808",
        "-9223372036854775809",
        "x",
        "\"",
        "\"7\"",
        "\"a,b\"",
        "é",
        "\u{feff}",
        "0x10",
        "1e3",
        "\r",
        ",",
        "\t",
        ";",
        "\"\"",
    ];
    let seps = [",", "\t", ";", "|"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..3000 {
        let sep = rng.pick(&seps);
        let lines = rng.next() % 6;
        let mut text = String::new();
        for _ in 0..lines {
            let fields = rng.next() % 6;
            let line: Vec<&str> = (0..fields).map(|_| rng.pick(&tokens)).collect();
            text.push_str(&line.join(sep));
            text.push_str(rng.pick(&["\n", "\r\n", "\n\n", ""]));
        }
        let col = |rng: &mut Rng| -> ColumnRef {
            match rng.next() % 3 {
                0 => ColumnRef::Index((rng.next() % 6) as usize),
                1 => ColumnRef::Name(rng.pick(&["1", "x", "user_id", "\"7\""]).into()),
                _ => ColumnRef::Index((rng.next() % 2) as usize),
            }
        };
        let fmt = RatingsFormat {
            separator: sep.as_bytes()[0],
            has_header: rng.next().is_multiple_of(2),
            n_fields: [None, Some(4), Some(3)][(rng.next() % 3) as usize],
            user: col(&mut rng),
            item: col(&mut rng),
            rating: (!rng.next().is_multiple_of(3)).then(|| col(&mut rng)),
            timestamp: (!rng.next().is_multiple_of(3)).then(|| col(&mut rng)),
        };
        let t = text.clone();
        let f = fmt.clone();
        let outcome = std::panic::catch_unwind(move || parse_ratings(t, &f, "p.csv"));
        let result = outcome.unwrap_or_else(|_| panic!("case {case} panicked: {text:?} {fmt:?}"));
        if let Ok(df) = result {
            let r = df.column("rating").unwrap().f64().unwrap();
            assert!(
                r.into_no_null_iter().all(f64::is_finite),
                "case {case}: {text:?}"
            );
        }
    }
}

/// Property: random option values for `train` are a success or one error line, never a panic.
#[test]
fn random_train_options_never_panic() {
    let (dir, _) = scratch();
    let values = [
        "0",
        "1",
        "-1",
        "2",
        "3",
        "1e300",
        "nan",
        "inf",
        "-inf",
        "0.5",
        "99999999999",
        "1.5",
        "x",
        "",
    ];
    let flags = [
        "--batch",
        "--lr",
        "--weight-decay",
        "--layers",
        "--hidden",
        "--max-len",
        "--negatives",
        "--test-fraction",
        "--threshold",
        "--last-n",
        "-k",
        "--time-threshold",
    ];
    let models = [
        "mf",
        "neumf",
        "bilinear",
        "two-tower",
        "mlp",
        "pooling",
        "gru",
    ];
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for case in 0..24 {
        let mut args: Vec<String> = vec!["--model".into(), rng.pick(&models).into()];
        for _ in 0..2 {
            args.push(format!("{}={}", rng.pick(&flags), rng.pick(&values)));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = train(dir.path(), &args);
        let err = stderr(&out);
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "case {case} {args:?}: status {:?}: {err}",
            out.status
        );
        assert!(!err.contains("panicked"), "case {case} {args:?}: {err}");
        if out.status.code() == Some(1) {
            assert_one_line_error(&out, &[]);
        }
    }
}
