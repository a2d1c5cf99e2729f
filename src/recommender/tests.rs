//! Every model of the registry through the one interface: fitted on a small train set, its
//! state saved and loaded back, scoring exactly as before.

use serde_json::{json, Value};
use tch::Tensor;

use super::registry::{models, FitInput};
use super::{Query, Recommender, Sizes, Task, TrainSet};

/// 12 users × 9 items, each user with 4 to 6 ratings of 1 to 5, timestamps increasing.
fn small_train() -> (TrainSet, Vec<i64>) {
    let (mut users, mut items, mut values, mut times) = (vec![], vec![], vec![], vec![]);
    for u in 0..12i64 {
        for j in 0..(4 + u % 3) {
            users.push(u);
            items.push((u * 2 + j * 3) % 9);
            values.push(((u + j) % 5 + 1) as f32);
            times.push(u * 100 + j);
        }
    }
    (TrainSet::new(12, 9, users, items, values).unwrap(), times)
}

/// Small and quick settings for the models that train for long by default.
fn quick(name: &str) -> Value {
    match name {
        "mf" | "neumf" | "two-tower" | "bilinear" | "mlp" => {
            json!({ "factors": 4, "epochs": 2, "batch": 16 })
        }
        "pooling" | "cbow" | "gru" | "lstm" => json!({ "factors": 4, "epochs": 1, "max_len": 3 }),
        "als" | "bpr" => json!({ "factors": 4, "epochs": 2 }),
        "svd" | "nmf" | "pmf" => json!({ "factors": 3, "epochs": 2 }),
        _ => json!({}),
    }
}

fn queries(model: &dyn Recommender) -> Vec<Query> {
    match model.task() {
        Task::NextItem => vec![Query::History(vec![0, 3]), Query::History(vec![5])],
        _ => vec![Query::User(0), Query::User(7)],
    }
}

#[test]
fn every_model_saves_and_loads_back_to_the_same_scores() {
    let (train, times) = small_train();
    let sizes = Sizes {
        n_users: 12,
        n_items: 9,
    };
    for entry in models() {
        tch::manual_seed(3);
        let config = entry.resolve(&quick(entry.name)).unwrap();
        let mut input = FitInput {
            device: tch::Device::Cpu,
            times: Some(&times),
            on_epoch: None,
        };
        let fitted = entry.fit(&config, &train, &mut input).unwrap();
        let model = fitted.model;
        assert_eq!(model.name(), entry.name);
        assert_eq!(model.task(), entry.task, "{}", entry.name);
        assert_eq!(model.n_items(), 9, "{}", entry.name);
        let q = queries(model.as_ref());
        tch::manual_seed(5);
        let before = model.score(&q).unwrap();
        assert_eq!(before.size(), [2, 9], "{}", entry.name);
        let state: Vec<(String, Tensor)> = model.state();
        let loaded = entry
            .load(&fitted.config, sizes, state, tch::Device::Cpu)
            .unwrap();
        tch::manual_seed(5);
        let after = loaded.score(&q).unwrap();
        assert!(
            before.equal(&after),
            "{}: scores differ after a load",
            entry.name
        );
        if entry.task == Task::Rating {
            tch::manual_seed(5);
            let a = model.predict(&[0, 3], &[1, 2]).unwrap();
            tch::manual_seed(5);
            let b = loaded.predict(&[0, 3], &[1, 2]).unwrap();
            assert_eq!(a, b, "{}", entry.name);
        }
        // similar: a model either defines it for every item, or says it has none
        if let Some(sims) = loaded.item_similarity(2).unwrap() {
            assert_eq!(sims.len(), 9, "{}", entry.name);
        }
    }
}

#[test]
fn a_saved_state_of_the_wrong_shape_is_refused() {
    let (train, _) = small_train();
    for name in ["ease", "mf", "svd", "knn-basic"] {
        let entry = super::registry::find(name).unwrap();
        let config = entry.resolve(&quick(name)).unwrap();
        let fitted = entry
            .fit(&config, &train, &mut FitInput::on(tch::Device::Cpu))
            .unwrap();
        let sizes = Sizes {
            n_users: 12,
            n_items: 10,
        };
        let err = entry.load(
            &fitted.config,
            sizes,
            fitted.model.state(),
            tch::Device::Cpu,
        );
        assert!(err.is_err(), "{name}: a state for 9 items loaded as 10");
        assert!(
            entry
                .load(
                    &fitted.config,
                    Sizes {
                        n_users: 12,
                        n_items: 9
                    },
                    vec![],
                    tch::Device::Cpu
                )
                .is_err()
                || name == "random"
        );
    }
}
