//! Our own f32 matrix product for the CPU, `C = A · B (+ bias)`, used for
//! the models' wide products (the vision encoder's layers over 577
//! patches, Whisper's and Marian's encoders): candle's gemm reaches about
//! half of what PyTorch's MKL does on these shapes here (45 against 85
//! GFLOP/s a core on a 577×768×3072 product).
//!
//! The method is the usual cache-blocked one (Goto & van de Geijn): B is
//! packed a block of `KC` rows at a time into panels `NR` columns wide, A
//! into panels `MR` rows tall, and a register-blocked kernel multiplies a
//! pair of panels into an `MR × NR` tile of C. Threads take disjoint
//! column ranges of C. Either operand may be strided (a transposed weight
//! matrix is read in place). The kernel uses AVX2 + FMA where the CPU has
//! them and plain Rust otherwise; the result is the same up to the order
//! of additions.
//!
//! A model's f32 linear layers keep their weights packed once, at load,
//! in that panel layout ([`PackedB`], [`gemm_packed`]): the same memory as
//! the weight, no packing per product, and a decoding step's few rows run
//! through the same register tiles (1 to 12 rows) with the next panels
//! prefetched, so the weight streams through memory once at close to the
//! kernel's speed (a 20-beam batch over opus-mt-big's 58101×1024 output
//! layer: 11 ms against the dot products' 17). [`dots`] remains for
//! weights read in place.

use std::cell::{Cell, RefCell};

use rayon::prelude::*;

/// Rows of A per kernel call.
const MR: usize = 6;
/// Columns of B per kernel call.
const NR: usize = 16;
/// The depth of one packed block (a B panel of `KC × NR` stays in L1).
const KC: usize = 256;

/// A matrix read in place: element (r, c) is `data[r * rs + c * cs]`.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a> View<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose of a row-major `rows × cols` matrix (a `cols × rows`
    /// view), e.g. a linear layer's weight `W` read as `Wᵀ`.
    pub fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows: cols,
            cols: rows,
            rs: 1,
            cs: cols,
        }
    }

    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.rs + (self.cols - 1) * self.cs;
            assert!(last < self.data.len(), "matrix view past its data");
        }
    }
}

/// The instruction sets a product's kernel uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isa {
    /// Plain Rust (any CPU).
    Plain,
    /// AVX2 + FMA: `MR × NR` tiles in twelve 8-lane accumulators.
    Avx2,
    /// AVX-512: `MR × 2·NR` tiles (two B panels at once) in twelve
    /// 16-lane accumulators; edge tiles as [`Isa::Avx2`].
    Avx512,
}

impl Isa {
    /// The widest this CPU runs.
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if fast() {
            return if std::is_x86_feature_detected!("avx512f") {
                Isa::Avx512
            } else {
                Isa::Avx2
            };
        }
        Isa::Plain
    }
}

/// Whether the fast kernel runs on this CPU (otherwise [`gemm`] is
/// correct but slow, and callers should prefer candle's product).
pub fn fast() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `C = A · B`, plus `bias[j]` on every row's column j when given. C is
/// row-major `a.rows × b.cols` and wholly overwritten.
pub fn gemm(a: View, b: View, bias: Option<&[f32]>, c: &mut [f32]) {
    gemm_on(Isa::detect(), a, BSource::View(b), bias, c)
}

/// `C = X · Wᵀ (+ bias)` for a weight packed once ([`PackedB`]): any
/// number of rows of X (`r × k`, row-major), from one decoding step to an
/// encoder's 1500 frames. C is `r × n`, overwritten.
pub fn gemm_packed(x: &[f32], r: usize, w: &PackedB, bias: Option<&[f32]>, c: &mut [f32]) {
    gemm_on(
        Isa::detect(),
        View::rows(x, r, w.k),
        BSource::Packed(w),
        bias,
        c,
    )
}

/// Where a product's B comes from.
#[derive(Clone, Copy)]
enum BSource<'a> {
    /// Read in place, packed a block at a time by each task.
    View(View<'a>),
    /// Packed already.
    Packed(&'a PackedB),
}

impl BSource<'_> {
    fn rows(&self) -> usize {
        match self {
            Self::View(v) => v.rows,
            Self::Packed(p) => p.k,
        }
    }

    fn cols(&self) -> usize {
        match self {
            Self::View(v) => v.cols,
            Self::Packed(p) => p.n,
        }
    }
}

/// A linear layer's weight `W` (`n × k`, row-major) packed once, when the
/// model loads, as [`gemm`]'s B operand `Wᵀ`: block by block of [`KC`]
/// rows of `Wᵀ`, each block as panels of `kc × NR` (columns past `n`
/// zero). The same memory as `W` (up to `NR − 1` padding rows); products
/// then read it in the order the kernel does — for a few rows of X (a
/// decoding step) it streams through memory once, without the dot
/// products' sums across lanes, and wide products skip the packing.
pub struct PackedB {
    /// W's rows (the output features).
    n: usize,
    /// W's columns (the input features).
    k: usize,
    data: Vec<f32>,
}

