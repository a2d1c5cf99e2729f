//! Settings that cannot be mistyped: `--set 'lambda=500 als.epochs=30'` and
//! `--grid 'lambda=100,500 factors=32,64'`, checked against the selected models'
//! configurations before any work.
//!
//! A key scoped to a model (`als.epochs`) applies to that model only; an unscoped key applies
//! to every selected model that takes it, and is an error when none does. An unknown key is an
//! error that names the closest key and which models take it. Values are read as the
//! configuration's types read them: a whole number for a count (`epochs=2.5` is refused), a
//! number, `true`/`false`, a name (`optimizer=adagrad`), or a comma list for a list setting
//! (`hidden=64,32`, with `--set` only).

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde_json::{Map, Value};

use super::registry::ModelEntry;

/// Other spellings of a setting, as the peer libraries name it, and the one name recsys uses.
pub const ALIASES: [(&str, &str); 9] = [
    ("dim", "factors"),
    ("n_factors", "factors"),
    ("k", "neighbors"),
    ("iterations", "epochs"),
    ("n_epochs", "epochs"),
    ("max_iter", "epochs"),
    ("learning_rate", "lr"),
    ("reg", "regularization"),
    ("lambda_reg", "regularization"),
];

/// The bounds of every count setting, by its one name: `(key, least, most)`. A value outside
/// them is refused with one line naming the model, the setting and its bounds, before anything
/// is sized from it (the models allocate `factors`-wide rows, keep `epochs` losses, and so on).
/// Applied wherever a configuration is resolved (`--set`, `--grid`, a flag such as `--epochs`,
/// an experiment's config, a checkpoint's sidecar), to classic models and networks alike.
pub const BOUNDS: [(&str, f64, f64); 10] = [
    ("factors", 1.0, 65536.0),
    ("epochs", 1.0, 1e6),
    ("cg_steps", 1.0, 65536.0),
    ("neighbors", 1.0, 1e6),
    ("min_k", 0.0, 1e6),
    ("min_support", 0.0, 1e9),
    ("negatives", 1.0, 1000.0),
    ("batch", 1.0, 16_777_216.0),
    ("layers", 1.0, 8.0),
    ("max_len", 2.0, 4096.0),
];

/// A number as a person wrote it: `1e18`, `100000`, `-5`, `2.5` (JSON would show `1e+18`).
fn shown(value: &Value) -> String {
    match (value.as_i64(), value.as_u64(), value.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(x)) if x.fract() == 0.0 && x.abs() < 1e16 => format!("{x:.0}"),
        (_, _, Some(x)) if x.fract() == 0.0 => format!("{x:e}"),
        _ => crate::data::excerpt(&value.to_string()),
    }
}

/// Refuse any count setting of `config` (a JSON object) outside [`BOUNDS`], naming `model`.
/// A value that is not a number is left to the typed configuration to refuse.
pub fn check_bounds(model: &str, config: &Value) -> Result<()> {
    let Value::Object(map) = config else {
        return Ok(());
    };
    for (given, value) in map {
        let key = canonical(given);
        let Some((_, least, most)) = BOUNDS.iter().find(|(k, _, _)| *k == key) else {
            continue;
        };
        let Some(x) = value.as_f64() else {
            continue;
        };
        if !(*least..=*most).contains(&x) {
            bail!(
                "{model}: {key} must be {} to {}, got {}",
                *least as u64,
                *most as u64,
                shown(value)
            );
        }
    }
    Ok(())
}

