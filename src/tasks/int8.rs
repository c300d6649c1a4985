//! int8 weights and the integer dot products under them (issue 15's first
//! step; no model uses it yet). A weight matrix is quantised per output
//! channel, symmetric, as CTranslate2 does: each row `w` is stored as
//! `round(w / s)` in `[-127, 127]` with `s = max|w| / 127`. An activation
//! row is quantised the same way on the fly. A product is then the int32
//! dot product of the two int8 rows times both scales.
//!
//! The dot product has three kernels, chosen at run time, which give the
//! same integers (the sums are exact):
//! - AVX-VNNI (`vpdpbusd`): four byte products summed into each int32 lane
//!   in one instruction;
//! - AVX2 (`vpmaddubsw` then `vpmaddwd`): byte pairs multiplied and summed
//!   into int16, then int32;
//! - plain Rust, for other processors.
//!
//! Both SIMD instructions multiply an unsigned byte by a signed one. The
//! signs are moved onto the weight (`|x| · sign(x)·w`); as no value is
//! -128, a pair of products is at most 2 · 127 · 127 = 32 258, which int16
//! holds without saturating.

/// Which kernel [`dot`] runs here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Plain,
    Avx2,
    AvxVnni,
}

impl Kernel {
    /// The fastest kernel this processor runs.
    pub fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avxvnni") && std::is_x86_feature_detected!("avx2") {
                return Self::AvxVnni;
            }
            if std::is_x86_feature_detected!("avx2") {
                return Self::Avx2;
            }
        }
        Self::Plain
    }

    /// Every kernel this processor can run (for the tests).
    pub fn available() -> Vec<Self> {
        let mut v = vec![Self::Plain];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                v.push(Self::Avx2);
                if std::is_x86_feature_detected!("avxvnni") {
                    v.push(Self::AvxVnni);
                }
            }
        }
        v
    }
}

/// Quantises `row` symmetrically into `out` (same length); its scale
/// (`0` for a row of zeros, whose values all become 0). Values that are
/// not finite count as zero.
pub fn quantize_into(row: &[f32], out: &mut [i8]) -> f32 {
    let max = row
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 {
        out.iter_mut().for_each(|q| *q = 0);
        return 0.0;
    }
    let scale = max / 127.0;
    let inv = 1.0 / scale;
    for (q, v) in out.iter_mut().zip(row) {
        let v = if v.is_finite() { *v } else { 0.0 };
        *q = (v * inv).round().clamp(-127.0, 127.0) as i8;
    }
    scale
}

/// A weight matrix in int8, one scale an output row.
#[derive(Clone, Debug)]
pub struct QuantizedMatrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<i8>,
    pub scales: Vec<f32>,
}

impl QuantizedMatrix {
    /// Quantises a row-major `rows × cols` matrix (`w.len()` must be
    /// `rows * cols`).
    pub fn quantize(w: &[f32], rows: usize, cols: usize) -> Option<Self> {
        if rows.checked_mul(cols)? != w.len() {
            return None;
        }
        let mut data = vec![0i8; w.len()];
        let scales = if cols == 0 {
            vec![0.0; rows]
        } else {
            w.chunks_exact(cols)
                .zip(data.chunks_exact_mut(cols))
                .map(|(r, q)| quantize_into(r, q))
                .collect()
        };
        Some(Self {
            rows,
            cols,
            data,
            scales,
        })
    }

    /// `y = W · x` for one activation row `x` (`cols` long), quantised
    /// here, with `kernel`.
    pub fn matvec(&self, x: &[f32], kernel: Kernel) -> Vec<f32> {
        if self.cols == 0 || x.len() != self.cols {
            return vec![0.0; self.rows];
        }
        let mut xq = vec![0i8; x.len()];
        let xs = quantize_into(x, &mut xq);
        self.data
            .chunks_exact(self.cols)
            .zip(&self.scales)
            .map(|(row, s)| dot(row, &xq, kernel) as f32 * s * xs)
            .collect()
    }
}

/// The dot product of two int8 rows of the same length (values in
/// `[-127, 127]`), exact, with `kernel` (one this processor runs: see
/// [`Kernel::available`]).
pub fn dot(a: &[i8], b: &[i8], kernel: Kernel) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    match kernel {
        Kernel::Plain => plain(a, b),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 if std::is_x86_feature_detected!("avx2") => {
            // SAFETY: the processor has AVX2 (checked just above).
            unsafe { x86::dot_avx2(a, b) }
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::AvxVnni
            if std::is_x86_feature_detected!("avxvnni")
                && std::is_x86_feature_detected!("avx2") =>
        {
            // SAFETY: the processor has AVX-VNNI and AVX2 (checked above).
            unsafe { x86::dot_avx_vnni(a, b) }
        }
        _ => plain(a, b),
    }
}