impl PackedB {
    /// `w` (`n × k`) packed; `None` when the sizes do not match or
    /// overflow.
    pub fn new(w: &[f32], n: usize, k: usize) -> Option<Self> {
        let np = n.checked_next_multiple_of(NR)?;
        if w.len() != n.checked_mul(k)? || n == 0 {
            return None;
        }
        let mut data = vec![0f32; np.checked_mul(k)?];
        let view = View::transposed(w, n, k);
        let isa = Isa::detect();
        data.par_chunks_mut(KC * np)
            .enumerate()
            .for_each(|(block, out)| {
                let p0 = block * KC;
                let kc = KC.min(k - p0);
                // A task's worth of columns at a time (whole panels).
                let step = 64 * NR;
                out.par_chunks_mut(kc * step)
                    .enumerate()
                    .for_each(|(t, out)| {
                        let j0 = t * step;
                        pack_b(view, p0, kc, j0, step.min(n - j0), out, isa != Isa::Plain);
                    });
            });
        Some(Self { n, k, data })
    }

    /// The output features (W's rows).
    pub fn rows(&self) -> usize {
        self.n
    }

    /// The input features (W's columns).
    pub fn cols(&self) -> usize {
        self.k
    }

    /// The bytes it holds.
    pub fn bytes(&self) -> usize {
        self.data.len() * 4
    }

    /// W's row `j` (a tied embedding's vector), gathered from the panels.
    pub fn row(&self, j: usize) -> Option<Vec<f32>> {
        if j >= self.n {
            return None;
        }
        let np = self.n.next_multiple_of(NR);
        let mut v = Vec::with_capacity(self.k);
        for p0 in (0..self.k).step_by(KC) {
            let kc = KC.min(self.k - p0);
            let panel = &self.data[p0 * np + (j / NR) * kc * NR..][..kc * NR];
            v.extend(panel.iter().skip(j % NR).step_by(NR));
        }
        Some(v)
    }

    /// The panels of columns `j0 .. j0 + cols` (`j0` a multiple of
    /// [`NR`]) of the block starting at row `p0` of `Wᵀ`.
    fn panels(&self, p0: usize, j0: usize, cols: usize) -> &[f32] {
        let kc = KC.min(self.k - p0);
        let np = self.n.next_multiple_of(NR);
        &self.data[p0 * np + (j0 / NR) * kc * NR..][..cols.div_ceil(NR) * kc * NR]
    }
}

/// [`gemm`] with the kernels of `isa` (which the CPU must run).
fn gemm_on(isa: Isa, a: View, b: BSource, bias: Option<&[f32]>, c: &mut [f32]) {
    let (m, k, n) = (a.rows, a.cols, b.cols());
    assert_eq!(k, b.rows(), "inner dimensions differ");
    assert_eq!(c.len(), m * n, "output size");
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "bias size");
    }
    a.check();
    if let BSource::View(b) = b {
        b.check();
    }
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for row in c.chunks_exact_mut(n) {
            match bias {
                Some(bias) => row.copy_from_slice(bias),
                None => row.fill(0.0),
            }
        }
        return;
    }
    let mp = m.next_multiple_of(MR);
    // Taken out of the thread's slot rather than borrowed: while this
    // thread waits for the tasks below, rayon may run another product on
    // it (attention runs heads in parallel), which then packs into a
    // buffer of its own.
    let mut ap = PACKED_A.take();
    {
        // All of A, once: block by block of KC columns, each as panels.
        ap.resize(mp * k, 0.0);
        for p0 in (0..k).step_by(KC) {
            let kc = KC.min(k - p0);
            let block = &mut ap[p0 * mp..(p0 + kc) * mp];
            if mp * kc <= 1 << 14 {
                // A decoding step's few rows: not worth the threads.
                for (pi, panel) in block.chunks_mut(kc * MR).enumerate() {
                    pack_a(a, pi * MR, p0, kc, panel);
                }
            } else {
                block
                    .par_chunks_mut(kc * MR)
                    .enumerate()
                    .for_each(|(pi, panel)| pack_a(a, pi * MR, p0, kc, panel));
            }
        }
        let ap = &ap[..mp * k];
        // About four column ranges a thread, each a whole number of panels.
        let threads = rayon::current_num_threads().max(1);
        let nc = n.div_ceil(threads * 4).next_multiple_of(NR).max(4 * NR);
        let out = SharedOut(c.as_mut_ptr());
        (0..n.div_ceil(nc)).into_par_iter().for_each(|t| {
            let j0 = t * nc;
            let cols = nc.min(n - j0);
            // SAFETY: each task writes only columns j0..j0 + cols of C.
            unsafe { block(ap, m, k, b, bias, &out, n, j0, cols, isa) };
        });
    }
    PACKED_A.set(ap);
}

/// An output that tasks write in disjoint column ranges.
pub(crate) struct SharedOut(pub(crate) *mut f32);
// SAFETY: tasks write disjoint column ranges of the output.
unsafe impl Sync for SharedOut {}
unsafe impl Send for SharedOut {}

