//! f16 weights on the CPU (the `float16` compute type): a weight matrix
//! kept in half the memory of f32 and widened to f32 in registers inside
//! the products (F16C's `vcvtph2ps`, exact), so the results are those of
//! the f32 weights up to the order of additions. A decoding step's few
//! rows read each weight once (what bounds their speed); many rows (an
//! encoder) widen the weights a cache-sized block at a time and run our
//! f32 [`gemm`](super::gemm) on it.

use half::f16;
use rayon::prelude::*;

use super::gemm::{View, fast, gemm};

/// A row-major f16 weight matrix.
#[derive(Clone, Debug)]
pub struct HalfMatrix {
    pub rows: usize,
    pub cols: usize,
    data: Vec<f16>,
}

/// Up to this many activation rows a product reads each weight once.
const THIN_ROWS: usize = 8;
/// Weight rows a task on that path.
const THIN_CHUNK: usize = 256;
/// The f32 block widened for the wide path, in values.
const WIDE_BLOCK: usize = 1 << 20;

impl HalfMatrix {
    /// `data` row-major `rows × cols`; `None` when the sizes disagree.
    pub fn new(data: Vec<f16>, rows: usize, cols: usize) -> Option<Self> {
        (rows.checked_mul(cols)? == data.len()).then_some(Self { rows, cols, data })
    }

    /// f32 values rounded to f16.
    pub fn from_f32(w: &[f32], rows: usize, cols: usize) -> Option<Self> {
        Self::new(
            w.par_iter().map(|v| f16::from_f32(*v)).collect(),
            rows,
            cols,
        )
    }

    /// Bytes this matrix holds in memory.
    pub fn bytes(&self) -> usize {
        self.data.len() * 2
    }

    /// Row `r` widened to f32.
    pub fn row_f32(&self, r: usize) -> Vec<f32> {
        self.data[r * self.cols..(r + 1) * self.cols]
            .iter()
            .map(|v| v.to_f32())
            .collect()
    }

    /// `x · Wᵀ (+ bias)` for `x` row-major `r × cols`: row-major
    /// `r × rows`; `None` when the sizes disagree.
    pub fn matmul(&self, x: &[f32], r: usize, bias: Option<&[f32]>) -> Option<Vec<f32>> {
        let (n, k) = (self.rows, self.cols);
        if r.checked_mul(k)? != x.len() || bias.is_some_and(|b| b.len() != n) {
            return None;
        }
        let mut out = vec![0f32; r.checked_mul(n)?];
        if r == 0 || n == 0 {
            return Some(out);
        }
        if r <= THIN_ROWS || !fast() || k == 0 {
            // (n, r): each weight row read once, for every x row.
            let mut t = vec![0f32; n * r];
            t.par_chunks_mut(THIN_CHUNK * r)
                .enumerate()
                .for_each(|(c, chunk)| {
                    for (jj, o) in chunk.chunks_exact_mut(r).enumerate() {
                        let j = c * THIN_CHUNK + jj;
                        let w = &self.data[j * k..(j + 1) * k];
                        for (i, oi) in o.iter_mut().enumerate() {
                            *oi = dot(w, &x[i * k..(i + 1) * k]) + bias.map_or(0.0, |b| b[j]);
                        }
                    }
                });
            for j in 0..n {
                for i in 0..r {
                    out[i * n + j] = t[j * r + i];
                }
            }
        } else {
            let block = (WIDE_BLOCK / k).clamp(16, n);
            let mut wide = vec![0f32; block * k];
            let mut part = vec![0f32; r * block];
            let mut j0 = 0;
            while j0 < n {
                let nb = block.min(n - j0);
                wide[..nb * k]
                    .par_chunks_mut(k)
                    .zip(self.data[j0 * k..(j0 + nb) * k].par_chunks(k))
                    .for_each(|(o, w)| widen(w, o));
                gemm(
                    View::rows(x, r, k),
                    View::transposed(&wide[..nb * k], nb, k),
                    bias.map(|b| &b[j0..j0 + nb]),
                    &mut part[..r * nb],
                );
                for i in 0..r {
                    out[i * n + j0..i * n + j0 + nb].copy_from_slice(&part[i * nb..(i + 1) * nb]);
                }
                j0 += nb;
            }
        }
        Some(out)
    }
}

/// One head of a decoding step's attention over keys and values kept in
/// f16 (Whisper's cross-attention cache in the int8 and float16 compute
/// types: half the memory a step reads): for each query row of `q` (`hd`
/// wide), its scores against the keys `kt` (`hd × kv`, transposed),
/// `softmax` applied to them, and the sum of the rows of `v` (`kv × hd`)
/// weighted by them.
pub(crate) fn attend_head(
    q: &[f32],
    kt: &[f16],
    v: &[f16],
    hd: usize,
    softmax: &dyn Fn(&mut [f32]),
) -> Vec<f32> {
    let kv = v.len().checked_div(hd).unwrap_or(0);
    let mut out = vec![0f32; q.len()];
    if kv == 0 || kt.len() != hd * kv {
        return out;
    }
    let mut scores = vec![0f32; kv];
    #[cfg(target_arch = "x86_64")]
    let fast = std::is_x86_feature_detected!("f16c") && std::is_x86_feature_detected!("fma");
    let axpy = |a: f32, w: &[f16], y: &mut [f32]| {
        #[cfg(target_arch = "x86_64")]
        if fast {
            // SAFETY: the processor has F16C, FMA and AVX (checked above).
            return unsafe { x86::axpy(a, w, y) };
        }
        for (y, w) in y.iter_mut().zip(w) {
            *y += a * w.to_f32();
        }
    };
    for (qr, o) in q.chunks_exact(hd).zip(out.chunks_exact_mut(hd)) {
        scores.fill(0.0);
        for (&qc, kr) in qr.iter().zip(kt.chunks_exact(kv)) {
            axpy(qc, kr, &mut scores);
        }
        softmax(&mut scores);
        for (&p, vr) in scores.iter().zip(v.chunks_exact(hd)) {
            axpy(p, vr, o);
        }
    }
    out
}