/// Refuse, with the size named, a model whose `factors` rows for `n_users` users and `n_items`
/// items would not fit in this machine's memory (in f64, with room for the copies, gradients
/// and caches the classic fits keep beside them), before any of it is allocated.
///
/// The neighbourhood models and EASE^R keep a similarity matrix of every pair of items (or
/// users): it is sized the same way, so a catalogue too large for them is one line too.
pub fn ensure_fits(model: &str, config: &Value, n_users: i64, n_items: i64) -> Result<()> {
    use crate::runtime::memory::{self as mem, tensor_bytes};
    let (n_users, n_items) = (n_users.max(0) as u64, n_items.max(0) as u64);
    if let Some(f) = config.get("factors").and_then(Value::as_u64) {
        mem::ensure_fits(
            &format!("the {model} model with {f} factors"),
            tensor_bytes(&[n_users + n_items, f, 4], 8),
            "lower factors",
        )?;
    }
    let user_based = config.get("user_based").and_then(Value::as_bool);
    let square = match (model, user_based) {
        ("ease" | "item-knn", _) | ("knn-basic", Some(false)) => Some(("items", n_items)),
        ("user-knn" | "knn-basic", _) => Some(("users", n_users)),
        _ => None,
    };
    if let Some((what, n)) = square {
        // knn-basic keeps three f64 matrices (differences, counts, similarities); the others
        // one f32 matrix and a copy (or one f64)
        // the fits' own cap first: its line names the size and how many items (users) fit
        let capped = match model {
            "ease" => Some(("EASE (item x item Gram, inverse and weights)", 24)),
            "item-knn" => Some(("item-kNN (item x item similarities)", 12)),
            "user-knn" => Some(("user-kNN (user x user similarities)", 12)),
            _ => None,
        };
        if let Some((name, entry_bytes)) = capped {
            crate::classic::dense::check_dense_size(name, n as i64, n as i64, entry_bytes)?;
        }
        let per_pair = if model == "knn-basic" { 24 } else { 8 };
        mem::ensure_fits(
            &format!("the {model} model's {n} x {n} {what} similarities"),
            tensor_bytes(&[n, n], per_pair),
            "use a factor model (als, bpr, mf) on data this large",
        )?;
    }
    Ok(())
}

/// The one name of a setting spelled `key`.
pub fn canonical(key: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map_or(key, |(_, name)| name)
}

/// One `key=value` (or `key=v1,v2`) as given, with its optional model scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The model it is scoped to (`als` in `als.epochs=30`).
    pub model: Option<String>,
    pub key: String,
    /// The values as given (one for `--set`; the points of a `--grid` axis).
    pub values: Vec<String>,
}

/// Parse `key=v[,v...]` words (whitespace between them; each key once per scope).
pub fn parse(text: &str, flag: &str) -> Result<Vec<Setting>> {
    let mut out: Vec<Setting> = Vec::new();
    for word in text.split_whitespace() {
        let Some((key, values)) = word.split_once('=') else {
            bail!("{flag} {word:?}: expected key=value[,value...], e.g. factors=32,64");
        };
        let (model, key) = match key.split_once('.') {
            Some((m, k)) => (Some(m.to_string()), k.to_string()),
            None => (None, key.to_string()),
        };
        let key = canonical(&key).to_string();
        if key.is_empty() || values.is_empty() || model.as_deref() == Some("") {
            bail!("{flag} {word:?}: expected key=value[,value...], e.g. factors=32,64");
        }
        if out.iter().any(|s| s.key == key && s.model == model) {
            bail!("{flag} {word:?}: the setting {key} is given twice");
        }
        let values = values.split(',').map(str::to_string).collect();
        out.push(Setting { model, key, values });
    }
    Ok(out)
}

/// A value as JSON: an integer, a number, a boolean, else a name.
fn value_of(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(x) = text.parse::<f64>() {
        if x.is_finite() {
            return Value::from(x);
        }
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "none" | "null" => Value::Null,
        _ => Value::String(text.to_string()),
    }
}

/// Edit distance between two keys (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The error for `key`, which none of `models` takes: the closest key, and what each takes.
fn unknown_key(flag: &str, key: &str, models: &[&ModelEntry]) -> anyhow::Error {
    let mut all: Vec<(usize, String, &str)> = models
        .iter()
        .flat_map(|m| {
            m.keys()
                .into_iter()
                .map(move |k| (distance(key, &k), k, m.name))
        })
        .collect();
    all.sort();
    let hint = match all.first() {
        Some((d, k, m)) if *d <= 3 => format!(" did you mean {k} ({m})?"),
        _ => String::new(),
    };
    let takes: Vec<String> = models
        .iter()
        .map(|m| {
            let keys = m.keys();
            if keys.is_empty() {
                format!("{} takes none", m.name)
            } else {
                format!("{} takes {}", m.name, keys.join(", "))
            }
        })
        .collect();
    anyhow::anyhow!(
        "{flag} {key}: no model here takes {key:?};{hint} ({})",
        takes.join("; ")
    )
}

