//! Tests of the fused Adam: bit for bit libtorch's, on dense, sparse and subnormal inputs.

use super::kernels::*;
use super::*;
use tch::nn::OptimizerConfig;

/// Train the same two-layer model with libtorch's Adam and with ours; compare every weight.
fn same_as_libtorch(weight_decay: f64, sizes: (i64, i64)) {
    let make = || {
        tch::manual_seed(7);
        let vs = nn::VarStore::new(Device::Cpu);
        let emb = nn::embedding(vs.root() / "emb", sizes.0, sizes.1, Default::default());
        let lin = nn::linear(vs.root() / "lin", sizes.1, 1, Default::default());
        (vs, emb, lin)
    };
    let (vs_a, emb_a, lin_a) = make();
    let (vs_b, emb_b, lin_b) = make();
    let mut reference = nn::Adam::default()
        .wd(weight_decay)
        .build(&vs_a, 0.01)
        .unwrap();
    let mut ours = Adam::with_weight_decay(&vs_b, 0.01, weight_decay).unwrap();
    tch::manual_seed(3);
    for step in 0..25 {
        let ids = Tensor::randint(sizes.0, [64], (Kind::Int64, Device::Cpu));
        let y = Tensor::randn([64, 1], (Kind::Float, Device::Cpu));
        let loss_a = (ids.apply(&emb_a).apply(&lin_a) - &y)
            .square()
            .mean(Kind::Float);
        let loss_b = (ids.apply(&emb_b).apply(&lin_b) - &y)
            .square()
            .mean(Kind::Float);
        reference.backward_step(&loss_a);
        ours.backward_step(&loss_b).unwrap();
        if step == 10 {
            reference.set_lr(0.003);
            ours.set_lr(0.003).unwrap();
        }
    }
    for (name, a) in vs_a.variables() {
        let b = &vs_b.variables()[&name];
        let diff = (&a - b).abs().max().double_value(&[]);
        assert_eq!(
            diff, 0.0,
            "{name} differs by {diff} (wd {weight_decay}, {sizes:?})"
        );
    }
}

#[test]
fn bit_for_bit_as_libtorch_adam() {
    same_as_libtorch(0.0, (300, 16));
    same_as_libtorch(1e-3, (300, 16));
    // Sizes that leave a remainder after ATen's vector chunks.
    same_as_libtorch(0.0, (37, 7));
    same_as_libtorch(1e-3, (37, 7));
}