thread_local! {
    /// A packed, on the calling thread (reused: no fresh pages each call).
    static PACKED_A: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    /// A task's packed block of B, on each worker thread.
    static PACKED_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Columns `j0 .. j0 + cols` of C, by one thread, from A packed whole.
///
/// # Safety
/// `out` points at C (row-major, `ldc` columns, `m` rows) and no one
/// else touches these columns meanwhile.
#[allow(clippy::too_many_arguments)]
unsafe fn block(
    ap: &[f32],
    m: usize,
    k: usize,
    b: BSource,
    bias: Option<&[f32]>,
    out: &SharedOut,
    ldc: usize,
    j0: usize,
    cols: usize,
    isa: Isa,
) {
    let mp = m.next_multiple_of(MR);
    PACKED_B.with_borrow_mut(|bp| {
        let panels = cols.div_ceil(NR);
        // Panels wholly inside C (the last may be partly outside).
        let whole = cols / NR;
        if let BSource::View(_) = b {
            bp.resize(KC * panels * NR, 0.0);
        }
        for p0 in (0..k).step_by(KC) {
            let kc = KC.min(k - p0);
            let bp: &[f32] = match b {
                BSource::View(b) => {
                    pack_b(b, p0, kc, j0, cols, &mut bp[..], isa != Isa::Plain);
                    &bp[..]
                }
                BSource::Packed(p) => p.panels(p0, j0, cols),
            };
            let ablock = &ap[p0 * mp..(p0 + kc) * mp];
            let mut pj = 0;
            while pj < panels {
                // Two whole panels at once with AVX-512.
                let step = if isa == Isa::Avx512 && pj + 2 <= whole {
                    2
                } else {
                    1
                };
                let jj = j0 + pj * NR;
                let bpanels = &bp[pj * kc * NR..(pj + step) * kc * NR];
                let apanels = mp / MR;
                let mut pi = 0;
                while pi < apanels {
                    let ii = pi * MR;
                    let apanel = &ablock[pi * kc * MR..(pi + 1) * kc * MR];
                    let tile = Tile {
                        kc,
                        rows: MR.min(m - ii),
                        ldc,
                        p0,
                        isa,
                    };
                    let bias = |j: usize, cols: usize| match (p0, bias) {
                        (0, Some(bias)) => Some(&bias[j..j + cols]),
                        _ => None,
                    };
                    #[cfg(target_arch = "x86_64")]
                    if step == 2 {
                        // Up to two A panels' rows (the last tile of a
                        // few rows as it is, not padded to a panel).
                        let rows = (m - ii).min(2 * MR);
                        let used = rows.div_ceil(MR);
                        let bias = bias(jj, 2 * NR);
                        let apanels = &ablock[pi * kc * MR..(pi + used) * kc * MR];
                        // SAFETY: the CPU has AVX-512 (isa); rows ii ..
                        // ii + rows are in C and columns jj .. jj + 2·NR
                        // are this task's.
                        unsafe {
                            let dst = out.0.add(ii * ldc + jj);
                            // The first row tile over a pair of panels
                            // fetches the next pair; the others find
                            // this one in the cache.
                            kernel_avx512_rows(
                                rows,
                                kc,
                                apanels,
                                bpanels,
                                dst,
                                ldc,
                                bias,
                                p0 > 0,
                                pi == 0 && pj + 2 < panels,
                            );
                        }
                        pi += used;
                        continue;
                    }
                    for q in 0..step {
                        let jq = jj + q * NR;
                        let nr = NR.min(j0 + cols - jq);
                        let bias = bias(jq, nr);
                        let bpanel = &bpanels[q * kc * NR..(q + 1) * kc * NR];
                        // SAFETY: row ii < m; columns jq .. jq + nr are this task's.
                        unsafe { tile.run(apanel, bpanel, out.0.add(ii * ldc + jq), nr, bias) };
                    }
                    pi += 1;
                }
                pj += step;
            }
        }
    });
}

/// One `MR × NR` tile's shape and place.
struct Tile {
    kc: usize,
    /// Rows of the tile inside C.
    rows: usize,
    ldc: usize,
    /// The first of the `kc` rows of B (0: C is set, else added to).
    p0: usize,
    isa: Isa,
}

impl Tile {
    /// The tile of A panel × B panel into C at `dst`, `nr` columns of it
    /// inside C; `bias` (nr values) added when `p0` is 0.
    ///
    /// # Safety
    /// `dst` points at a `rows × nr` tile of C (`ldc` columns) that no
    /// one else touches meanwhile.
    unsafe fn run(
        &self,
        apanel: &[f32],
        bpanel: &[f32],
        dst: *mut f32,
        nr: usize,
        bias: Option<&[f32]>,
    ) {
        let (kc, p0) = (self.kc, self.p0);
        #[cfg(target_arch = "x86_64")]
        if self.isa != Isa::Plain && self.rows == MR && nr == NR {
            // SAFETY: the CPU has AVX2 and FMA (isa); the tile is whole
            // inside C.
            unsafe { kernel_avx2(kc, apanel, bpanel, dst, self.ldc, bias, p0 > 0) };
            return;
        }
        // An edge tile (or no AVX2): computed aside, the part inside C
        // stored.
        let mut acc = [[0f32; NR]; MR];
        #[cfg(target_arch = "x86_64")]
        if self.isa != Isa::Plain {
            // SAFETY: as above; the tile is `acc`.
            unsafe { kernel_avx2(kc, apanel, bpanel, acc.as_mut_ptr().cast(), NR, None, false) };
        } else {
            acc = kernel_plain(kc, apanel, bpanel);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            acc = kernel_plain(kc, apanel, bpanel);
        }
        for (r, acc_row) in acc.iter().enumerate().take(self.rows) {
            // SAFETY: as the caller promised, row r < rows.
            let dst = unsafe { std::slice::from_raw_parts_mut(dst.add(r * self.ldc), nr) };
            match (p0, bias) {
                (0, Some(bias)) => {
                    for ((d, s), b) in dst.iter_mut().zip(acc_row).zip(bias) {
                        *d = s + b;
                    }
                }
                (0, None) => dst.copy_from_slice(&acc_row[..nr]),
                _ => {
                    for (d, s) in dst.iter_mut().zip(acc_row) {
                        *d += s;
                    }
                }
            }
        }
    }
}

/// B's rows `p0 .. p0 + kc`, columns `j0 .. j0 + cols`, as panels of
/// `kc × NR` (zero beyond the last column).
#[allow(clippy::too_many_arguments)]
fn pack_b(b: View, p0: usize, kc: usize, j0: usize, cols: usize, bp: &mut [f32], fast: bool) {
    for (pj, panel) in bp
        .chunks_exact_mut(kc * NR)
        .take(cols.div_ceil(NR))
        .enumerate()
    {
        let jj = j0 + pj * NR;
        let nr = NR.min(j0 + cols - jj);
        if b.cs == 1 {
            for p in 0..kc {
                let src = &b.data[(p0 + p) * b.rs + jj..][..nr];
                let dst = &mut panel[p * NR..(p + 1) * NR];
                dst[..nr].copy_from_slice(src);
                dst[nr..].fill(0.0);
            }
        } else if cfg!(target_arch = "x86_64") && b.rs == 1 && nr == NR && fast {
            // A transposed row-major matrix (a weight W read as Wᵀ): 8×8
            // blocks turned in registers, the rest of kc by gathering.
            let whole = kc / 8 * 8;
            #[cfg(target_arch = "x86_64")]
            // SAFETY: fast() saw AVX2.
            unsafe {
                pack_transposed_avx2(&b.data[jj * b.cs + p0..], b.cs, whole, panel)
            };
            if whole < kc {
                let tail = &mut panel[whole * NR..];
                gather(
                    b.data,
                    |j| (jj + j) * b.cs + p0 + whole,
                    1,
                    nr,
                    kc - whole,
                    tail,
                );
            }
        } else {
            gather(b.data, |j| (jj + j) * b.cs + p0 * b.rs, b.rs, nr, kc, panel);
        }
    }
}

/// `panel[p * 16 + j] = w[j * ld + p]` for j < 16 and p < `kc` (a
/// multiple of 8): sixteen rows of W turned into a B panel, 8×8 at a time.
///
/// # Safety
/// The CPU has AVX2 (the sizes are checked here).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pack_transposed_avx2(w: &[f32], ld: usize, kc: usize, panel: &mut [f32]) {
    use std::arch::x86_64::*;
    assert!(kc.is_multiple_of(8) && panel.len() >= kc * NR);
    assert!(kc == 0 || w.len() >= (NR - 1) * ld + kc);
    let (src, dst) = (w.as_ptr(), panel.as_mut_ptr());
    for half in 0..2 {
        for p in (0..kc).step_by(8) {
            // SAFETY: as the caller promised.
            unsafe {
                let row = |j: usize| _mm256_loadu_ps(src.add((half * 8 + j) * ld + p));
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
                let (r4, r5, r6, r7) = (row(4), row(5), row(6), row(7));
                let t0 = _mm256_unpacklo_ps(r0, r1);
                let t1 = _mm256_unpackhi_ps(r0, r1);
                let t2 = _mm256_unpacklo_ps(r2, r3);
                let t3 = _mm256_unpackhi_ps(r2, r3);
                let t4 = _mm256_unpacklo_ps(r4, r5);
                let t5 = _mm256_unpackhi_ps(r4, r5);
                let t6 = _mm256_unpacklo_ps(r6, r7);
                let t7 = _mm256_unpackhi_ps(r6, r7);
                let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                let cols = [
                    _mm256_permute2f128_ps::<0x20>(u0, u4),
                    _mm256_permute2f128_ps::<0x20>(u1, u5),
                    _mm256_permute2f128_ps::<0x20>(u2, u6),
                    _mm256_permute2f128_ps::<0x20>(u3, u7),
                    _mm256_permute2f128_ps::<0x31>(u0, u4),
                    _mm256_permute2f128_ps::<0x31>(u1, u5),
                    _mm256_permute2f128_ps::<0x31>(u2, u6),
                    _mm256_permute2f128_ps::<0x31>(u3, u7),
                ];
                for (q, c) in cols.into_iter().enumerate() {
                    _mm256_storeu_ps(dst.add((p + q) * NR + half * 8), c);
                }
            }
        }
    }
}