/// Which of `models` each setting applies to, checked: a scope names a selected model that
/// takes the key; an unscoped key is taken by at least one of them.
fn targets<'a>(flag: &str, s: &Setting, models: &[&'a ModelEntry]) -> Result<Vec<&'a ModelEntry>> {
    match &s.model {
        Some(name) => {
            let Some(m) = models.iter().find(|m| m.name == name) else {
                let names: Vec<&str> = models.iter().map(|m| m.name).collect();
                bail!(
                    "{flag} {name}.{}: {name} is not among the models here ({})",
                    s.key,
                    names.join(", ")
                );
            };
            if !m.keys().contains(&s.key) {
                return Err(unknown_key(flag, &s.key, &[m]));
            }
            Ok(vec![*m])
        }
        None => {
            let taking: Vec<&ModelEntry> = models
                .iter()
                .filter(|m| m.keys().contains(&s.key))
                .copied()
                .collect();
            if taking.is_empty() {
                return Err(unknown_key(flag, &s.key, models));
            }
            Ok(taking)
        }
    }
}

/// `text` as the value of `key` for `m`: a comma list for a list setting, else one value.
fn value_for(m: &ModelEntry, key: &str, text: &str) -> Value {
    if m.defaults().get(key).is_some_and(Value::is_array) {
        Value::Array(text.split(',').map(value_of).collect())
    } else {
        value_of(text)
    }
}

/// One value into `config` (a JSON object) for `key`, checked against the model's types.
fn put(flag: &str, m: &ModelEntry, config: &mut Value, key: &str, text: &str) -> Result<()> {
    if let Value::Object(map) = config {
        map.insert(key.to_string(), value_for(m, key, text));
    }
    m.resolve(config)
        .map_err(|e| anyhow::anyhow!("{flag} {}.{key}={text}: {e:#}", m.name))?;
    Ok(())
}

/// Check one setting of `m` given as text (its value read as `--set` reads it).
pub fn check_one(m: &ModelEntry, key: &str, text: &str) -> Result<()> {
    let config = serde_json::json!({ key: value_for(m, key, text) });
    m.resolve(&config).map(|_| ())
}

/// The `--set` settings of each of `models` (by name), each a JSON object of the keys given.
pub fn apply_set(text: &str, models: &[&ModelEntry]) -> Result<BTreeMap<String, Value>> {
    let flag = "--set";
    let mut out: BTreeMap<String, Value> = models
        .iter()
        .map(|m| (m.name.to_string(), Value::Object(Map::new())))
        .collect();
    let settings = parse(text, flag)?;
    // scoped settings win over unscoped ones, whatever the order they are given in
    let (scoped, unscoped): (Vec<&Setting>, Vec<&Setting>) =
        settings.iter().partition(|s| s.model.is_none());
    for s in scoped.into_iter().chain(unscoped) {
        let is_list = |m: &ModelEntry| m.defaults().get(&s.key).is_some_and(Value::is_array);
        for m in targets(flag, s, models)? {
            if s.values.len() != 1 && !is_list(m) {
                bail!(
                    "{flag} {}: one value per setting (a list of values to try is for --grid)",
                    s.key
                );
            }
            let config = out.get_mut(m.name).expect("every model has an entry");
            if s.model.is_none() && config.get(&s.key).is_some() {
                continue;
            }
            put(flag, m, config, &s.key, &s.values.join(","))?;
        }
    }
    Ok(out)
}

/// A `--grid`: for each model, the points to try (each a JSON object of settings; one empty
/// point when no axis applies to it).
pub fn grid_points(text: &str, models: &[&ModelEntry]) -> Result<BTreeMap<String, Vec<Value>>> {
    let flag = "--grid";
    let settings = parse(text, flag)?;
    if settings.is_empty() {
        bail!("--grid is empty: give key=v1,v2 pairs, e.g. 'factors=32,64'");
    }
    let mut axes: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for s in &settings {
        for m in targets(flag, s, models)? {
            if m.defaults().get(&s.key).is_some_and(Value::is_array) {
                bail!(
                    "--grid {}: a list setting cannot be a grid axis; use --set",
                    s.key
                );
            }
            for v in &s.values {
                put(flag, m, &mut Value::Object(Map::new()), &s.key, v)?;
            }
            axes.entry(m.name.to_string())
                .or_default()
                .push((s.key.clone(), s.values.clone()));
        }
    }
    Ok(models
        .iter()
        .map(|m| {
            let mut points = vec![Map::new()];
            for (key, values) in axes.get(m.name).into_iter().flatten() {
                points = points
                    .into_iter()
                    .flat_map(|p| {
                        values.iter().map(move |v| {
                            let mut p = p.clone();
                            p.insert(key.clone(), value_of(v));
                            p
                        })
                    })
                    .collect();
            }
            (
                m.name.to_string(),
                points.into_iter().map(Value::Object).collect(),
            )
        })
        .collect())
}

