//! int8 weights and the integer products under them (the `int8` compute
//! type). A weight matrix is quantised per output channel, symmetric, as
//! CTranslate2 does: each row `w` is stored as `round(w / s)` in
//! `[-127, 127]` with `s = max|w| / 127`. Activation rows are quantised
//! the same way on the fly. A product is then the int32 dot product of
//! two int8 rows times both scales.
//!
//! The products have five kernels, chosen at run time, which give the
//! same integers (every sum is exact):
//! - AMX (`tdpbusd` on tile registers, see [`super::amx`]): 16 × 16 sums
//!   over 64 bytes an instruction, up to 32 activation rows a call, for
//!   row lengths that are a multiple of 64 (the weight blocks below are
//!   its tile layout already); other lengths take the VNNI kernel;
//! - AVX-512 VNNI and AVX-VNNI (`vpdpbusd`, 64 or 32 bytes a step): four
//!   byte products summed into each int32 lane in one instruction. The
//!   instruction multiplies an unsigned byte by a signed one, so the
//!   activations are stored shifted by 128 (`x + 128` in `[1, 255]`) and
//!   `128 · Σw`, kept with each weight row, is taken off the sum;
//! - AVX2 (`vpmaddubsw` then `vpmaddwd`): byte pairs multiplied and summed
//!   into int16, then int32. A shifted pair could reach 2 · 255 · 127 and
//!   saturate int16, so here the activations stay signed and their signs
//!   move onto the weights (`|x| · sign(x)·w`); no value is -128, so a
//!   pair is at most 2 · 127 · 127 = 32 258;
//! - plain Rust, for other processors.
//!
//! Weight rows are stored in blocks of 16, interleaved four bytes at a
//! time (see [`BLOCK`]), so each instruction multiplies a four-byte slice
//! of an activation row, broadcast, with 16 weight rows at once into 16
//! sums, and no sums are added across lanes at the end. Rows are padded
//! with zeros to a multiple of four bytes. A decoding step's few
//! activation rows read each weight byte once (threads take disjoint
//! blocks of weight rows); many rows (an encoder) are taken four at a time
//! over groups of blocks that stay in the cache (threads take disjoint
//! activation rows).

use rayon::prelude::*;

/// Weight rows are stored in blocks of this many (one 512-bit vector of
/// int32 sums), each block interleaved four bytes at a time: the 64 bytes
/// at `(block · k/4 + p) · 64` hold bytes `4p .. 4p + 4` of the block's 16
/// rows in turn, so one `vpdpbusd` adds a four-byte slice of an activation
/// row times 16 weight rows into 16 sums (no sums across lanes).
const BLOCK: usize = 16;

/// Which kernel the products run here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Plain,
    Avx2,
    AvxVnni,
    Avx512Vnni,
    Amx,
}

impl Kernel {
    /// The fastest kernel this processor runs.
    pub fn best() -> Self {
        *Self::available().last().unwrap_or(&Self::Plain)
    }

    /// Every kernel this processor can run, slowest first (for the tests
    /// and benchmarks).
    pub fn available() -> Vec<Self> {
        let mut v = vec![Self::Plain];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                v.push(Self::Avx2);
                if std::is_x86_feature_detected!("avxvnni") {
                    v.push(Self::AvxVnni);
                }
                if std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512vnni")
                {
                    v.push(Self::Avx512Vnni);
                }
                if super::amx::available() {
                    v.push(Self::Amx);
                }
            }
        }
        v
    }

    /// The most activation rows one kernel call takes: each row's
    /// accumulators stay in registers (16 of 256 bits; 32 of 512).
    fn rows_at_once(self) -> usize {
        match self {
            Self::Amx => super::amx::ROWS,
            Self::Avx512Vnni => 8,
            _ => 4,
        }
    }

    /// Whether the kernel takes activations shifted to unsigned bytes.
    fn shifted(self) -> bool {
        matches!(self, Self::AvxVnni | Self::Avx512Vnni | Self::Amx)
    }

    /// The kernel for rows `k` bytes long: AMX tiles take 64 bytes a
    /// step, so other lengths go to the best VNNI kernel (which takes
    /// the same shifted activations).
    fn for_length(self, k: usize) -> Self {
        if self != Self::Amx || k.is_multiple_of(super::amx::K_STEP) {
            return self;
        }
        let available = Self::available();
        [Self::Avx512Vnni, Self::AvxVnni]
            .into_iter()
            .find(|k| available.contains(k))
            .unwrap_or(Self::Plain)
    }

    /// The kernel actually run for `self`: itself where the processor has
    /// it, plain Rust otherwise.
    fn checked(self) -> Self {
        if self == Self::Plain || Self::available().contains(&self) {
            self
        } else {
            Self::Plain
        }
    }
}