/// Fills a panel of `kc` rows of `W = panel.len() / kc` lanes: lane `j <
/// valid` reads `data[base(j) + p * step]` for row p, the other lanes are
/// zero.
fn gather(
    data: &[f32],
    base: impl Fn(usize) -> usize,
    step: usize,
    valid: usize,
    kc: usize,
    panel: &mut [f32],
) {
    let w = panel.len() / kc;
    for j in 0..w {
        if j < valid {
            let base = base(j);
            for p in 0..kc {
                panel[p * w + j] = data[base + p * step];
            }
        } else {
            for p in 0..kc {
                panel[p * w + j] = 0.0;
            }
        }
    }
}

/// One panel of A: rows `i0 .. i0 + MR`, columns `p0 .. p0 + kc`, as
/// `kc × MR` values (zero beyond the last row).
fn pack_a(a: View, i0: usize, p0: usize, kc: usize, panel: &mut [f32]) {
    let mr = MR.min(a.rows - i0);
    if a.cs == 1 && mr == MR {
        // Row-major A: the six rows read side by side, the panel written
        // in order.
        let rows: [&[f32]; MR] = std::array::from_fn(|r| &a.data[(i0 + r) * a.rs + p0..][..kc]);
        for (p, out) in panel.chunks_exact_mut(MR).take(kc).enumerate() {
            for (o, row) in out.iter_mut().zip(&rows) {
                *o = row[p];
            }
        }
        return;
    }
    gather(
        a.data,
        |r| (i0 + r) * a.rs + p0 * a.cs,
        a.cs,
        mr,
        kc,
        &mut panel[..kc * MR],
    );
}

