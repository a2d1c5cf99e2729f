//! Short excerpts of user data for error messages: an error is one line, and a line is
//! bounded. Every error that quotes a CSV line, a header, a field, a JSON value or a path
//! quotes it through [`excerpt`] (or [`quoted`]), so a 50 MB line without a newline still
//! gives a one-line error of a few dozen characters.

/// The most characters of user data an error quotes.
pub const EXCERPT_CHARS: usize = 80;

/// `text` as an error shows it: at most [`EXCERPT_CHARS`] characters, control characters
/// (a newline, a tab, a NUL) escaped so the message stays one line, and `…` when cut.
pub fn excerpt(text: &str) -> String {
    clipped(text, EXCERPT_CHARS)
}

/// The most characters of a whole message from elsewhere (a parser's, a library's) that may
/// quote user data: an error line stays readable.
pub const MESSAGE_CHARS: usize = 240;

/// `text` cut to `max` characters, control characters escaped, `…` when cut.
pub fn clipped(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(max) {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// A message from a parser or a library, which may quote user data: [`clipped`] to
/// [`MESSAGE_CHARS`].
pub fn message(e: &impl std::fmt::Display) -> String {
    clipped(&e.to_string(), MESSAGE_CHARS)
}

/// [`excerpt`] in double quotes, as `{:?}` would show a short string.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", excerpt(text).replace('"', "\\\""))
}

/// A path as an error shows it: [`excerpt`] of its lossy text.
pub fn path(p: &std::path::Path) -> String {
    excerpt(&p.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_to_one_short_line() {
        let long = "a,".repeat(10_000_000) + "\n" + "b";
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…') && !e.contains('\n'));
        assert_eq!(excerpt("196,242"), "196,242");
        assert_eq!(excerpt("a\nb\t"), "a\\nb\\t");
        assert_eq!(quoted("say \"hi\""), "\"say \\\"hi\\\"\"");
    }
}