/// The exact routes (β1·m on the integer of a subnormal m, updates that cannot move p
/// skipped) give the bits of the plain formulas, on inputs full of subnormals, zeros and
/// tiny values; the AVX2 loops and the one-pass step give the portable loops' bits. The
/// branches for CPU features this machine lacks are skipped, and say so on stderr.
#[test]
fn exact_routes_match_the_plain_formulas() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut draw = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let n = 4099;
    let mut grad = vec![0f32; n];
    let (mut m, mut v, mut p) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    for i in 0..n {
        let r = draw();
        let normal = |x: u64| ((x % 2000) as f32 - 1000.0) * 1e-4;
        grad[i] = if r % 3 == 0 { normal(r >> 8) } else { 0.0 };
        m[i] = match (r >> 20) % 4 {
            // Subnormal of either sign, any mantissa (the stuck values 1..=4 included).
            0 | 1 => f32::from_bits(((r >> 24) as u32) & 0x807f_ffff | 1),
            2 => normal(r >> 30) * 1e-3,
            _ => 0.0,
        };
        v[i] = if (r >> 40) % 5 == 0 {
            0.0
        } else {
            normal(r >> 44).abs() * 1e-3
        };
        p[i] = match (r >> 50) % 5 {
            0 => 0.0,
            1 => 1e-30,
            2 => f32::from_bits(((r >> 8) as u32) & 0x007f_ffff),
            _ => normal(r >> 12),
        };
    }
    let h = Hyper::new(1e-3, 0.9, 0.999, 1e-8, 0.0, 37);
    let bits = |x: &[f32]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();

    let (mut m1, mut v1, mut sqrt_in) = (m.clone(), v.clone(), vec![0f32; n]);
    update_moments(&grad, &p, &mut m1, &mut v1, &mut sqrt_in, &h);
    let m_ref: Vec<f32> = (0..n)
        .map(|i| grad[i].mul_add(h.one_minus_beta1, m[i] * h.beta1))
        .collect();
    let v_ref: Vec<f32> = (0..n)
        .map(|i| (h.one_minus_beta2 * grad[i]).mul_add(grad[i], v[i] * h.beta2))
        .collect();
    assert_eq!(bits(&m1), bits(&m_ref));
    assert_eq!(bits(&v1), bits(&v_ref));
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        let (mut m2, mut v2, mut sqrt_in2) = (m.clone(), v.clone(), vec![0f32; n]);
        // SAFETY: the CPU has AVX2 and FMA.
        unsafe { update_moments_avx2(&grad, &p, &mut m2, &mut v2, &mut sqrt_in2, &h) };
        assert_eq!(bits(&m2), bits(&m_ref));
        assert_eq!(bits(&v2), bits(&v_ref));
        assert_eq!(bits(&sqrt_in2), bits(&sqrt_in));
    } else {
        skipped("the AVX2 moments loop", "this CPU has no AVX2 and FMA");
    }
    #[cfg(not(target_arch = "x86_64"))]
    skipped("the AVX2 loops", "not an x86_64 CPU");
    assert!(m1.iter().filter(|x| x.is_subnormal()).count() > n / 4);

    let sqrt_v: Vec<f32> = v1.iter().map(|x| x.sqrt()).collect();
    let p_ref: Vec<f32> = (0..n)
        .map(|i| {
            let root = if v1[i] == 0.0 { 0.0 } else { sqrt_v[i] };
            p[i] + h.neg_step_size * m1[i] / (root / h.bias_correction2_sqrt + h.eps)
        })
        .collect();
    let mut p1 = p.clone();
    update_parameter(&mut p1, &m1, &v1, &sqrt_v, &h);
    assert_eq!(bits(&p1), bits(&p_ref));
    assert!(
        p1.iter().zip(&p).any(|(a, b)| a != b),
        "some parameter moves"
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        let mut p2 = p.clone();
        // SAFETY: the CPU has AVX2.
        unsafe { update_parameter_avx2(&mut p2, &m1, &v1, &sqrt_v, &h) };
        assert_eq!(bits(&p2), bits(&p_ref));
    } else {
        skipped("the AVX2 parameter loop", "this CPU has no AVX2 and FMA");
    }

    // The one-pass step equals the three passes with libtorch's own sqrt (n = 4099 also
    // leaves a partial run of lanes at the end).
    #[cfg(target_arch = "x86_64")]
    if one_pass::available() {
        let libtorch_sqrt = Vec::<f32>::try_from(Tensor::from_slice(&sqrt_in).sqrt()).unwrap();
        let mut p_three = p.clone();
        update_parameter(&mut p_three, &m1, &v1, &libtorch_sqrt, &h);
        let (mut p1, mut m2, mut v2) = (p.clone(), m.clone(), v.clone());
        // SAFETY: `available` checked the CPU features.
        unsafe { one_pass::step(&grad, &mut p1, &mut m2, &mut v2, &h) };
        assert_eq!(bits(&m2), bits(&m_ref));
        assert_eq!(bits(&v2), bits(&v_ref));
        assert_eq!(bits(&p1), bits(&p_three));
    } else {
        let why = if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
        {
            "this CPU has AVX-512F/DQ, but libtorch's sqrt here is not the MKL kernel it copies"
        } else {
            "this CPU has no AVX-512F/DQ"
        };
        skipped("the one-pass AVX-512 step", why);
    }
}

/// Says on stderr (shown with `--nocapture`, and in the output of a failing run) that part of
/// a test did not run on this machine, so a pass is not read as covering it.
pub(super) fn skipped(what: &str, why: &str) {
    eprintln!("skipped: {what} ({why})");
}