/// One `MR × NR` tile: the sum over `kc` of A-panel column × B-panel row.
fn kernel_plain(kc: usize, ap: &[f32], bp: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[0f32; NR]; MR];
    for (a, b) in ap.chunks_exact(MR).zip(bp.chunks_exact(NR)).take(kc) {
        for (row, &av) in acc.iter_mut().zip(a) {
            for (c, &bv) in row.iter_mut().zip(b) {
                *c += av * bv;
            }
        }
    }
    acc
}

/// [`kernel_plain`] in AVX2 + FMA (twelve 8-lane accumulators), the
/// tile stored straight into C: `C = tile (+ bias)`, or `C += tile` when
/// `accumulate`.
///
/// # Safety
/// The CPU has AVX2 and FMA; `ap` holds `kc × MR` and `bp` `kc × NR`
/// values; `c` points at an `MR × NR` tile of a matrix with `ldc` columns.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2(
    kc: usize,
    ap: &[f32],
    bp: &[f32],
    c: *mut f32,
    ldc: usize,
    bias: Option<&[f32]>,
    accumulate: bool,
) {
    use std::arch::x86_64::*;
    assert!(ap.len() >= kc * MR && bp.len() >= kc * NR);
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    let (mut a, mut b) = (ap.as_ptr(), bp.as_ptr());
    for _ in 0..kc {
        // SAFETY: within the panels (checked above).
        unsafe {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*a.add(r));
                row[0] = _mm256_fmadd_ps(av, b0, row[0]);
                row[1] = _mm256_fmadd_ps(av, b1, row[1]);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    let add = match bias {
        Some(bias) if !accumulate => {
            assert!(bias.len() >= NR);
            // SAFETY: 16 values.
            unsafe {
                Some([
                    _mm256_loadu_ps(bias.as_ptr()),
                    _mm256_loadu_ps(bias.as_ptr().add(8)),
                ])
            }
        }
        _ => None,
    };
    for (r, row) in acc.iter().enumerate() {
        // SAFETY: the caller's tile.
        unsafe {
            let p = c.add(r * ldc);
            let (mut v0, mut v1) = (row[0], row[1]);
            if accumulate {
                v0 = _mm256_add_ps(_mm256_loadu_ps(p), v0);
                v1 = _mm256_add_ps(_mm256_loadu_ps(p.add(8)), v1);
            } else if let Some([b0, b1]) = add {
                v0 = _mm256_add_ps(v0, b0);
                v1 = _mm256_add_ps(v1, b1);
            }
            _mm256_storeu_ps(p, v0);
            _mm256_storeu_ps(p.add(8), v1);
        }
    }
}

/// [`kernel_avx512`] for `rows` (1 to 2·MR) rows.
///
/// # Safety
/// As [`kernel_avx512`], with `ap` holding `rows.div_ceil(MR)` panels.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_avx512_rows(
    rows: usize,
    kc: usize,
    ap: &[f32],
    bp: &[f32],
    c: *mut f32,
    ldc: usize,
    bias: Option<&[f32]>,
    accumulate: bool,
    prefetch: bool,
) {
    macro_rules! go {
        ($($r:literal)*) => {
            match rows {
                $($r => unsafe { kernel_avx512::<$r>(kc, ap, bp, c, ldc, bias, accumulate, prefetch) },)*
                _ => unreachable!("a tile of 1 to 12 rows"),
            }
        };
    }
    go!(1 2 3 4 5 6 7 8 9 10 11 12)
}

/// [`kernel_avx2`]'s product for `R` rows (up to two A panels' worth) and
/// two B panels at once in AVX-512 (`ap` holds the A panels of `kc × MR`
/// one after another, row `r` in panel `r / MR`; `bp` the `kc × NR` panel
/// of columns 0..16, then that of columns 16..32): `R × 2` 16-lane
/// accumulators, an `R × 2·NR` tile stored into C.
///
/// # Safety
/// The CPU has AVX-512F; `ap` holds `R.div_ceil(MR) × kc × MR` and `bp`
/// `2 × kc × NR` values; `c` points at an `R × 2·NR` tile of a matrix
/// with `ldc` columns.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_avx512<const R: usize>(
    kc: usize,
    ap: &[f32],
    bp: &[f32],
    c: *mut f32,
    ldc: usize,
    bias: Option<&[f32]>,
    accumulate: bool,
    prefetch: bool,
) {
    use std::arch::x86_64::*;
    assert!(R <= 2 * MR && ap.len() >= R.div_ceil(MR) * kc * MR && bp.len() >= 2 * kc * NR);
    let mut acc = [[_mm512_setzero_ps(); 2]; R];
    let a0 = ap.as_ptr();
    // The second panel (only read when R > MR).
    let a1 = ap[(kc * MR).min(ap.len())..].as_ptr();
    let (mut b0, mut b1) = (bp.as_ptr(), bp[kc * NR..].as_ptr());
    for p in 0..kc {
        // SAFETY: within the panels (checked above).
        unsafe {
            let v0 = _mm512_loadu_ps(b0);
            let v1 = _mm512_loadu_ps(b1);
            if prefetch {
                // The next pair of panels (B streams from memory once when
                // X has few rows): a line of each a step, as this pair is
                // read. A prefetch never faults, past the end too.
                _mm_prefetch::<_MM_HINT_T0>(b0.wrapping_add(2 * kc * NR).cast());
                _mm_prefetch::<_MM_HINT_T0>(b1.wrapping_add(2 * kc * NR).cast());
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let a = if r < MR {
                    a0.add(p * MR + r)
                } else {
                    a1.add(p * MR + r - MR)
                };
                let av = _mm512_set1_ps(*a);
                row[0] = _mm512_fmadd_ps(av, v0, row[0]);
                row[1] = _mm512_fmadd_ps(av, v1, row[1]);
            }
            b0 = b0.add(NR);
            b1 = b1.add(NR);
        }
    }
    let add = match bias {
        Some(bias) if !accumulate => {
            assert!(bias.len() >= 2 * NR);
            // SAFETY: 32 values.
            unsafe {
                Some([
                    _mm512_loadu_ps(bias.as_ptr()),
                    _mm512_loadu_ps(bias.as_ptr().add(NR)),
                ])
            }
        }
        _ => None,
    };
    for (r, row) in acc.iter().enumerate() {
        // SAFETY: the caller's tile.
        unsafe {
            let p = c.add(r * ldc);
            let (mut v0, mut v1) = (row[0], row[1]);
            if accumulate {
                v0 = _mm512_add_ps(_mm512_loadu_ps(p), v0);
                v1 = _mm512_add_ps(_mm512_loadu_ps(p.add(NR)), v1);
            } else if let Some([b0, b1]) = add {
                v0 = _mm512_add_ps(v0, b0);
                v1 = _mm512_add_ps(v1, b1);
            }
            _mm512_storeu_ps(p, v0);
            _mm512_storeu_ps(p.add(NR), v1);
        }
    }
}

