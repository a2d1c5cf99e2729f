//! `--grid 'lambda=100,500 factors=32,64'` and `--set 'epochs=20'`: named numeric settings.

use std::collections::BTreeMap;

use anyhow::{bail, Context as _, Result};

use super::contenders::Contender;

/// The values to try for each setting, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub axes: Vec<(String, Vec<f64>)>,
}

/// Parse `key=v1,v2 key2=v3` (whitespace between keys): every value a number, every key once.
pub fn parse_pairs(text: &str, flag: &str) -> Result<Vec<(String, Vec<f64>)>> {
    let mut axes: Vec<(String, Vec<f64>)> = Vec::new();
    for word in text.split_whitespace() {
        let Some((key, values)) = word.split_once('=') else {
            bail!("{flag} {word:?}: expected key=value[,value...], e.g. factors=32,64");
        };
        if key.is_empty() || axes.iter().any(|(k, _)| k == key) {
            bail!("{flag} {word:?}: each setting is named once, with a name");
        }
        let values = values
            .split(',')
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .with_context(|| format!("{flag} {key}={v:?}: not a finite number"))
            })
            .collect::<Result<Vec<_>>>()?;
        axes.push((key.to_string(), values));
    }
    Ok(axes)
}

impl Grid {
    /// Parse a `--grid` value.
    pub fn parse(text: &str) -> Result<Grid> {
        let axes = parse_pairs(text, "--grid")?;
        if axes.is_empty() {
            bail!("--grid is empty: give key=v1,v2 pairs, e.g. 'factors=32,64'");
        }
        Ok(Grid { axes })
    }

    /// Every combination of the axes that `c` knows (one empty point when it knows none).
    pub fn points_for(&self, c: &Contender) -> Vec<BTreeMap<String, f64>> {
        let mut points = vec![BTreeMap::new()];
        for (key, values) in self.axes.iter().filter(|(k, _)| c.knows(k)) {
            points = points
                .into_iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut p = p.clone();
                        p.insert(key.clone(), *v);
                        p
                    })
                })
                .collect();
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_refuse() {
        let axes = parse_pairs("lambda=100,500  factors=32", "--grid").unwrap();
        assert_eq!(
            axes,
            vec![
                ("lambda".into(), vec![100.0, 500.0]),
                ("factors".into(), vec![32.0])
            ]
        );
        for bad in ["lambda", "lambda=x", "a=1 a=2", "=3", "a=inf"] {
            assert!(parse_pairs(bad, "--grid").is_err(), "{bad}");
        }
    }
}
