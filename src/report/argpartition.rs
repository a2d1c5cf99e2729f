//! `np.argpartition(row, kth)` as numpy computes it without SIMD: its introselect (median of 3
//! quickselect, falling back to the median of medians of 5 when it recurses too deep), ported
//! step for step from numpy's `npysort/selection.hpp`, so the ids come out in numpy's own
//! order. Notebook 003 prints its top 10 in this order (`np.argpartition(scores, -K)[:, -K:]`);
//! the order inside the top 10 is a by-product of the partition steps, deterministic given the
//! scores. numpy 2 on an AVX2 or AVX-512 CPU takes x86-simd-sort's `argselect` instead (an
//! order that is almost sorted); the notebook's printed rows have the introselect's order.
//! Tested against the venv's numpy run with `NPY_DISABLE_CPU_FEATURES=X86_V3` (fixtures made
//! by `fixtures/make_argpartition.py`).

/// numpy's `<` for floats: NaN sorts after every number.
fn lt(a: f32, b: f32) -> bool {
    a < b || (b.is_nan() && !a.is_nan())
}

/// The ids of `values` partitioned around `kth` (0-based; numpy's negative `kth` is
/// `len + kth`): every id before `kth` has a value no greater, every id after no smaller, in
/// numpy's order. `kth` must be below `values.len()`.
pub fn argpartition(values: &[f32], kth: usize) -> Vec<usize> {
    assert!(
        kth < values.len(),
        "kth {kth} out of {} values",
        values.len()
    );
    let mut ids: Vec<usize> = (0..values.len()).collect();
    introselect(values, &mut ids, kth as isize);
    ids
}

/// The index of the highest set bit (numpy's `npy_get_msb`).
fn msb(mut n: usize) -> isize {
    let mut depth = 0;
    n >>= 1;
    while n > 0 {
        depth += 1;
        n >>= 1;
    }
    depth
}

/// numpy's `introselect_` on the ids `t` (values `v` indexed by them).
fn introselect(v: &[f32], t: &mut [usize], kth: isize) {
    let num = t.len() as isize;
    let at = |t: &[usize], i: isize| v[t[i as usize]];
    let swap = |t: &mut [usize], a: isize, b: isize| t.swap(a as usize, b as usize);
    let mut low: isize = 0;
    let mut high: isize = num - 1;
    if kth - low < 3 {
        dumb_select(v, &mut t[low as usize..=high as usize], kth - low);
        return;
    }
    if kth == num - 1 {
        let (mut maxidx, mut maxval) = (low, at(t, low));
        for k in low + 1..num {
            if !lt(at(t, k), maxval) {
                maxidx = k;
                maxval = at(t, k);
            }
        }
        swap(t, kth, maxidx);
        return;
    }
    let mut depth_limit = msb(num as usize) * 2;
    while low + 1 < high {
        let mut ll = low + 1;
        let mut hh = high;
        if depth_limit > 0 || hh - ll < 5 {
            let mid = low + (high - low) / 2;
            median3_swap(v, t, low, mid, high);
        } else {
            let sub = &mut t[ll as usize..];
            let mid = ll + median_of_median5(v, sub, hh - ll);
            swap(t, mid, low);
            ll -= 1;
            hh += 1;
        }
        depth_limit -= 1;
        let pivot = at(t, low);
        // unguarded partition: the pivot's neighbours bound both scans
        loop {
            loop {
                ll += 1;
                if !lt(at(t, ll), pivot) {
                    break;
                }
            }
            loop {
                hh -= 1;
                if !lt(pivot, at(t, hh)) {
                    break;
                }
            }
            if hh < ll {
                break;
            }
            swap(t, ll, hh);
        }
        swap(t, low, hh);
        if hh >= kth {
            high = hh - 1;
        }
        if hh <= kth {
            low = ll;
        }
    }
    if high == low + 1 && lt(at(t, high), at(t, low)) {
        swap(t, high, low);
    }
}

/// Median of `low`, `mid`, `high` moved to `low`, the smallest to `low + 1`.
fn median3_swap(v: &[f32], t: &mut [usize], low: isize, mid: isize, high: isize) {
    let (low, mid, high) = (low as usize, mid as usize, high as usize);
    if lt(v[t[high]], v[t[mid]]) {
        t.swap(high, mid);
    }
    if lt(v[t[high]], v[t[low]]) {
        t.swap(high, low);
    }
    if lt(v[t[low]], v[t[mid]]) {
        t.swap(low, mid);
    }
    t.swap(mid, low + 1);
}

/// The position (0..5) of the median of the five ids `t[..5]`, partly sorting them.
fn median5(v: &[f32], t: &mut [usize]) -> isize {
    let mut cswap = |a: usize, b: usize| {
        if lt(v[t[a]], v[t[b]]) {
            t.swap(a, b);
        }
    };
    cswap(1, 0);
    cswap(4, 3);
    cswap(3, 0);
    cswap(4, 1);
    cswap(2, 1);
    if lt(v[t[3]], v[t[2]]) {
        if lt(v[t[3]], v[t[1]]) {
            1
        } else {
            3
        }
    } else {
        2
    }
}

/// The median of the medians of blocks of 5 of `t[..num]`, moved to the front; its position.
fn median_of_median5(v: &[f32], t: &mut [usize], num: isize) -> isize {
    let nmed = num / 5;
    for i in 0..nmed {
        let subleft = (i * 5) as usize;
        let m = median5(v, &mut t[subleft..subleft + 5]) as usize;
        t.swap(subleft + m, i as usize);
    }
    if nmed > 2 {
        introselect(v, &mut t[..nmed as usize], nmed / 2);
    }
    nmed / 2
}

/// Selection by repeated minimum, for a `kth` within 3 of the range's start.
fn dumb_select(v: &[f32], t: &mut [usize], kth: isize) {
    for i in 0..=kth as usize {
        let (mut minidx, mut minval) = (i, v[t[i]]);
        for k in i + 1..t.len() {
            if lt(v[t[k]], minval) {
                minidx = k;
                minval = v[t[k]];
            }
        }
        t.swap(i, minidx);
    }
}

#[cfg(test)]
mod tests {
    use super::argpartition;

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        values: Vec<f32>,
        kth: usize,
        ids: Vec<usize>,
    }

    #[derive(serde::Deserialize)]
    struct Fixtures {
        numpy: String,
        cases: Vec<Case>,
    }

    /// Every case's ids, in numpy's order, as the venv's numpy (introselect) gave them.
    #[test]
    fn argpartition_orders_as_numpys_introselect() {
        let f: Fixtures = serde_json::from_str(include_str!("fixtures/argpartition.json")).unwrap();
        assert!(f.cases.len() >= 8);
        for c in &f.cases {
            assert_eq!(
                argpartition(&c.values, c.kth),
                c.ids,
                "{} (numpy {})",
                c.name,
                f.numpy
            );
        }
    }

    /// The partition property holds on a case the fixtures do not hold: a descending ramp.
    #[test]
    fn argpartition_partitions() {
        let v: Vec<f32> = (0..300).map(|i| (300 - i) as f32 * 0.5).collect();
        for kth in [0, 1, 2, 3, 150, 290, 299] {
            let ids = argpartition(&v, kth);
            let pivot = v[ids[kth]];
            assert!(ids[..kth].iter().all(|&i| v[i] <= pivot), "{kth}");
            assert!(ids[kth + 1..].iter().all(|&i| v[i] >= pivot), "{kth}");
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..300).collect::<Vec<_>>());
        }
    }
}