/// Quantises `row` symmetrically into `out` (same length); its scale
/// (`0` for a row of zeros, whose values all become 0). Values that are
/// not finite count as zero.
pub fn quantize_into(row: &[f32], out: &mut [i8]) -> f32 {
    let n = row.len().min(out.len());
    // SAFETY: i8 and u8 have the same size and alignment, and every byte
    // is a valid value of both.
    let bytes = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u8>(), n) };
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { quantize_row_avx2(&row[..n], bytes, false) };
    }
    quantize_row(&row[..n], bytes, false)
}

/// A weight matrix in int8, one scale an output row, stored for the
/// kernels (see [`BLOCK`]).
#[derive(Clone, Debug)]
pub struct QuantizedMatrix {
    pub rows: usize,
    pub cols: usize,
    /// `cols` rounded up to a multiple of 4 (the padding is zeros).
    k: usize,
    data: Vec<i8>,
    scales: Vec<f32>,
    /// `128 · Σ row`, taken off a shifted product.
    shift: Vec<i32>,
}

impl QuantizedMatrix {
    /// Quantises a row-major `rows × cols` matrix (`w.len()` must be
    /// `rows * cols`).
    pub fn quantize(w: &[f32], rows: usize, cols: usize) -> Option<Self> {
        if rows.checked_mul(cols)? != w.len() {
            return None;
        }
        let mut data = vec![0i8; w.len()];
        let mut scales = vec![0f32; rows];
        if cols > 0 {
            data.par_chunks_mut(cols)
                .zip(w.par_chunks(cols))
                .zip(scales.par_iter_mut())
                .for_each(|((q, r), s)| *s = quantize_into(r, q));
        }
        Self::pack(&data, rows, cols, scales)
    }

    /// A matrix already in int8 (CTranslate2's `model.bin`): `data` is
    /// `rows × cols` row-major, and row r's values are `data[r] / div[r]`
    /// (CTranslate2 keeps the reciprocal of our scale). A divisor that is
    /// zero or not finite makes its row zeros.
    pub fn from_int8(data: &[i8], rows: usize, cols: usize, div: &[f32]) -> Option<Self> {
        if rows.checked_mul(cols)? != data.len() || div.len() != rows {
            return None;
        }
        let mut q = data.to_vec();
        let mut scales = vec![0f32; rows];
        for r in 0..rows {
            let row = &mut q[r * cols..(r + 1) * cols];
            let d = div[r];
            if d.is_finite() && d != 0.0 {
                scales[r] = 1.0 / d;
                // CTranslate2 never writes -128; keep the kernels' bound
                // if a file does.
                row.iter_mut().for_each(|v| *v = (*v).max(-127));
            } else {
                row.iter_mut().for_each(|v| *v = 0);
            }
        }
        Self::pack(&q, rows, cols, scales)
    }

    /// Stores row-major int8 values in blocks for the kernels.
    fn pack(q: &[i8], rows: usize, cols: usize, scales: Vec<f32>) -> Option<Self> {
        let k = cols.checked_add(3)? / 4 * 4;
        let blocks = rows.checked_add(BLOCK - 1)? / BLOCK;
        let mut data = vec![0i8; blocks.checked_mul(BLOCK)?.checked_mul(k)?];
        if k > 0 {
            data.par_chunks_mut(BLOCK * k)
                .enumerate()
                .for_each(|(b, out)| {
                    for jj in 0..BLOCK.min(rows - b * BLOCK) {
                        let r = b * BLOCK + jj;
                        for (c, v) in q[r * cols..(r + 1) * cols].iter().enumerate() {
                            out[(c / 4 * BLOCK + jj) * 4 + c % 4] = *v;
                        }
                    }
                });
        }
        let shift = (0..rows)
            .map(|r| {
                128 * q[r * cols..(r + 1) * cols]
                    .iter()
                    .map(|v| *v as i32)
                    .sum::<i32>()
            })
            .collect();
        Some(Self {
            rows,
            cols,
            k,
            data,
            scales,
            shift,
        })
    }

    /// Bytes this matrix holds in memory.
    pub fn bytes(&self) -> usize {
        self.data.len() + 8 * self.rows
    }

    /// Row `r`'s int8 values (`cols` of them) and scale.
    pub fn row(&self, r: usize) -> (Vec<i8>, f32) {
        let (b, jj) = (r / BLOCK, r % BLOCK);
        let base = b * BLOCK * self.k;
        let q = (0..self.cols)
            .map(|c| self.data[base + (c / 4 * BLOCK + jj) * 4 + c % 4])
            .collect();
        (q, self.scales[r])
    }

    /// Row `r` as f32 (an embedding looked up in a table kept in int8).
    pub fn row_f32(&self, r: usize) -> Vec<f32> {
        let (q, s) = self.row(r);
        q.iter().map(|v| *v as f32 * s).collect()
    }