/// `w` widened into `out` (as long).
fn widen(w: &[f16], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("f16c") && std::is_x86_feature_detected!("avx") {
        // SAFETY: the processor has F16C and AVX (checked just above).
        return unsafe { x86::widen(w, out) };
    }
    for (o, v) in out.iter_mut().zip(w) {
        *o = v.to_f32();
    }
}

/// `Σ w·x` with `w` widened on the way.
fn dot(w: &[f16], x: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("f16c") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the processor has F16C, FMA and AVX (which both imply).
        return unsafe { x86::dot(w, x) };
    }
    w.iter().zip(x).map(|(a, b)| a.to_f32() * b).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use half::f16;

    /// # Safety
    /// The processor has F16C and AVX; `out` is as long as `w`.
    #[target_feature(enable = "avx,f16c")]
    pub unsafe fn widen(w: &[f16], out: &mut [f32]) {
        let n = w.len().min(out.len());
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 <= n, the length of both.
            unsafe {
                let h = _mm_loadu_si128(w.as_ptr().add(i) as *const __m128i);
                _mm256_storeu_ps(out.as_mut_ptr().add(i), _mm256_cvtph_ps(h));
            }
            i += 8;
        }
        for j in i..n {
            out[j] = w[j].to_f32();
        }
    }

    /// `y += a · w`, `w` widened on the way.
    ///
    /// # Safety
    /// The processor has F16C, FMA and AVX.
    #[target_feature(enable = "avx,f16c,fma")]
    pub unsafe fn axpy(a: f32, w: &[f16], y: &mut [f32]) {
        let n = w.len().min(y.len());
        let av = _mm256_set1_ps(a);
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 <= n, the length of both.
            unsafe {
                let h = _mm_loadu_si128(w.as_ptr().add(i) as *const __m128i);
                let p = y.as_mut_ptr().add(i);
                _mm256_storeu_ps(
                    p,
                    _mm256_fmadd_ps(av, _mm256_cvtph_ps(h), _mm256_loadu_ps(p)),
                );
            }
            i += 8;
        }
        for j in i..n {
            y[j] += a * w[j].to_f32();
        }
    }

    /// # Safety
    /// The processor has F16C, FMA and AVX; `x` is as long as `w`.
    #[target_feature(enable = "avx,f16c,fma")]
    pub unsafe fn dot(w: &[f16], x: &[f32]) -> f32 {
        let n = w.len().min(x.len());
        let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            // SAFETY: i + 16 <= n, the length of both.
            unsafe {
                let h0 = _mm_loadu_si128(w.as_ptr().add(i) as *const __m128i);
                let h1 = _mm_loadu_si128(w.as_ptr().add(i + 8) as *const __m128i);
                a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(h0), _mm256_loadu_ps(x.as_ptr().add(i)), a0);
                a1 = _mm256_fmadd_ps(
                    _mm256_cvtph_ps(h1),
                    _mm256_loadu_ps(x.as_ptr().add(i + 8)),
                    a1,
                );
            }
            i += 16;
        }
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds eight values.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), _mm256_add_ps(a0, a1)) };
        let mut s: f32 = lanes.iter().sum();
        for j in i..n {
            s += w[j].to_f32() * x[j];
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(n: usize, seed: u64) -> Vec<f32> {
        crate::rng::Rng::floats(seed, n)
    }

    /// Both paths, awkward shapes, against f32 products of the widened
    /// weights.
    #[test]
    fn products_equal_those_of_the_widened_weights() {
        for (r, n, k) in [
            (1, 1, 1),
            (1, 9, 17),
            (3, 300, 33),
            (8, 5, 64),
            (9, 40, 100),
            (50, 70, 384),
        ] {
            let m = HalfMatrix::from_f32(&floats(n * k, 1), n, k).unwrap();
            let x = floats(r * k, 2);
            let bias = floats(n, 3);
            let got = m.matmul(&x, r, Some(&bias)).unwrap();
            for i in 0..r {
                for j in 0..n {
                    let w = m.row_f32(j);
                    let want: f32 = w
                        .iter()
                        .zip(&x[i * k..(i + 1) * k])
                        .map(|(a, b)| a * b)
                        .sum::<f32>()
                        + bias[j];
                    let g = got[i * n + j];
                    assert!(
                        (g - want).abs() <= 1e-4,
                        "{r}×{n}×{k} ({i}, {j}): {g} against {want}"
                    );
                }
            }
        }
        let m = HalfMatrix::from_f32(&[1.0; 6], 2, 3).unwrap();
        assert!(m.matmul(&[1.0; 5], 2, None).is_none());
        assert!(HalfMatrix::new(vec![f16::ZERO; 5], 2, 3).is_none());
    }
}