/// Rows left out of 900 consecutive batches get subnormal first moments (the step's exact
/// integer route) while others keep training; some parameters are set tiny or 0 (where
/// the update must not be skipped). Still bit for bit libtorch's Adam, to the end.
#[test]
fn subnormal_moments_bit_for_bit_as_libtorch_adam() {
    let make = || {
        tch::manual_seed(21);
        let vs = nn::VarStore::new(Device::Cpu);
        let init = nn::Init::Randn {
            mean: 0.0,
            stdev: 1.0,
        };
        let table = vs.root().var("table", &[400, 8], init);
        (vs, table)
    };
    let (vs_a, table_a) = make();
    let (vs_b, table_b) = make();
    let mut reference = nn::Adam::default().build(&vs_a, 0.01).unwrap();
    let mut ours = Adam::new(&vs_b, 0.01).unwrap();
    let subnormal_moments = |adam: &Adam| {
        let m = &adam.moments[0].as_ref().unwrap().exp_avg;
        Vec::<f32>::try_from(m.flatten(0, -1))
            .unwrap()
            .iter()
            .filter(|x| x.is_subnormal())
            .count()
    };
    let bits = |t: &Tensor| -> Vec<u32> {
        Vec::<f32>::try_from(t.detach().flatten(0, -1))
            .unwrap()
            .into_iter()
            .map(f32::to_bits)
            .collect()
    };
    let mut most_subnormal = 0;
    tch::manual_seed(4);
    for step in 0..1000 {
        let rows = if (50..950).contains(&step) { 20 } else { 400 };
        let ids = Tensor::randint(rows, [32], (Kind::Int64, Device::Cpu));
        let y = Tensor::randn([32, 8], (Kind::Float, Device::Cpu));
        if step == 800 {
            tch::no_grad(|| {
                for t in [&table_a, &table_b] {
                    let _ = t.narrow(0, 390, 5).fill_(1e-30);
                    let _ = t.narrow(0, 395, 5).fill_(0.0);
                }
            });
        }
        let dense = Tensor::embedding(&table_a, &ids, -1, false, false);
        reference.backward_step(&(dense - &y).square().mean(Kind::Float));
        let sparse = crate::models::layers::lookup(&table_b, &ids);
        ours.backward_step(&(sparse - &y).square().mean(Kind::Float))
            .unwrap();
        most_subnormal = most_subnormal.max(subnormal_moments(&ours));
        if step == 949 {
            let tiny = bits(&table_b.narrow(0, 390, 5));
            assert!(tiny.iter().all(|&b| f32::from_bits(b).abs() < 1e-20));
        }
    }
    assert_eq!(bits(&table_a), bits(&table_b));
    // The test reached what it is about: subnormal moments (380 rows · 8 at most).
    assert!(
        most_subnormal > 2500,
        "only {most_subnormal} subnormal moments"
    );
}

/// A sparse lookup gradient, folded by `step`, trains exactly as libtorch's dense
/// embedding backward (and `index_select`'s) does, repeated rows included.
#[test]
fn sparse_lookup_gradients_train_bit_for_bit() {
    for weight_decay in [0.0, 1e-3] {
        let train = |how: &str| {
            tch::manual_seed(11);
            let vs = nn::VarStore::new(Device::Cpu);
            let table = vs.root().var(
                "table",
                &[50, 9],
                nn::Init::Randn {
                    mean: 0.0,
                    stdev: 1.0,
                },
            );
            let mut adam = Adam::with_weight_decay(&vs, 0.05, weight_decay).unwrap();
            tch::manual_seed(5);
            for _ in 0..20 {
                // 96 draws from 50 rows: plenty of repeats within a batch.
                let ids = Tensor::randint(50, [96], (Kind::Int64, Device::Cpu));
                let rows = match how {
                    "sparse" => crate::models::layers::lookup(&table, &ids),
                    "dense" => Tensor::embedding(&table, &ids, -1, false, false),
                    _ => table.index_select(0, &ids),
                };
                let y = Tensor::randn([96, 9], (Kind::Float, Device::Cpu));
                adam.backward_step(&(rows * 1.7 - y).square().mean(Kind::Float))
                    .unwrap();
            }
            Vec::<f32>::try_from(table.detach().flatten(0, -1))
                .unwrap()
                .into_iter()
                .map(f32::to_bits)
                .collect::<Vec<_>>()
        };
        let sparse = train("sparse");
        assert_eq!(sparse, train("dense"), "wd {weight_decay}");
        assert_eq!(sparse, train("index_select"), "wd {weight_decay}");
    }
}

#[test]
fn parameters_without_gradient_are_skipped() {
    let vs = nn::VarStore::new(Device::Cpu);
    let used = vs.root().var("used", &[3], nn::Init::Const(1.0));
    let unused = vs.root().var("unused", &[3], nn::Init::Const(1.0));
    let mut adam = Adam::new(&vs, 0.1).unwrap();
    adam.backward_step(&used.sum(Kind::Float)).unwrap();
    assert!(used.double_value(&[0]) < 1.0);
    assert_eq!(unused.double_value(&[0]), 1.0);
}

/// The run-time check `recsys doctor` prints passes here, and fails when our side is off by
/// a learning rate one part in a million away (so "bit-identical" is earned, not assumed).
#[test]
fn doctor_check_sees_a_last_bit_difference() {
    // `compare(1.0)` is `check_against_libtorch` without its switch to one thread (the thread
    // count is global, and other tests run meanwhile).
    let same = selfcheck::compare(1.0).unwrap();
    assert!(same.identical(), "{same:?}");
    assert_eq!(same.steps, 1060);
    assert_eq!(same.weights, 2 * (400 * 8 + 8 + 1));
    let off = selfcheck::compare(1.0 + 1e-6).unwrap();
    assert!(!off.identical(), "{off:?}");
    assert!(off.differing > 0);
}