    /// `y = W · x` for one activation row `x` (`cols` long).
    pub fn matvec(&self, x: &[f32], kernel: Kernel) -> Vec<f32> {
        self.matmul(x, 1, None, kernel)
            .unwrap_or_else(|| vec![0.0; self.rows])
    }

    /// `x · Wᵀ (+ bias)` for `x` row-major `r × cols`: row-major
    /// `r × rows`. `None` when the sizes disagree.
    pub fn matmul(
        &self,
        x: &[f32],
        r: usize,
        bias: Option<&[f32]>,
        kernel: Kernel,
    ) -> Option<Vec<f32>> {
        if r.checked_mul(self.cols)? != x.len() || bias.is_some_and(|b| b.len() != self.rows) {
            return None;
        }
        let kernel = kernel.checked().for_length(self.k);
        let n = self.rows;
        let mut out = vec![0f32; r.checked_mul(n)?];
        if r == 0 || n == 0 {
            return Some(out);
        }
        let xq = Activations::quantize(x, r, self.cols, self.k, kernel);
        let blocks = n.div_ceil(BLOCK);
        // Scales one row's sums over weight rows `j0..` into `out`.
        let finish = |i: usize, j0: usize, sums: &[i32], out: &mut [f32]| {
            let n = out.len();
            let scales = &self.scales[j0..j0 + n];
            let shift = kernel.shifted().then(|| &self.shift[j0..j0 + n]);
            let bias = bias.map(|b| &b[j0..j0 + n]);
            #[cfg(target_arch = "x86_64")]
            if kernel != Kernel::Plain {
                // SAFETY: the kernel's checks saw AVX2.
                unsafe { finish_row_avx2(out, sums, scales, shift, xq.scales[i], bias) };
                return;
            }
            finish_row(out, sums, scales, shift, xq.scales[i], bias);
        };
        let threads = rayon::current_num_threads().max(1);
        let tall = kernel.rows_at_once();
        if r <= THIN_ROWS || r.div_ceil(WIDE_ROWS) < 2 * threads {
            // Few rows (decoding steps, a batch of beams): threads take
            // blocks of weight rows, each read once from memory.
            let per_task = THIN_BLOCKS.min(blocks.div_ceil(2 * threads)).max(1);
            let shared = super::gemm::SharedOut(out.as_mut_ptr());
            (0..blocks.div_ceil(per_task))
                .into_par_iter()
                .for_each(|t| {
                    let shared = &shared;
                    let (b0, b1) = (t * per_task, ((t + 1) * per_task).min(blocks));
                    let j0 = b0 * BLOCK;
                    let cols = ((b1 * BLOCK).min(n)) - j0;
                    let mut sums = vec![0i32; tall * (b1 - b0) * BLOCK];
                    let mut i = 0;
                    while i < r {
                        let m = (r - i).min(tall);
                        self.sums(&xq, i..i + m, b0..b1, kernel, &mut sums);
                        let w = (b1 - b0) * BLOCK;
                        for a in 0..m {
                            // SAFETY: row i + a < r, columns j0..j0 + cols < n
                            // of `out` (r × n), which only this task writes.
                            let row = unsafe {
                                std::slice::from_raw_parts_mut(shared.0.add((i + a) * n + j0), cols)
                            };
                            finish(i + a, j0, &sums[a * w..a * w + cols], row);
                        }
                        i += m;
                    }
                });
        } else {
            // Threads take activation rows; each runs over the weights in
            // groups of blocks that stay in the cache.
            // AMX takes all of a task's 32 rows in one call, so each
            // weight tile is read once a task whatever the grouping: long
            // runs of blocks save configuring the tiles again.
            let group = if kernel == Kernel::Amx {
                AMX_GROUP_BLOCKS
            } else {
                (W_GROUP_BYTES / (BLOCK * self.k).max(1)).max(1)
            };
            out.par_chunks_mut(WIDE_ROWS * n)
                .enumerate()
                .for_each(|(c, chunk)| {
                    let i0 = c * WIDE_ROWS;
                    let rows = chunk.len() / n;
                    let mut sums = vec![0i32; tall * group * BLOCK];
                    let mut b0 = 0;
                    while b0 < blocks {
                        let b1 = (b0 + group).min(blocks);
                        let (j0, w) = (b0 * BLOCK, (b1 - b0) * BLOCK);
                        let cols = (b1 * BLOCK).min(n) - j0;
                        let mut i = 0;
                        while i < rows {
                            let m = (rows - i).min(tall);
                            self.sums(&xq, i0 + i..i0 + i + m, b0..b1, kernel, &mut sums);
                            for a in 0..m {
                                let row = (i + a) * n + j0;
                                finish(
                                    i0 + i + a,
                                    j0,
                                    &sums[a * w..a * w + cols],
                                    &mut chunk[row..row + cols],
                                );
                            }
                            i += m;
                        }
                        b0 = b1;
                    }
                });
        }
        Some(out)
    }

