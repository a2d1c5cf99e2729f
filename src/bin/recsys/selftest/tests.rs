//! The self-test's own checks: it passes on the CPU, and each of its verdicts can fail.

use super::*;
use tch::{Kind, Tensor};

fn run(losses: Vec<f64>) -> Run {
    Run {
        losses,
        steps_per_s: 10.0,
        misplaced: Vec::new(),
        optimizer: "libtorch Adam",
    }
}

#[test]
fn every_model_agrees_with_itself_on_the_cpu() {
    for case in CASES {
        let o = check(case, Device::Cpu, 0, 6, Size::SMALL);
        assert!(o.passed, "{}: {:?}", case.name, o.problems);
        assert_eq!(o.cpu_losses.len(), 6, "{}", case.name);
        // A seeded CPU run repeats to the last bit.
        assert_eq!(o.max_rel_diff, Some(0.0), "{}", case.name);
    }
}

#[test]
fn a_tensor_off_the_device_is_caught() {
    // Checked against a device this machine need not have: only the device tags are compared.
    let mut at = cases::Placement::new(Device::Cuda(0));
    at.tensor("stray", &Tensor::zeros([2], (Kind::Float, Device::Cpu)));
    at.tensor(
        "missing grad",
        &Tensor::zeros([2], (Kind::Float, Device::Cpu)).grad(),
    );
    assert_eq!(at.misplaced, vec!["stray on cpu".to_string()]);
}

#[test]
fn verdicts_fail_when_they_should() {
    let case = &CASES[0];
    let ok = judge(
        case,
        Device::Cpu,
        Ok(run(vec![1.0, 0.5])),
        Ok(run(vec![1.0, 0.5])),
    );
    assert!(ok.passed);
    let apart = judge(
        case,
        Device::Cpu,
        Ok(run(vec![1.0, 0.5])),
        Ok(run(vec![1.0, 0.51])),
    );
    assert!(!apart.passed && apart.problems[0].contains("differ"));
    let nan = judge(
        case,
        Device::Cpu,
        Ok(run(vec![1.0, f64::NAN])),
        Ok(run(vec![1.0, 0.5])),
    );
    assert!(!nan.passed);
    let mut stray = run(vec![1.0]);
    stray.misplaced.push("vs.w on cpu".into());
    let o = judge(case, Device::Cuda(0), Ok(run(vec![1.0])), Ok(stray));
    assert!(o.problems.iter().any(|p| p.contains("vs.w on cpu")));
    let mut fused = run(vec![1.0]);
    fused.optimizer = "fused CPU Adam";
    assert!(!judge(case, Device::Cuda(0), Ok(run(vec![1.0])), Ok(fused)).passed);
    let err = judge(
        case,
        Device::Cpu,
        Ok(run(vec![1.0])),
        Err(anyhow::anyhow!("boom")),
    );
    assert!(!err.passed && err.problems[0].contains("boom"));
}

#[test]
fn a_panic_becomes_an_error() {
    let r: Result<()> = guarded(|| {
        let a = Tensor::zeros([2], (Kind::Float, Device::Cpu));
        let b = Tensor::zeros([3], (Kind::Float, Device::Cpu));
        let _ = a.matmul(&b);
        Ok(())
    });
    assert!(r.is_err());
}

#[test]
fn every_network_of_the_registry_has_a_case_under_its_name() {
    use recsys::recommender::registry::models;
    let cases: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    for m in models().iter().filter(|m| m.on_device) {
        assert!(cases.contains(&m.name), "{} has no self-test case", m.name);
    }
    // every case is a model of the registry, but notebook 004's dense factorization
    let names = recsys::recommender::registry::names();
    for c in cases.iter().filter(|c| **c != "dense-mf") {
        assert!(
            names.contains(c),
            "the case {c} names no model of the registry"
        );
    }
}