/// `C = X · Wᵀ (+ bias)` for a few rows of X (`r × k`, row-major) and a
/// row-major weight `W` (`n × k`), W read in place: the product of a
/// batch of decoding rows (a beam search over several sentences) with a
/// layer. Packing W as [`gemm`] does costs as much as the product here,
/// and candle's kernel does not use AVX-512; this one takes tiles of
/// four W rows × up to six X rows (AVX-512; three with AVX2), each
/// value a dot product along `k` in vector lanes summed at the end.
/// Threads take disjoint ranges of W's rows. C is `r × n`, overwritten.
pub fn dots(
    x: &[f32],
    r: usize,
    w: &[f32],
    n: usize,
    k: usize,
    bias: Option<&[f32]>,
    c: &mut [f32],
) {
    dots_on(Isa::detect(), x, r, w, n, k, bias, c)
}

/// X rows a tile of [`dots`] takes at most.
const DOT_X: usize = 8;
/// W rows a tile of [`dots`] takes.
const DOT_W: usize = 4;
/// W rows a thread's task in [`dots`].
const DOT_CHUNK: usize = 256;
/// The W rows [`dots`] runs each tile of X rows over at a time fill
/// about this much (in the L2 cache).
const DOT_GROUP_BYTES: usize = 128 << 10;

#[allow(clippy::too_many_arguments)]
fn dots_on(
    isa: Isa,
    x: &[f32],
    r: usize,
    w: &[f32],
    n: usize,
    k: usize,
    bias: Option<&[f32]>,
    c: &mut [f32],
) {
    assert_eq!(x.len(), r * k, "X size");
    assert_eq!(w.len(), n * k, "W size");
    assert_eq!(c.len(), r * n, "output size");
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "bias size");
    }
    if r == 0 || n == 0 {
        return;
    }
    let threads = rayon::current_num_threads().max(1);
    let chunk = DOT_CHUNK
        .min(n.div_ceil(2 * threads))
        .next_multiple_of(DOT_W)
        .max(DOT_W);
    let out = SharedOut(c.as_mut_ptr());
    (0..n.div_ceil(chunk)).into_par_iter().for_each(|t| {
        let out = &out;
        let (j0, j1) = (t * chunk, ((t + 1) * chunk).min(n));
        let mut tile = [[0f32; DOT_W]; DOT_X];
        // A group of W rows that stays in the L2 cache is run against
        // each tile of X rows in turn (which stay in L1).
        let group = (DOT_GROUP_BYTES / (4 * k).max(1)).max(DOT_W) / DOT_W * DOT_W;
        let mut g = j0;
        while g < j1 {
            let g1 = (g + group).min(j1);
            let mut i = 0;
            while i < r {
                let mut m = 0;
                let mut j = g;
                while j < g1 {
                    let nw = DOT_W.min(g1 - j);
                    // A short last block repeats its last row (computed,
                    // not stored).
                    let rows: [&[f32]; DOT_W] =
                        std::array::from_fn(|a| &w[(j + a.min(nw - 1)) * k..][..k]);
                    m = dot_tile(isa, &x[i * k..], r - i, k, &rows, &mut tile);
                    for (ii, t) in tile[..m].iter().enumerate() {
                        for (a, v) in t[..nw].iter().enumerate() {
                            let v = v + bias.map_or(0.0, |b| b[j + a]);
                            // SAFETY: row i + ii < r, column j + a < n;
                            // this task alone writes columns j0..j1.
                            unsafe { *out.0.add((i + ii) * n + j + a) = v };
                        }
                    }
                    j += nw;
                }
                i += m;
            }
            g = g1;
        }
    });
}