    /// The integer sums of activation rows `is` (1 to
    /// [`Kernel::rows_at_once`]) with the weight
    /// rows of blocks `bs`, into `sums` (a row of `bs.len() · 16` a row).
    fn sums(
        &self,
        x: &Activations,
        is: std::ops::Range<usize>,
        bs: std::ops::Range<usize>,
        kernel: Kernel,
        sums: &mut [i32],
    ) {
        let (k, m, nb) = (self.k, is.len(), bs.len());
        let xs = &x.data[is.start * k..is.end * k];
        let ws = &self.data[bs.start * BLOCK * k..bs.end * BLOCK * k];
        let out = &mut sums[..m * nb * BLOCK];
        #[cfg(target_arch = "x86_64")]
        if kernel != Kernel::Plain && k > 0 {
            macro_rules! run {
                ($f:ident $(, $more:literal)*) => {{
                    let (xp, wp, op) = (xs.as_ptr(), ws.as_ptr(), out.as_mut_ptr());
                    let os = nb * BLOCK;
                    // SAFETY: `checked()` confirmed the processor has the
                    // kernel's instructions; `xs` holds `m` rows of `k`
                    // bytes (`k` a multiple of 4), `ws` `nb` blocks of
                    // `16 · k`, `out` `m` rows of `nb · 16` sums.
                    unsafe {
                        match m {
                            1 => x86::$f::<1>(xp, wp, k, nb, op, os),
                            2 => x86::$f::<2>(xp, wp, k, nb, op, os),
                            3 => x86::$f::<3>(xp, wp, k, nb, op, os),
                            4 => x86::$f::<4>(xp, wp, k, nb, op, os),
                            $(
                                $more => x86::$f::<$more>(xp, wp, k, nb, op, os),
                            )*
                            _ => unreachable!("more rows than the kernel takes"),
                        }
                    }
                    return;
                }};
            }
            match kernel {
                Kernel::Avx2 => run!(rows_avx2),
                Kernel::AvxVnni => run!(rows_avx_vnni),
                Kernel::Avx512Vnni => run!(rows_avx512_vnni, 5, 6, 7, 8),
                // Other lengths never get here (`for_length`); were one
                // to, the plain code below gives the same sums.
                Kernel::Amx if k.is_multiple_of(super::amx::K_STEP) => {
                    // SAFETY: `checked()` saw AMX; `k` is a multiple of
                    // 64; 1 ≤ m ≤ 32 rows (`rows_at_once`) of `k` bytes,
                    // `nb` blocks, `m` rows of `nb · 16` sums.
                    unsafe {
                        super::amx::sums(
                            xs.as_ptr(),
                            m,
                            ws.as_ptr(),
                            k,
                            nb,
                            out.as_mut_ptr(),
                            nb * BLOCK,
                        )
                    };
                    return;
                }
                Kernel::Plain | Kernel::Amx => {}
            }
        }
        out.iter_mut().for_each(|o| *o = 0);
        for a in 0..m {
            let x = &xs[a * k..(a + 1) * k];
            for b in 0..nb {
                let w = &ws[b * BLOCK * k..(b + 1) * BLOCK * k];
                for (p, xv) in x.chunks_exact(4).enumerate() {
                    for jj in 0..BLOCK {
                        let wv = &w[(p * BLOCK + jj) * 4..(p * BLOCK + jj) * 4 + 4];
                        let s: i32 = xv
                            .iter()
                            .zip(wv)
                            .map(|(x, w)| {
                                let x = if kernel.shifted() {
                                    *x as i32
                                } else {
                                    *x as i8 as i32
                                };
                                x * *w as i32
                            })
                            .sum();
                        out[a * nb * BLOCK + b * BLOCK + jj] += s;
                    }
                }
            }
        }
    }
}

/// Up to this many activation rows a product takes the decoding path (or
/// more where there are too few for every thread to take its own rows).
const THIN_ROWS: usize = 8;
/// Weight blocks a thread's task on the decoding path.
const THIN_BLOCKS: usize = 16;
/// Activation rows a thread's task on the wide path.
const WIDE_ROWS: usize = 32;
/// The weight blocks a wide task runs over at a time fill about this much.
const W_GROUP_BYTES: usize = 32 << 10;
/// Weight blocks an AMX call on the wide path runs over.
const AMX_GROUP_BLOCKS: usize = 32;

/// Activation rows quantised for a kernel: padded like the weights,
/// shifted to unsigned for the VNNI kernels.
struct Activations {
    data: Vec<u8>,
    scales: Vec<f32>,
}