/// `overrides` laid over `base` (both JSON objects): the settings a grid point adds to `--set`.
pub fn merged(base: &Value, overrides: &Value) -> Value {
    let mut out = base.clone();
    if let (Value::Object(o), Value::Object(add)) = (&mut out, overrides) {
        for (k, v) in add {
            o.insert(k.clone(), v.clone());
        }
    }
    out
}

/// A configuration as `key=value` words, e.g. `lambda=300 binary=true`.
pub fn describe(config: &Value) -> String {
    match config {
        Value::Object(m) if m.is_empty() => "no settings".into(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                Value::Array(a) => format!(
                    "{k}={}",
                    a.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_catalogue_too_large_for_a_dense_model_names_what_fits() {
        let none = serde_json::json!({});
        let err = super::ensure_fits("item-knn", &none, 1000, 59_000).unwrap_err();
        assert!(
            err.to_string()
                .contains("59000 x 59000 matrices of 41.8 GB in all, over the 4 GB cap; at most 18257 x 18257 fit"),
            "{err}"
        );
        let err = super::ensure_fits("ease", &none, 1000, 59_000).unwrap_err();
        assert!(
            err.to_string().contains("at most 12909 x 12909 fit"),
            "{err}"
        );
        assert!(super::ensure_fits("ease", &none, 1000, 1682).is_ok());
    }

    use super::*;
    use crate::recommender::registry::find;

    fn pick(names: &[&str]) -> Vec<&'static ModelEntry> {
        names.iter().map(|n| find(n).unwrap()).collect()
    }

    #[test]
    fn scoped_and_unscoped_keys_land_where_they_should() {
        let models = pick(&["als", "bpr", "ease"]);
        let s = apply_set(
            "als.epochs=30 bpr.epochs=100 factors=16 lambda=500",
            &models,
        )
        .unwrap();
        assert_eq!(s["als"]["epochs"], 30);
        assert_eq!(s["bpr"]["epochs"], 100);
        assert_eq!(s["als"]["factors"], 16);
        assert_eq!(s["bpr"]["factors"], 16);
        assert_eq!(s["ease"]["lambda"], 500);
        assert!(s["ease"].get("factors").is_none());
        // a scoped key wins over the unscoped one, whatever the order
        let s = apply_set("epochs=5 als.iterations=30", &models).unwrap();
        assert_eq!(
            (s["als"]["epochs"].as_i64(), s["bpr"]["epochs"].as_i64()),
            (Some(30), Some(5))
        );
    }

    #[test]
    fn mistakes_fail_before_any_work_naming_the_right_key() {
        let models = pick(&["als", "ease"]);
        let e = apply_set("lamda=5", &models).unwrap_err().to_string();
        assert!(e.contains("did you mean lambda (ease)"), "{e}");
        let e = apply_set("n_factor=10", &models).unwrap_err().to_string();
        assert!(e.contains("factors"), "{e}");
        assert!(apply_set("bogus=3", &models).is_err());
        let e = apply_set("epochs=2.5", &models).unwrap_err().to_string();
        assert!(e.contains("als.epochs=2.5"), "{e}");
        assert!(apply_set("ease.epochs=3", &models).is_err());
        assert!(apply_set("bpr.epochs=3", &models).is_err());
        assert!(grid_points("lamda=5,3000", &models).is_err());
        assert!(apply_set("svd.init_std=0.01", &models).is_err());
        assert!(apply_set("init_std=0.01", &pick(&["svd"])).is_ok());
    }

    #[test]
    fn a_grid_gives_each_model_its_own_points() {
        let models = pick(&["als", "ease"]);
        let g = grid_points("lambda=100,500 factors=8,16 epochs=2", &models).unwrap();
        assert_eq!(g["ease"].len(), 2);
        assert_eq!(g["als"].len(), 2);
        assert_eq!(g["als"][1]["factors"], 16);
    }

    #[test]
    fn network_settings_are_typed_too() {
        let models = pick(&["mf", "mlp"]);
        let s = apply_set("mlp.hidden=64,32 optimizer=adagrad dim=8", &models).unwrap();
        assert_eq!(s["mlp"]["hidden"], serde_json::json!([64, 32]));
        assert_eq!(s["mf"]["optimizer"], "adagrad");
        assert!(apply_set("optimizer=adamw", &models).is_err());
        assert!(apply_set("mf.layers=2", &models).is_err());
    }
}