/// The definition: the sum of the products.
fn plain(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(x, y)| *x as i32 * *y as i32).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Bytes a step.
    const STEP: usize = 32;

    /// The eight int32 lanes of `v` added up.
    #[target_feature(enable = "avx2")]
    fn hsum(v: __m256i) -> i32 {
        let lo = _mm256_castsi256_si128(v);
        let hi = _mm256_extracti128_si256::<1>(v);
        let s = _mm_add_epi32(lo, hi);
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }

    /// Loads 32 bytes of `a` and `b` from `i`, the sign of `a` moved onto
    /// `b`: (|a|, sign(a)·b).
    #[target_feature(enable = "avx2")]
    unsafe fn load_pair(a: &[i8], b: &[i8], i: usize) -> (__m256i, __m256i) {
        // SAFETY: the callers read 32 bytes from `i` only while
        // `i + 32 <= len` of both slices.
        let (va, vb) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i),
                _mm256_loadu_si256(b.as_ptr().add(i) as *const __m256i),
            )
        };
        (_mm256_sign_epi8(va, va), _mm256_sign_epi8(vb, va))
    }

    /// # Safety
    /// The processor must have AVX2; `a` and `b` are as long.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot_avx2(a: &[i8], b: &[i8]) -> i32 {
        let ones = _mm256_set1_epi16(1);
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i + STEP <= a.len() {
            // SAFETY: `i + 32 <= a.len() == b.len()`.
            let (ua, sb) = unsafe { load_pair(a, b, i) };
            let pairs = _mm256_maddubs_epi16(ua, sb);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
            i += STEP;
        }
        hsum(acc) + super::plain(&a[i..], &b[i..])
    }

    /// # Safety
    /// The processor must have AVX-VNNI and AVX2; `a` and `b` are as long.
    #[target_feature(enable = "avx2,avxvnni")]
    pub unsafe fn dot_avx_vnni(a: &[i8], b: &[i8]) -> i32 {
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i + STEP <= a.len() {
            // SAFETY: `i + 32 <= a.len() == b.len()`.
            let (ua, sb) = unsafe { load_pair(a, b, i) };
            acc = _mm256_dpbusd_avx_epi32(acc, ua, sb);
            i += STEP;
        }
        hsum(acc) + super::plain(&a[i..], &b[i..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in `[-127, 127]`, the extremes included.
    fn bytes(n: usize, seed: u64) -> Vec<i8> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..n)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                match i % 7 {
                    0 => 127,
                    1 => -127,
                    _ => (((s >> 33) % 255) as i32 - 127) as i8,
                }
            })
            .collect()
    }

    #[test]
    fn every_kernel_here_equals_the_definition() {
        let kernels = Kernel::available();
        eprintln!("kernels this processor runs: {kernels:?}");
        assert!(kernels.contains(&Kernel::best()));
        // Lengths around the 32-byte step, and long ones where int16
        // sums would have saturated.
        for n in [0, 1, 2, 31, 32, 33, 63, 64, 65, 100, 384, 1000, 4099] {
            let (a, b) = (bytes(n, 1), bytes(n, 2));
            let want = plain(&a, &b);
            for k in &kernels {
                assert_eq!(dot(&a, &b, *k), want, "{k:?}, n = {n}");
            }
            // All extremes of the same sign: the largest sums.
            let (x, y) = (vec![127i8; n], vec![-127i8; n]);
            for k in &kernels {
                assert_eq!(dot(&x, &x, *k), 127 * 127 * n as i32, "{k:?}");
                assert_eq!(dot(&y, &y, *k), 127 * 127 * n as i32, "{k:?}");
                assert_eq!(dot(&x, &y, *k), -127 * 127 * n as i32, "{k:?}");
            }
        }
    }

    #[test]
    fn rows_quantise_symmetrically_and_zeros_and_nans_are_safe() {
        let mut q = [0i8; 4];
        let s = quantize_into(&[0.5, -1.0, 0.25, 0.0], &mut q);
        assert_eq!(s, 1.0 / 127.0);
        assert_eq!(q, [64, -127, 32, 0]);
        assert_eq!(quantize_into(&[0.0; 4], &mut q), 0.0);
        assert_eq!(q, [0; 4]);
        let s = quantize_into(&[f32::NAN, 2.0, f32::INFINITY, -2.0], &mut q);
        assert_eq!((s, q), (2.0 / 127.0, [0, 127, 0, -127]));
        assert!(QuantizedMatrix::quantize(&[1.0; 5], 2, 3).is_none());
        assert!(QuantizedMatrix::quantize(&[], usize::MAX, 2).is_none());
    }

    #[test]
    fn an_int8_product_is_close_to_the_float_one() {
        // A 384 × 1536 layer of smooth random weights, as a decoder's.
        let (rows, cols) = (384, 1536);
        let mut s = 7u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let w: Vec<f32> = (0..rows * cols).map(|_| next() * 0.1).collect();
        let x: Vec<f32> = (0..cols).map(|_| next()).collect();
        let exact: Vec<f32> = w
            .chunks_exact(cols)
            .map(|r| r.iter().zip(&x).map(|(a, b)| a * b).sum())
            .collect();
        let q = QuantizedMatrix::quantize(&w, rows, cols).unwrap();
        for k in Kernel::available() {
            let y = q.matvec(&x, k);
            let dot: f32 = y.iter().zip(&exact).map(|(a, b)| a * b).sum();
            let norm = |v: &[f32]| v.iter().map(|a| a * a).sum::<f32>().sqrt();
            let cosine = dot / (norm(&y) * norm(&exact));
            assert!(cosine >= 0.999, "{k:?}: cosine {cosine}");
        }
    }
}