impl Activations {
    /// `rows` rows of `cols` values, each quantised on its own; compiled
    /// for AVX2 where `kernel` runs (every kernel but the plain one needs
    /// it), threads taking groups of rows.
    fn quantize(x: &[f32], rows: usize, cols: usize, k: usize, kernel: Kernel) -> Self {
        let shifted = kernel.shifted();
        let mut data = vec![if shifted { 128u8 } else { 0 }; rows * k];
        let mut scales = vec![0f32; rows];
        if cols > 0 && k > 0 {
            let one = |(d, (r, s)): (&mut [u8], (&[f32], &mut f32))| {
                #[cfg(target_arch = "x86_64")]
                if kernel != Kernel::Plain {
                    // SAFETY: the kernel's checks saw AVX2.
                    *s = unsafe { quantize_row_avx2(r, d, shifted) };
                    return;
                }
                *s = quantize_row(r, d, shifted);
            };
            let rows = data
                .chunks_exact_mut(k)
                .zip(x.chunks_exact(cols).zip(&mut scales));
            if rows.len() * cols >= PARALLEL_VALUES {
                data.par_chunks_exact_mut(k)
                    .zip(x.par_chunks_exact(cols).zip(&mut scales))
                    .for_each(one);
            } else {
                rows.for_each(one);
            }
        }
        Self { data, scales }
    }
}

/// Below this many values, a product's activations are quantised on the
/// calling thread.
const PARALLEL_VALUES: usize = 1 << 16;

/// [`quantize_into`] writing the kernels' bytes straight into `out` (the
/// first `row.len()` of them; shifted to unsigned when `shifted`); the
/// row's scale.
#[inline(always)]
fn quantize_row(row: &[f32], out: &mut [u8], shifted: bool) -> f32 {
    // Written so the compiler vectorises it (selects, not branches).
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let max = row.iter().fold(0.0f32, |m, v| m.max(finite(*v).abs()));
    let flip = if shifted { 0x80u8 } else { 0 };
    if max == 0.0 {
        out[..row.len()].iter_mut().for_each(|q| *q = flip);
        return 0.0;
    }
    let scale = max / 127.0;
    let inv = 1.0 / scale;
    // Adding and taking off 1.5 · 2²³ rounds to the nearest integer (ties
    // to even) for |v| < 2²², in two instructions instead of a call to
    // libm's `roundf`.
    const ROUND: f32 = 12_582_912.0;
    for (q, v) in out.iter_mut().zip(row) {
        *q = (((finite(*v) * inv).clamp(-127.0, 127.0) + ROUND - ROUND) as i32 as i8 as u8) ^ flip;
    }
    scale
}

/// [`quantize_row`] in AVX2 (the same bytes: both round halves to even):
/// the largest magnitude eight lanes at a time, then 32 values a step
/// converted, narrowed and stored together.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_row_avx2(row: &[f32], out: &mut [u8], shifted: bool) -> f32 {
    use std::arch::x86_64::*;
    let n = row.len();
    assert!(out.len() >= n);
    let body = n / 32 * 32;
    let (src, dst) = (row.as_ptr(), out.as_mut_ptr());
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let inf = _mm256_set1_ps(f32::INFINITY);
    // |v| where v is finite, else 0 (NaN compares false).
    let magnitude = |v: __m256| {
        let a = _mm256_and_ps(v, abs_mask);
        _mm256_and_ps(a, _mm256_cmp_ps::<_CMP_LT_OQ>(a, inf))
    };
    let mut m = _mm256_setzero_ps();
    for i in (0..body).step_by(8) {
        // SAFETY: i + 8 <= body <= n.
        m = _mm256_max_ps(m, magnitude(unsafe { _mm256_loadu_ps(src.add(i)) }));
    }
    let mut lanes = [0f32; 8];
    // SAFETY: eight values.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), m) };
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let max = lanes
        .into_iter()
        .chain(row[body..].iter().map(|v| finite(*v).abs()))
        .fold(0.0f32, f32::max);
    let flip = if shifted { 0x80u8 } else { 0 };
    if max == 0.0 {
        out[..n].iter_mut().for_each(|q| *q = flip);
        return 0.0;
    }
    let scale = max / 127.0;
    let inv = 1.0 / scale;
    let (vinv, lo, hi) = (
        _mm256_set1_ps(inv),
        _mm256_set1_ps(-127.0),
        _mm256_set1_ps(127.0),
    );
    let vflip = _mm256_set1_epi8(flip as i8);
    // packs interleave 128-bit lanes; this puts the dwords back in order.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let convert = |v: __m256| {
        let finite = _mm256_cmp_ps::<_CMP_LT_OQ>(_mm256_and_ps(v, abs_mask), inf);
        let v = _mm256_and_ps(_mm256_mul_ps(v, vinv), finite);
        _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi))
    };
    for i in (0..body).step_by(32) {
        // SAFETY: i + 32 <= body <= n <= out.len().
        unsafe {
            let q = |j: usize| convert(_mm256_loadu_ps(src.add(i + j)));
            let w0 = _mm256_packs_epi32(q(0), q(8));
            let w1 = _mm256_packs_epi32(q(16), q(24));
            let b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w0, w1), order);
            _mm256_storeu_si256(dst.add(i).cast(), _mm256_xor_si256(b, vflip));
        }
    }
    const ROUND: f32 = 12_582_912.0;
    for (q, v) in out[body..n].iter_mut().zip(&row[body..]) {
        *q = (((finite(*v) * inv).clamp(-127.0, 127.0) + ROUND - ROUND) as i32 as i8 as u8) ^ flip;
    }
    scale
}

