//! Python's printing, for the ports that print what a notebook printed: `repr` of floats,
//! strings and lists, and how Jupyter shows a long list.

use std::fmt::Write as _;

/// `repr(x)` (and `str(x)`) of a Python float: shortest round-trip digits, ".0" on integers,
/// exponent form outside [1e-4, 1e16), and `nan`, `inf`, `-inf`.
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').expect("exponent form");
        let exp: i32 = exp.parse().expect("exponent");
        return format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        s + ".0"
    }
}

/// Python's `format(x, " .{precision}g")`: `precision` significant digits, fixed notation for
/// decimal exponents from -4 to below `precision`, exponent form (`1.5e-05`) otherwise, trailing
/// zeros dropped, and a space where a plus sign would go. Rounds half to even on the exact
/// binary value, as Python does.
pub fn py_g(x: f64, precision: usize) -> String {
    let p = precision.max(1);
    let sign = if x.is_sign_negative() && !x.is_nan() {
        "-"
    } else {
        " "
    };
    if x.is_nan() {
        return " nan".into();
    }
    if x.is_infinite() {
        return format!("{sign}inf");
    }
    let a = x.abs();
    let sci = format!("{a:.*e}", p - 1);
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if exp < -4 || exp >= p as i32 {
        let m = trim(mantissa.to_string());
        let e = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{e}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        format!("{sign}{}", trim(format!("{a:.decimals$}")))
    }
}

/// `repr(s)` of a Python str: single quotes unless the text has a single quote and no double.
pub fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa1).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(list)` of already-repr'd elements: `[a, b, c]`.
pub fn py_list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let parts: Vec<String> = items.into_iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// How Jupyter shows a list (pprint, width 80): on one line if it fits, else one element a line.
pub fn pprint_list(items: &[String]) -> String {
    let one_line = format!("[{}]", items.join(", "));
    if one_line.chars().count() <= 80 {
        one_line
    } else {
        format!("[{}]", items.join(",\n "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python_prints_them() {
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(-0.0), "-0.0");
        assert_eq!(py_float(0.50709255283711), "0.50709255283711");
        assert_eq!(py_float(-9.5367431640625e-06), "-9.5367431640625e-06");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(123456.0), "123456.0");
        assert_eq!(py_float(5.326584339141846), "5.326584339141846");
        // Python prints float("nan") as nan and infinities as inf / -inf (`str` and `repr`).
        assert_eq!(py_float(f64::NAN), "nan");
        assert_eq!(py_float(f64::INFINITY), "inf");
        assert_eq!(py_float(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn strings_and_lists() {
        assert_eq!(
            py_str("Schindler's List (1993)"),
            "\"Schindler's List (1993)\""
        );
        assert_eq!(py_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_list([1, 2]), "[1, 2]");
        let short = vec!["('R', 4)".to_string(), "('Java', 3)".to_string()];
        assert_eq!(pprint_list(&short), "[('R', 4), ('Java', 3)]");
        let long = vec!["x".repeat(50), "y".repeat(50)];
        assert_eq!(pprint_list(&long), format!("[{},\n {}]", long[0], long[1]));
    }
}
