//! The kernel ALS's fit runs (src/classic/als.rs's conjugate-gradient half steps on the vector
//! kernels of src/classic/vector.rs, which this file compiles as they are) on ml-100k-sized
//! random data: 942 user rows of 47 pairs, 1,682 item rows, factors 100, 3 CG steps, 15
//! iterations. scripts/als-kernel-bench compiles it twice, for the x86-64 baseline (SSE2, what
//! `cargo build` makes) and with AVX2 + FMA (what implicit's OpenBLAS kernels use), and runs
//! both: the time each takes (best of 5) and a checksum, the same bits in both.
#![allow(clippy::all)]
use std::time::Instant;

#[allow(dead_code)]
#[path = "../src/classic/vector.rs"]
mod vector;
use vector::{axpy, dot, mat_vec};

fn gram(y: &[f32], f: usize, reg: f32) -> Vec<f32> {
    let mut g = vec![0f32; f * f];
    for y_i in y.chunks_exact(f) { for (g_a, &y_ia) in g.chunks_exact_mut(f).zip(y_i) { axpy(y_ia, y_i, g_a); } }
    for a in 0..f { g[a * f + a] += reg; }
    g
}
struct Lcg(u64);
impl Lcg { fn next(&mut self) -> u32 { self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (self.0 >> 33) as u32 } }
fn solve(x: &mut [f32], y: &[f32], f: usize, rows: &[Vec<(u32, f32)>]) {
    let g = gram(y, f, 0.01);
    let row = |i: u32| &y[i as usize * f..(i as usize + 1) * f];
    let (mut r, mut p, mut ap) = (vec![0f32; f], vec![0f32; f], vec![0f32; f]);
    for (xu, pairs) in x.chunks_exact_mut(f).zip(rows) {
        mat_vec(&g, xu, &mut r);
        r.iter_mut().for_each(|v| *v = -*v);
        for &(i, w) in pairs { axpy(1.0 + w - w * dot(row(i), xu), row(i), &mut r); }
        p.copy_from_slice(&r);
        let mut rs = dot(&r, &r);
        for _ in 0..3 {
            if rs < 1e-20 { break; }
            mat_vec(&g, &p, &mut ap);
            for &(i, w) in pairs { axpy(w * dot(row(i), &p), row(i), &mut ap); }
            let step = rs / dot(&p, &ap);
            axpy(step, &p, xu);
            axpy(-step, &ap, &mut r);
            let rs_new = dot(&r, &r);
            let beta = rs_new / rs;
            p.iter_mut().zip(&r).for_each(|(pk, rk)| *pk = rk + beta * *pk);
            rs = rs_new;
        }
    }
}
fn main() {
    let (nu, ni, f) = (942usize, 1682usize, 100usize);
    let mut g = Lcg(7);
    let users: Vec<Vec<(u32, f32)>> = (0..nu).map(|_| (0..47).map(|_| (g.next() % ni as u32, 1.0)).collect()).collect();
    let mut items: Vec<Vec<(u32, f32)>> = vec![Vec::new(); ni];
    for (u, l) in users.iter().enumerate() { for &(i, w) in l { items[i as usize].push((u as u32, w)); } }
    let mut best = f64::MAX; let mut sum = 0f32;
    for _ in 0..5 {
        let mut x: Vec<f32> = (0..nu * f).map(|_| (g.next() % 1000) as f32 * 1e-5).collect();
        let mut y: Vec<f32> = (0..ni * f).map(|_| (g.next() % 1000) as f32 * 1e-5).collect();
        let t = Instant::now();
        for _ in 0..15 { solve(&mut x, &y, f, &users); solve(&mut y, &x, f, &items); }
        best = best.min(t.elapsed().as_secs_f64());
        sum = x.iter().chain(&y).sum();
    }
    println!("{:.3} s (best of 5), checksum {sum}", best);
}