/// One activation row's integer sums turned into outputs: `out[j] =
/// (sums[j] − shift[j]) · xs · scales[j] (+ bias[j])`.
#[inline(always)]
fn finish_row(
    out: &mut [f32],
    sums: &[i32],
    scales: &[f32],
    shift: Option<&[i32]>,
    xs: f32,
    bias: Option<&[f32]>,
) {
    match shift {
        Some(shift) => {
            for (((o, s), w), c) in out.iter_mut().zip(sums).zip(scales).zip(shift) {
                *o = (s - c) as f32 * xs * w;
            }
        }
        None => {
            for ((o, s), w) in out.iter_mut().zip(sums).zip(scales) {
                *o = *s as f32 * xs * w;
            }
        }
    }
    if let Some(b) = bias {
        for (o, b) in out.iter_mut().zip(b) {
            *o += b;
        }
    }
}

/// [`finish_row`] compiled for AVX2.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn finish_row_avx2(
    out: &mut [f32],
    sums: &[i32],
    scales: &[f32],
    shift: Option<&[i32]>,
    xs: f32,
    bias: Option<&[f32]>,
) {
    finish_row(out, sums, scales, shift, xs, bias)
}

/// The dot product of two int8 rows of the same length (values in
/// `[-127, 127]`), exact, with `kernel` (plain Rust where the processor
/// lacks it), through the products' own kernels (for the tests).
#[cfg(test)]
fn dot(a: &[i8], b: &[i8], kernel: Kernel) -> i32 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0;
    }
    let Some(m) = QuantizedMatrix::pack(&b[..n], 1, n, vec![1.0]) else {
        return plain(a, b);
    };
    let kernel = kernel.checked().for_length(m.k);
    let mut x: Vec<u8> = a[..n]
        .iter()
        .map(|v| {
            if kernel.shifted() {
                (*v as u8) ^ 0x80
            } else {
                *v as u8
            }
        })
        .collect();
    x.resize(m.k, if kernel.shifted() { 128 } else { 0 });
    let x = Activations {
        data: x,
        scales: vec![1.0],
    };
    let mut sums = vec![0i32; BLOCK];
    m.sums(&x, 0..1, 0..1, kernel, &mut sums);
    if kernel.shifted() {
        sums[0] - m.shift[0]
    } else {
        sums[0]
    }
}

