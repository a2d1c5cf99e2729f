//! The ports' tests: each notebook's numbers, quirks and building blocks.

mod nb000;
mod nb001;
mod nb002;
mod nb003;
mod nb004;
mod registry;

/// The transcript's lines (a multi-line print split into its lines), and the line of each
/// needle, found in the given order (each after the previous one). Shared by the cell-order
/// tests.
pub fn lines_in_order(transcript: &[String], needles: &[&str]) -> (Vec<String>, Vec<usize>) {
    let lines: Vec<String> = transcript
        .iter()
        .flat_map(|t| t.split('\n').map(str::to_string))
        .collect();
    let mut at = 0;
    let mut found = Vec::new();
    for needle in needles {
        let k = lines[at..]
            .iter()
            .position(|l| l.contains(needle))
            .map(|p| at + p)
            .unwrap_or_else(|| {
                panic!("no {needle:?} after line {at}:\n{}", lines[at..].join("\n"))
            });
        found.push(k);
        at = k + 1;
    }
    (lines, found)
}