/// One tile of [`dots`]: the first rows (up to the kernel's 6 or 3, and
/// `left`) of `x` (`k` apart) against the four `rows`, into `tile`;
/// returns how many X rows it took.
fn dot_tile(
    isa: Isa,
    x: &[f32],
    left: usize,
    k: usize,
    rows: &[&[f32]; DOT_W],
    tile: &mut [[f32; DOT_W]; DOT_X],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! run {
            ($f:ident, $max:literal) => {{
                let m = left.min($max);
                assert!(x.len() >= (m - 1) * k + k);
                let (xp, w) = (x.as_ptr(), rows.map(<[f32]>::as_ptr));
                // SAFETY: the ISA was detected on this CPU; `x` holds `m`
                // rows of `k` and each of `rows` `k` values.
                unsafe {
                    match m {
                        1 => $f::<1>(xp, w, k, tile),
                        2 => $f::<2>(xp, w, k, tile),
                        3 => $f::<3>(xp, w, k, tile),
                        4 => $f::<4>(xp, w, k, tile),
                        5 => $f::<5>(xp, w, k, tile),
                        6 => $f::<6>(xp, w, k, tile),
                        7 => $f::<7>(xp, w, k, tile),
                        _ => $f::<8>(xp, w, k, tile),
                    }
                }
                return m;
            }};
        }
        match isa {
            Isa::Avx512 => run!(dot_tile_avx512, 4),
            Isa::Avx2 => run!(dot_tile_avx2, 3),
            Isa::Plain => {}
        }
    }
    let m = left.min(DOT_X);
    for (ii, t) in tile[..m].iter_mut().enumerate() {
        let xr = &x[ii * k..(ii + 1) * k];
        for (v, w) in t.iter_mut().zip(rows) {
            *v = dot(xr, w);
        }
    }
    m
}

/// A dot product in eight running sums (which the compiler turns into
/// SIMD); as long as the shorter slice.
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// [`dot_tile`] for `M` X rows in AVX-512: 4·M accumulators of 16 lanes,
/// the last `k mod 16` values through masked loads.
///
/// # Safety
/// The CPU has AVX-512F; `x` holds `M` rows of `k` values, each of `w` `k`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dot_tile_avx512<const M: usize>(
    x: *const f32,
    w: [*const f32; DOT_W],
    k: usize,
    tile: &mut [[f32; DOT_W]; DOT_X],
) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm512_setzero_ps(); DOT_W]; M];
    let mut p = 0;
    while p + 16 <= k {
        // SAFETY: p + 16 <= k: inside every row.
        unsafe {
            let mut wv = [_mm512_setzero_ps(); DOT_W];
            for a in 0..DOT_W {
                wv[a] = _mm512_loadu_ps(w[a].add(p));
            }
            let mut xp = x.add(p);
            for acc in acc.iter_mut() {
                let xv = _mm512_loadu_ps(xp);
                for a in 0..DOT_W {
                    acc[a] = _mm512_fmadd_ps(wv[a], xv, acc[a]);
                }
                xp = xp.add(k);
            }
        }
        p += 16;
    }
    if p < k {
        let mask: __mmask16 = ((1u32 << (k - p)) - 1) as u16;
        // SAFETY: the masked lanes are the k − p values left in each row.
        unsafe {
            let wv: [__m512; DOT_W] =
                std::array::from_fn(|a| _mm512_maskz_loadu_ps(mask, w[a].add(p)));
            for (i, acc) in acc.iter_mut().enumerate() {
                let xv = _mm512_maskz_loadu_ps(mask, x.add(i * k + p));
                for a in 0..DOT_W {
                    acc[a] = _mm512_fmadd_ps(wv[a], xv, acc[a]);
                }
            }
        }
    }
    // Each row's four sums at once: the 128-bit quarters folded two
    // accumulators at a time, then the four lanes within each quarter.
    let lanes_0_4_8_12 = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    for (t, [a, b, c, d]) in tile.iter_mut().zip(acc) {
        let fold = |x: __m512, y: __m512| {
            _mm512_add_ps(
                _mm512_shuffle_f32x4::<0b01_00_01_00>(x, y),
                _mm512_shuffle_f32x4::<0b11_10_11_10>(x, y),
            )
        };
        let (ab, cd) = (fold(a, b), fold(c, d));
        let v = _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b10_00_10_00>(ab, cd),
            _mm512_shuffle_f32x4::<0b11_01_11_01>(ab, cd),
        );
        let v = _mm512_add_ps(v, _mm512_permute_ps::<0b10_11_00_01>(v));
        let v = _mm512_add_ps(v, _mm512_permute_ps::<0b01_00_11_10>(v));
        let sums = _mm512_castps512_ps128(_mm512_permutexvar_ps(lanes_0_4_8_12, v));
        // SAFETY: four values.
        unsafe { _mm_storeu_ps(t.as_mut_ptr(), sums) };
    }
}