/// The definition: the sum of the products.
#[cfg(test)]
fn plain(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(x, y)| *x as i32 * *y as i32).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::BLOCK;

    /// Defines `$name::<M>(x, w, k, nb, out, os)`: the sums of `M`
    /// activation rows at `x` (`k` bytes each) with the `nb` weight
    /// blocks at `w` (`16 · k` bytes each), into `out[a * os + 16b + j]`.
    /// Each step broadcasts four bytes of every activation row and adds
    /// their products with the next 64 bytes of a block (four of each of
    /// 16 rows) into 16 int32 lanes, in `$lanes`-wide vectors (a 512-bit
    /// vector takes a block's 64 bytes at once, a 256-bit one half).
    macro_rules! rows_kernel {
        ($name:ident, $feat:literal, $v:ty, $halves:literal, $zero:ident, $load:ident, $bcast:ident, $mac:ident, $store:ident) => {
            /// # Safety
            /// The processor has the instructions named in the target
            /// features; `x` holds `M · k` bytes, `w` `nb · 16 · k`, `out`
            /// `(M - 1) · os + 16 · nb` values; `k` is a multiple of 4.
            #[target_feature(enable = $feat)]
            pub unsafe fn $name<const M: usize>(
                x: *const u8,
                w: *const i8,
                k: usize,
                nb: usize,
                out: *mut i32,
                os: usize,
            ) {
                // Two blocks at a time where there are two.
                let mut b = 0;
                while b + 2 <= nb {
                    let mut acc = [[$zero(); 2 * $halves]; M];
                    let w0 = unsafe { w.add(b * BLOCK * k) };
                    let w1 = unsafe { w.add((b + 1) * BLOCK * k) };
                    let mut p = 0;
                    while p < k {
                        let mut wv = [$zero(); 2 * $halves];
                        for h in 0..$halves {
                            // SAFETY: p < k: inside both blocks.
                            wv[h] =
                                unsafe { $load(w0.add(p * BLOCK + h * 64 / $halves) as *const $v) };
                            wv[$halves + h] =
                                unsafe { $load(w1.add(p * BLOCK + h * 64 / $halves) as *const $v) };
                        }
                        for a in 0..M {
                            // SAFETY: row a < M, p + 4 <= k.
                            let xv = $bcast(unsafe {
                                (x.add(a * k + p) as *const i32).read_unaligned()
                            });
                            for h in 0..2 * $halves {
                                acc[a][h] = $mac(acc[a][h], xv, wv[h]);
                            }
                        }
                        p += 4;
                    }
                    for a in 0..M {
                        for h in 0..2 * $halves {
                            // SAFETY: inside row a's 16 · nb sums.
                            unsafe {
                                $store(
                                    out.add(a * os + b * BLOCK + h * 16 / $halves) as *mut $v,
                                    acc[a][h],
                                )
                            };
                        }
                    }
                    b += 2;
                }
                if b < nb {
                    let mut acc = [[$zero(); $halves]; M];
                    let w0 = unsafe { w.add(b * BLOCK * k) };
                    let mut p = 0;
                    while p < k {
                        let mut wv = [$zero(); $halves];
                        for h in 0..$halves {
                            // SAFETY: p < k: inside the block.
                            wv[h] =
                                unsafe { $load(w0.add(p * BLOCK + h * 64 / $halves) as *const $v) };
                        }
                        for a in 0..M {
                            // SAFETY: row a < M, p + 4 <= k.
                            let xv = $bcast(unsafe {
                                (x.add(a * k + p) as *const i32).read_unaligned()
                            });
                            for h in 0..$halves {
                                acc[a][h] = $mac(acc[a][h], xv, wv[h]);
                            }
                        }
                        p += 4;
                    }
                    for a in 0..M {
                        for h in 0..$halves {
                            // SAFETY: inside row a's 16 · nb sums.
                            unsafe {
                                $store(
                                    out.add(a * os + b * BLOCK + h * 16 / $halves) as *mut $v,
                                    acc[a][h],
                                )
                            };
                        }
                    }
                }
            }
        };
    }

    /// `acc + Σ x·w` over byte pairs, the sign of x moved onto w.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mac_avx2(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
        let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(w, x));
        _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
    }

    #[inline]
    #[target_feature(enable = "avx2,avxvnni")]
    fn mac_vnni(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
        _mm256_dpbusd_avx_epi32(acc, x, w)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512vnni")]
    fn mac_vnni512(acc: __m512i, x: __m512i, w: __m512i) -> __m512i {
        _mm512_dpbusd_epi32(acc, x, w)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store256(p: *mut __m256i, v: __m256i) {
        // SAFETY: the caller's.
        unsafe { _mm256_storeu_si256(p, v) }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store512(p: *mut __m512i, v: __m512i) {
        // SAFETY: the caller's.
        unsafe { _mm512_storeu_si512(p, v) }
    }

    rows_kernel!(
        rows_avx2,
        "avx2",
        __m256i,
        2,
        _mm256_setzero_si256,
        _mm256_loadu_si256,
        _mm256_set1_epi32,
        mac_avx2,
        store256
    );
    rows_kernel!(
        rows_avx_vnni,
        "avx2,avxvnni",
        __m256i,
        2,
        _mm256_setzero_si256,
        _mm256_loadu_si256,
        _mm256_set1_epi32,
        mac_vnni,
        store256
    );
    rows_kernel!(
        rows_avx512_vnni,
        "avx2,avx512f,avx512vnni",
        __m512i,
        1,
        _mm512_setzero_si512,
        _mm512_loadu_si512,
        _mm512_set1_epi32,
        mac_vnni512,
        store512
    );
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_activation_bytes_equal_the_plain_ones() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        for n in [0, 1, 7, 31, 32, 33, 100, 768, 1031] {
            let mut row = crate::rng::Rng::floats(n as u64, n);
            // Halves (rounding ties), values that are not finite, a huge one.
            if n > 10 {
                row[0] = 0.5;
                row[1] = f32::NAN;
                row[2] = f32::INFINITY;
                row[3] = f32::NEG_INFINITY;
                row[4] = -2.5;
                row[5] = 1e30;
            }
            for shifted in [false, true] {
                let mut want = vec![0u8; n];
                let mut got = vec![0u8; n];
                let s = quantize_row(&row, &mut want, shifted);
                // SAFETY: checked above.
                let t = unsafe { quantize_row_avx2(&row, &mut got, shifted) };
                assert_eq!(s, t, "scale, n = {n}");
                assert_eq!(want, got, "n = {n}, shifted = {shifted}");
            }
        }
        // Rows with ties at every lane: the scale is 1 so v·inv stays v.
        let ties: Vec<f32> = (0..64).map(|i| i as f32 - 31.5).chain([127.0]).collect();
        let (mut want, mut got) = (vec![0u8; ties.len()], vec![0u8; ties.len()]);
        quantize_row(&ties, &mut want, false);
        // SAFETY: checked above.
        unsafe { quantize_row_avx2(&ties, &mut got, false) };
        assert_eq!(want, got);
    }

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

    fn floats(n: usize, seed: u64) -> Vec<f32> {
        crate::rng::Rng::floats(seed, n)
    }

    #[test]
    fn every_kernel_here_equals_the_definition() {
        let kernels = Kernel::available();
        eprintln!("kernels this processor runs: {kernels:?}");
        assert!(kernels.contains(&Kernel::best()));
        // Lengths around the 32- and 64-byte steps, and long ones where
        // int16 sums would have saturated.
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

    /// Every tile shape and both paths (few and many activation rows),
    /// against the same product computed from the quantised values by
    /// the definition.
    #[test]
    fn products_equal_the_definition_on_awkward_shapes() {
        for (r, n, k) in [
            (1, 1, 1),
            (1, 7, 63),
            (2, 5, 65),
            (3, 9, 100),
            (5, 3, 128),
            (8, 11, 129),
            (9, 13, 384),
            (33, 6, 200),
            (70, 517, 96),
            (45, 40, 72),
            (39, 33, 64),
            // AMX tiles: one and two row tiles, full and partial, odd
            // and even block counts, several 64-byte steps.
            (16, 48, 128),
            (17, 17, 192),
            (20, 40, 512),
            (32, 33, 64),
            (31, 16, 256),
            // Enough rows for the wide path whatever the threads.
            (2 * WIDE_ROWS * rayon::current_num_threads() + 13, 40, 72),
            (2 * WIDE_ROWS * rayon::current_num_threads() + 29, 50, 128),
        ] {
            let w = floats(n * k, 11 + r as u64);
            let x = floats(r * k, 17 + n as u64);
            let bias = floats(n, 5);
            let q = QuantizedMatrix::quantize(&w, n, k).unwrap();
            let mut xq = vec![0i8; k];
            let mut want = vec![0f32; r * n];
            for i in 0..r {
                let xs = quantize_into(&x[i * k..(i + 1) * k], &mut xq);
                for j in 0..n {
                    let (wr, ws) = q.row(j);
                    want[i * n + j] = plain(&xq, &wr) as f32 * xs * ws + bias[j];
                }
            }
            for kernel in Kernel::available() {
                let got = q.matmul(&x, r, Some(&bias), kernel).unwrap();
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                        "{kernel:?} {r}×{n}×{k}: {g} against {w}"
                    );
                }
            }
        }
        let q = QuantizedMatrix::quantize(&[1.0; 6], 2, 3).unwrap();
        assert!(q.matmul(&[1.0; 5], 2, None, Kernel::best()).is_none());
        assert!(
            q.matmul(&[1.0; 6], 2, Some(&[0.0]), Kernel::best())
                .is_none()
        );
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
    fn ctranslate2_int8_rows_keep_their_values() {
        let data = [127i8, -64, 0, -128, 5, 6];
        let m = QuantizedMatrix::from_int8(&data, 2, 3, &[127.0, 0.0]).unwrap();
        assert_eq!(m.row_f32(0), vec![1.0, -64.0 / 127.0, 0.0]);
        assert_eq!(m.row_f32(1), vec![0.0; 3], "a zero divisor: zeros");
        assert!(QuantizedMatrix::from_int8(&data, 2, 3, &[1.0]).is_none());
        // A quantised matrix read back and quantised again is the same.
        let w = floats(4 * 70, 3);
        let q = QuantizedMatrix::quantize(&w, 4, 70).unwrap();
        let back: Vec<f32> = (0..4).flat_map(|r| q.row_f32(r)).collect();
        let again = QuantizedMatrix::quantize(&back, 4, 70).unwrap();
        assert_eq!(again.data, q.data);
    }

    #[test]
    fn an_int8_product_is_close_to_the_float_one() {
        // A 384 × 1536 layer of smooth random weights, as a decoder's.
        let (rows, cols) = (384, 1536);
        let w: Vec<f32> = floats(rows * cols, 7).iter().map(|v| v * 0.1).collect();
        let x = floats(cols, 8);
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