/// [`dot_tile`] for `M` (up to 3) X rows in AVX2 + FMA: 4·M accumulators
/// of 8 lanes, the last `k mod 8` values one at a time.
///
/// # Safety
/// The CPU has AVX2 and FMA; `x` holds `M` rows of `k` values, each of
/// `w` `k`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_tile_avx2<const M: usize>(
    x: *const f32,
    w: [*const f32; DOT_W],
    k: usize,
    tile: &mut [[f32; DOT_W]; DOT_X],
) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); DOT_W]; M];
    let mut p = 0;
    while p + 8 <= k {
        // SAFETY: p + 8 <= k: inside every row.
        unsafe {
            let wv: [__m256; DOT_W] = std::array::from_fn(|a| _mm256_loadu_ps(w[a].add(p)));
            for (i, acc) in acc.iter_mut().enumerate() {
                let xv = _mm256_loadu_ps(x.add(i * k + p));
                for a in 0..DOT_W {
                    acc[a] = _mm256_fmadd_ps(wv[a], xv, acc[a]);
                }
            }
        }
        p += 8;
    }
    for (i, (t, acc)) in tile.iter_mut().zip(&acc).enumerate() {
        for (a, (v, s)) in t.iter_mut().zip(acc).enumerate() {
            let mut lanes = [0f32; 8];
            // SAFETY: eight values.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), *s) };
            let mut sum = (lanes[0] + lanes[4]) + (lanes[1] + lanes[5]);
            sum += (lanes[2] + lanes[6]) + (lanes[3] + lanes[7]);
            for q in p..k {
                // SAFETY: q < k.
                sum += unsafe { *x.add(i * k + q) * *w[a].add(q) };
            }
            *v = sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: View, b: View, bias: Option<&[f32]>) -> Vec<f64> {
        let mut c = vec![0f64; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                let mut s = bias.map_or(0.0, |b| b[j] as f64);
                for p in 0..a.cols {
                    s += a.data[i * a.rs + p * a.cs] as f64 * b.data[p * b.rs + j * b.cs] as f64;
                }
                c[i * b.cols + j] = s;
            }
        }
        c
    }

    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Every kernel this CPU can run, the plain one first.
    fn runnable() -> Vec<Isa> {
        let mut isas = vec![Isa::Plain];
        match Isa::detect() {
            Isa::Plain => {}
            Isa::Avx2 => isas.push(Isa::Avx2),
            Isa::Avx512 => isas.extend([Isa::Avx2, Isa::Avx512]),
        }
        isas
    }

    #[test]
    fn matches_the_definition_on_awkward_shapes() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (7, 3, 17),
            (6, 256, 16),
            (13, 257, 33),
            (121, 300, 70),
            (12, 520, 96),
            (7, 33, 300),
            (577, 64, 577),
            (9, 513, 200),
            (3, 0, 5),
        ] {
            for (wide_a, wide_b) in [(true, true), (true, false), (false, true)] {
                let ad = values(m * k, 1);
                let bd = values(k * n, 2);
                let bias = values(n, 3);
                let a = if wide_a {
                    View::rows(&ad, m, k)
                } else {
                    View::transposed(&ad, k, m)
                };
                let b = if wide_b {
                    View::rows(&bd, k, n)
                } else {
                    View::transposed(&bd, n, k)
                };
                for bias in [None, Some(&bias[..])] {
                    let want = reference(a, b, bias);
                    for isa in runnable() {
                        let mut got = vec![f32::NAN; m * n];
                        gemm_on(isa, a, BSource::View(b), bias, &mut got);
                        for (g, w) in got.iter().zip(&want) {
                            assert!(
                                (*g as f64 - w).abs() <= 1e-5 * (k as f64).max(1.0),
                                "{isa:?} {m}×{k}×{n}: {g} against {w}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// A weight packed once: every row count from one decoding step to
    /// several panels, widths with partial panels and several KC blocks,
    /// every kernel here; and its rows read back as they were.
    #[test]
    fn packed_weights_give_the_definition() {
        for &(r, k, n) in &[
            (1, 1, 1),
            (1, 384, 100),
            (4, 300, 33),
            (7, 257, 64),
            (8, 520, 96),
            (12, 64, 48),
            (13, 33, 1030),
            (20, 513, 67),
            (39, 17, 4),
            (64, 600, 130),
            (0, 4, 3),
        ] {
            let (x, w, bias) = (values(r * k, 7), values(n * k, 8), values(n, 9));
            let packed = PackedB::new(&w, n, k).unwrap();
            assert_eq!((packed.rows(), packed.cols()), (n, k));
            for j in [0, n / 2, n - 1] {
                assert_eq!(packed.row(j).unwrap(), w[j * k..(j + 1) * k]);
            }
            assert!(packed.row(n).is_none());
            for bias in [None, Some(&bias[..])] {
                let want = reference(View::rows(&x, r, k), View::transposed(&w, n, k), bias);
                for isa in runnable() {
                    let mut got = vec![f32::NAN; r * n];
                    gemm_on(
                        isa,
                        View::rows(&x, r, k),
                        BSource::Packed(&packed),
                        bias,
                        &mut got,
                    );
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            (*g as f64 - w).abs() <= 1e-5 * (k as f64).max(1.0),
                            "{isa:?} {r}×{k}×{n}: {g} against {w}"
                        );
                    }
                }
            }
        }
        assert!(
            PackedB::new(&[1.0; 6], 4, 2).is_none(),
            "sizes that do not match"
        );
        assert!(PackedB::new(&[], 0, 3).is_none());
    }

    /// The few-rows product against the definition: every tile height
    /// and X-row remainder, W-row counts that leave a short last block
    /// and several tasks, lengths with and without a vector tail.
    #[test]
    fn dots_match_the_definition() {
        for &(r, k, n) in &[
            (1, 1, 1),
            (9, 16, 5),
            (20, 512, 67),
            (13, 33, 1030),
            (7, 100, 9),
            (39, 17, 4),
            (6, 8, 13),
            (0, 4, 3),
            (3, 0, 2),
        ] {
            let (x, w, bias) = (values(r * k, 4), values(n * k, 5), values(n, 6));
            let want = reference(
                View::rows(&x, r, k),
                View::transposed(&w, n, k),
                Some(&bias),
            );
            for isa in runnable() {
                let mut got = vec![f32::NAN; r * n];
                dots_on(isa, &x, r, &w, n, k, Some(&bias), &mut got);
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (*g as f64 - w).abs() <= 1e-5 * (k as f64).max(1.0),
                        "{isa:?} {r}×{k}×{n}: {g} against {w}"
                    );
                }
            }
        }
    }
}
