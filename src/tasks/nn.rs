//! Building blocks shared by the encoder-decoder models (Marian, Whisper,
//! BLIP): linear layers computed as `W·xᵀ` (our matrix-vector product for
//! a decoding step's few rows, [`gemm`](super::gemm) for many),
//! multi-head attention over keys and values kept by the caller (so
//! decoders can cache and reorder them) or, for an encoder, read in place
//! from its projections, feed-forward blocks and activations.

use std::cell::Cell;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::device::ComputeType;
use super::f16::HalfMatrix;
use super::gemm::PackedB;
use super::int8::{Kernel, QuantizedMatrix};

type Result<T> = std::result::Result<T, candle_core::Error>;

/// Where a model runs and in what precision, chosen once when it loads.
#[derive(Clone, Debug)]
pub struct Placement {
    pub device: Device,
    /// The weights' and activations' type. `None`: f32 on the CPU; on a GPU
    /// the checkpoint's own f16 or bf16 (f32 for an f32 checkpoint), or
    /// what `compute` asks for.
    pub dtype: Option<DType>,
    /// Candle's device-generic operations even where our CPU kernels
    /// apply: they are what runs on CUDA and Metal, so the tests run them
    /// on the CPU too and compare.
    pub generic: bool,
    /// The number format asked for.
    pub compute: ComputeType,
}

/// The format a CPU model keeps its linear layers' weights in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightFormat {
    F32,
    F16,
    Int8,
}

impl WeightFormat {
    /// `device` ("CPU") with the format when it is not plain f32: "CPU in
    /// int8".
    pub fn on(self, device: &str) -> String {
        match self {
            Self::F32 => device.to_string(),
            Self::F16 => format!("{device} in float16"),
            Self::Int8 => format!("{device} in int8"),
        }
    }
}

impl Placement {
    /// The usual placement on `device`.
    pub fn new(device: &Device) -> Self {
        Self {
            device: device.clone(),
            dtype: None,
            generic: false,
            compute: ComputeType::Default,
        }
    }

    /// The type to run in for weights stored as `stored` (the checkpoint's
    /// floating-point type, if known).
    pub fn dtype_for(&self, stored: Option<DType>) -> DType {
        match (self.dtype, stored) {
            (Some(d), _) => d,
            (None, _) if self.device.is_cpu() => DType::F32,
            (None, _) if self.compute == ComputeType::Float32 => DType::F32,
            (None, _) if matches!(self.compute, ComputeType::Float16 | ComputeType::Int8) => {
                DType::F16
            }
            (None, Some(d @ (DType::F16 | DType::BF16))) => d,
            (None, _) if self.compute == ComputeType::Auto => DType::F16,
            (None, _) => DType::F32,
        }
    }

    /// The format our CPU kernels keep linear weights in, for weights
    /// stored as `stored` (`int8`: a CTranslate2 int8 checkpoint). f32
    /// wherever candle's generic operations run.
    pub fn format_for(&self, stored: Option<DType>, int8: bool) -> WeightFormat {
        if !self.device.is_cpu() || self.generic || self.dtype.is_some_and(|d| d != DType::F32) {
            return WeightFormat::F32;
        }
        match self.compute {
            ComputeType::Float32 => WeightFormat::F32,
            ComputeType::Float16 => WeightFormat::F16,
            ComputeType::Int8 => WeightFormat::Int8,
            ComputeType::Auto if int8_fast() => WeightFormat::Int8,
            ComputeType::Default | ComputeType::Auto if int8 => WeightFormat::Int8,
            ComputeType::Default | ComputeType::Auto
                if stored == Some(DType::F16) && f16_fast() =>
            {
                WeightFormat::F16
            }
            ComputeType::Default | ComputeType::Auto => WeightFormat::F32,
        }
    }

    /// Runs `build` (a model's constructor) with every layer it makes
    /// using the kernels this placement asks for and keeping its weights
    /// in `format` (see [`Self::format_for`]).
    pub(crate) fn build<T>(&self, format: WeightFormat, build: impl FnOnce() -> T) -> T {
        /// Puts the flags back even if `build` panics (a worker catches
        /// panics and goes on loading other models on the same thread).
        struct Restore(bool, WeightFormat);
        impl Drop for Restore {
            fn drop(&mut self) {
                GENERIC_BUILD.with(|g| g.set(self.0));
                BUILD_FORMAT.with(|g| g.set(self.1));
            }
        }
        let _restore = Restore(
            GENERIC_BUILD.with(|g| g.replace(self.generic)),
            BUILD_FORMAT.with(|g| g.replace(format)),
        );
        build()
    }
}

/// Tensors by name that a model takes each of once while it is built:
/// handed over, not cloned, so a layer that packs its weight frees the
/// loaded copy at once (a CTranslate2 Whisper's load never holds its
/// weights twice). A second request for a name finds nothing.
pub(crate) struct TakeOnce(std::sync::Mutex<std::collections::HashMap<String, Tensor>>);

impl TakeOnce {
    pub(crate) fn var_builder(
        tensors: std::collections::HashMap<String, Tensor>,
        dtype: DType,
        device: &Device,
    ) -> VarBuilder<'static> {
        VarBuilder::from_backend(
            Box::new(Self(std::sync::Mutex::new(tensors))),
            dtype,
            device.clone(),
        )
    }

    fn take(&self, name: &str) -> Result<Tensor> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
            .ok_or_else(|| {
                candle_core::Error::CannotFindTensor {
                    path: name.to_string(),
                }
                .bt()
            })
    }
}

impl candle_nn::var_builder::SimpleBackend for TakeOnce {
    fn get(
        &self,
        s: candle_core::Shape,
        name: &str,
        _: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> Result<Tensor> {
        let t = self.take(name)?;
        if t.shape() != &s {
            return Err(candle_core::Error::UnexpectedShape {
                msg: format!("shape mismatch for {name}"),
                expected: s,
                got: t.shape().clone(),
            }
            .bt());
        }
        t.to_device(dev)?.to_dtype(dtype)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> Result<Tensor> {
        self.take(name)?.to_device(dev)?.to_dtype(dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(name)
    }
}

/// Whether this processor has int8 dot-product instructions our kernels
/// use (AVX2 or later): there int8 is the fastest format.
pub fn int8_fast() -> bool {
    super::int8::Kernel::best() != super::int8::Kernel::Plain
}

/// Whether this processor widens f16 in registers (F16C with FMA).
fn f16_fast() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("f16c") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

thread_local! {
    /// Set while [`Placement::build`] builds a model with the generic
    /// kernels.
    static GENERIC_BUILD: Cell<bool> = const { Cell::new(false) };
    /// The weight format of the model [`Placement::build`] builds.
    static BUILD_FORMAT: Cell<WeightFormat> = const { Cell::new(WeightFormat::F32) };
    /// How many times our CPU kernels ran on this thread (the tests check
    /// that a generic model never enters them: on a GPU each would be a
    /// copy to the CPU and back).
    static CPU_KERNEL_RUNS: Cell<usize> = const { Cell::new(0) };
}

/// How many times our CPU kernels have run on this thread.
pub fn cpu_kernel_runs() -> usize {
    CPU_KERNEL_RUNS.with(Cell::get)
}

fn count_cpu_kernel() {
    CPU_KERNEL_RUNS.with(|c| c.set(c.get() + 1));
}

/// Which operations a layer runs, decided once when it is built: our CPU
/// kernels (f32 weights in CPU memory, read in place) or candle's
/// device-generic operations (CUDA, Metal, f16/bf16, or asked for).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    Cpu,
    Generic,
}

impl Kernels {
    /// The kernels for a layer whose weight is `w`.
    pub(crate) fn for_weight(w: &Tensor) -> Self {
        if w.device().is_cpu() && w.dtype() == DType::F32 && !GENERIC_BUILD.with(Cell::get) {
            Self::Cpu
        } else {
            Self::Generic
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Act {
    Silu,
    Gelu,
    GeluTanh,
    Relu,
}

impl Act {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "swish" | "silu" => Some(Self::Silu),
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_fast" | "gelu_pytorch_tanh" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }

    pub(crate) fn apply(self, xs: &Tensor, kernels: Kernels) -> Result<Tensor> {
        match self {
            Self::Silu => xs.silu(),
            Self::Gelu if kernels == Kernels::Cpu && xs.dtype() == DType::F32 => {
                count_cpu_kernel();
                gelu_erf_cpu(xs)
            }
            Self::Gelu => xs.gelu_erf(),
            Self::GeluTanh => xs.gelu(),
            Self::Relu => xs.relu(),
        }
    }
}

/// GELU with the exact (erf) form, as PyTorch's default, on the CPU: erf
/// by Abramowitz & Stegun 7.1.26 (absolute error under 1.5e-7, one `exp`)
/// instead of libm's `erff`, which was a tenth of Whisper's encoder time.
fn gelu_erf_cpu(xs: &Tensor) -> Result<Tensor> {
    use rayon::prelude::*;
    let shape = xs.shape().clone();
    let mut v: Vec<f32> = xs.flatten_all()?.to_vec1()?;
    #[inline(always)]
    fn body(c: &mut [f32]) {
        for x in c {
            *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn avx2(c: &mut [f32]) {
        body(c)
    }
    let fast = super::gemm::fast();
    v.par_chunks_mut(16384).for_each(|c| {
        #[cfg(target_arch = "x86_64")]
        if fast {
            // SAFETY: fast() saw AVX2 and FMA on this processor.
            return unsafe { avx2(c) };
        }
        body(c)
    });
    Tensor::from_vec(v, shape, xs.device())
}

/// erf(x), |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_72) * t
        + 0.254_829_6)
        * t;
    (1.0 - poly * exp(-a * a)).copysign(x)
}

/// A linear layer applied as one matrix product over all rows, computed
/// as `W · xᵀ`: decoding has few rows (one per beam) and many output
/// features, and gemm's kernels are efficient when the long side is the
/// row side. (candle's `Linear` on a (b, t, d) input also runs one product
/// per batch row.)
pub(crate) struct Linear {
    w: Weight,
    b: Option<Tensor>,
    kernels: Kernels,
}

/// A linear layer's weight: a tensor, or packed for our CPU kernels.
enum Weight {
    Tensor(Tensor),
    /// f32, packed once as the product's B operand (the same values).
    F32 {
        p: PackedB,
        bias: Option<Vec<f32>>,
    },
    Int8 {
        q: QuantizedMatrix,
        bias: Option<Vec<f32>>,
        kernel: Kernel,
    },
    F16 {
        h: HalfMatrix,
        bias: Option<Vec<f32>>,
    },
}

impl Linear {
    /// A layer of weight `w` (out, in) and bias `b`, its weight kept in
    /// the format of the model being built (see [`Placement::build`]).
    pub(crate) fn new(w: Tensor, b: Option<Tensor>) -> Self {
        let kernels = Kernels::for_weight(&w);
        let format = BUILD_FORMAT.with(Cell::get);
        let w = match (kernels, format) {
            (Kernels::Cpu, WeightFormat::Int8 | WeightFormat::F16) => {
                Self::pack(&w, b.as_ref(), format).unwrap_or(Weight::Tensor(w))
            }
            (Kernels::Cpu, WeightFormat::F32) if super::gemm::fast() => {
                Self::pack(&w, b.as_ref(), format).unwrap_or(Weight::Tensor(w))
            }
            _ => Weight::Tensor(w),
        };
        Self { w, b, kernels }
    }

    /// A layer whose weight stays f32 whatever format the model is built
    /// in (a convolution over the input features, which int8 would blur).
    pub(crate) fn new_f32(w: Tensor, b: Option<Tensor>) -> Self {
        let before = BUILD_FORMAT.with(|f| f.replace(WeightFormat::F32));
        let layer = Self::new(w, b);
        BUILD_FORMAT.with(|f| f.set(before));
        layer
    }

    fn pack(w: &Tensor, b: Option<&Tensor>, format: WeightFormat) -> Option<Weight> {
        let (n, k) = w.dims2().ok()?;
        let bias = match b {
            Some(b) => Some(
                b.to_dtype(DType::F32)
                    .ok()?
                    .flatten_all()
                    .ok()?
                    .to_vec1()
                    .ok()?,
            ),
            None => None,
        };
        if bias.as_ref().is_some_and(|b: &Vec<f32>| b.len() != n) {
            return None;
        }
        let packed = cpu_f32(w, |ws| match format {
            WeightFormat::Int8 => QuantizedMatrix::quantize(ws, n, k).map(|q| Weight::Int8 {
                q,
                bias: bias.clone(),
                kernel: Kernel::best(),
            }),
            WeightFormat::F16 => HalfMatrix::from_f32(ws, n, k).map(|h| Weight::F16 {
                h,
                bias: bias.clone(),
            }),
            WeightFormat::F32 => PackedB::new(ws, n, k).map(|p| Weight::F32 {
                p,
                bias: bias.clone(),
            }),
        })
        .ok()???;
        Some(packed)
    }

    pub(crate) fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The number of output features.
    pub(crate) fn out_dim(&self) -> usize {
        match &self.w {
            Weight::Tensor(w) => w.dim(0).unwrap_or(0),
            Weight::F32 { p, .. } => p.rows(),
            Weight::Int8 { q, .. } => q.rows,
            Weight::F16 { h, .. } => h.rows,
        }
    }

    /// The weight format the layer keeps.
    pub(crate) fn format(&self) -> WeightFormat {
        match &self.w {
            Weight::Tensor(_) | Weight::F32 { .. } => WeightFormat::F32,
            Weight::Int8 { .. } => WeightFormat::Int8,
            Weight::F16 { .. } => WeightFormat::F16,
        }
    }

    /// Whether the weight is packed for our CPU kernels (rather than a
    /// tensor a tied embedding could share).
    pub(crate) fn is_packed(&self) -> bool {
        !matches!(self.w, Weight::Tensor(_))
    }

    /// Rows `ids` of the weight as f32 (a tied embedding looked up in
    /// the packed output projection); `None` for a tensor weight or an
    /// id out of range.
    pub(crate) fn packed_rows(&self, ids: &[u32], device: &Device) -> Option<Tensor> {
        let (rows, cols) = match &self.w {
            Weight::Tensor(_) => return None,
            Weight::F32 { p, .. } => (p.rows(), p.cols()),
            Weight::Int8 { q, .. } => (q.rows, q.cols),
            Weight::F16 { h, .. } => (h.rows, h.cols),
        };
        let mut v = Vec::with_capacity(ids.len() * cols);
        for &id in ids {
            let id = id as usize;
            if id >= rows {
                return None;
            }
            v.extend(match &self.w {
                Weight::F32 { p, .. } => p.row(id)?,
                Weight::Int8 { q, .. } => q.row_f32(id),
                Weight::F16 { h, .. } => h.row_f32(id),
                Weight::Tensor(_) => return None,
            });
        }
        Tensor::from_vec(v, (ids.len(), cols), device).ok()
    }

    pub(crate) fn load(d_in: usize, d_out: usize, vb: VarBuilder) -> Result<Self> {
        let b = if vb.contains_tensor("bias") {
            Some(vb.get(d_out, "bias")?)
        } else {
            None
        };
        if vb.contains_tensor("weight_scale") {
            // int8 values as they were stored (a CTranslate2 int8 model:
            // the bytes in a u8 tensor, `value = q / weight_scale`).
            let q =
                vb.get_with_hints_dtype((d_out, d_in), "weight", Default::default(), DType::U8)?;
            let div =
                vb.get_with_hints_dtype(d_out, "weight_scale", Default::default(), DType::F32)?;
            return Self::from_int8(&q, &div, b, vb.dtype());
        }
        let w = vb.get((d_out, d_in), "weight")?;
        Ok(Self::new(w, b))
    }

    /// A layer from int8 weights `q` (bytes of a u8 tensor, `n × k`) and
    /// per-row divisors: kept as they are where this layer is built for
    /// our int8 kernels, else widened to `dtype` (`q / div`).
    fn from_int8(q: &Tensor, div: &Tensor, b: Option<Tensor>, dtype: DType) -> Result<Self> {
        let (n, k) = q.dims2()?;
        let div_rows: Vec<f32> = div.flatten_all()?.to_vec1()?;
        let on_cpu = q.device().is_cpu() && !GENERIC_BUILD.with(Cell::get);
        if on_cpu && BUILD_FORMAT.with(Cell::get) == WeightFormat::Int8 {
            let bytes: Vec<u8> = q.flatten_all()?.to_vec1()?;
            let values: Vec<i8> = bytes.into_iter().map(|v| v as i8).collect();
            let bias = match &b {
                Some(b) => Some(b.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?),
                None => None,
            };
            if let Some(m) = QuantizedMatrix::from_int8(&values, n, k, &div_rows)
                && bias.as_ref().is_none_or(|b| b.len() == n)
            {
                return Ok(Self {
                    w: Weight::Int8 {
                        q: m,
                        bias,
                        kernel: Kernel::best(),
                    },
                    b,
                    kernels: Kernels::Cpu,
                });
            }
        }
        let bytes: Vec<u8> = q.flatten_all()?.to_vec1()?;
        let widened: Vec<f32> = bytes
            .chunks_exact(k.max(1))
            .zip(&div_rows)
            .flat_map(|(row, &d)| {
                row.iter()
                    .map(move |&v| if d != 0.0 { v as i8 as f32 / d } else { 0.0 })
            })
            .collect();
        let w = Tensor::from_vec(widened, (n, k), q.device())?.to_dtype(dtype)?;
        Ok(Self::new(w, b))
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dims = xs.dims().to_vec();
        let d = dims[dims.len() - 1];
        let rows = xs.elem_count() / d.max(1);
        let x = xs.contiguous()?.reshape((rows, d))?;
        let packed = match &self.w {
            Weight::Tensor(w) => {
                let wide = match self.kernels {
                    Kernels::Cpu => wide_product(w, self.b.as_ref(), &x)?,
                    Kernels::Generic => None,
                };
                match wide {
                    Some(y) => y,
                    None => {
                        let y = project(w, &x, self.kernels)?;
                        match &self.b {
                            Some(b) => y.broadcast_add(b)?,
                            None => y,
                        }
                    }
                }
            }
            Weight::F32 { p, bias } => {
                count_cpu_kernel();
                let mut y = vec![0f32; rows * p.rows()];
                cpu_f32(&x, |xs| {
                    super::gemm::gemm_packed(xs, rows, p, bias.as_deref(), &mut y)
                })?
                .ok_or_else(|| candle_core::Error::Msg("f32 product: not on the CPU".into()))?;
                Tensor::from_vec(y, (rows, p.rows()), xs.device())?
            }
            Weight::Int8 { q, bias, kernel } => {
                count_cpu_kernel();
                let y = cpu_f32(&x, |xs| q.matmul(xs, rows, bias.as_deref(), *kernel))?
                    .flatten()
                    .ok_or_else(|| candle_core::Error::Msg("int8 product: shapes".into()))?;
                Tensor::from_vec(y, (rows, q.rows), xs.device())?
            }
            Weight::F16 { h, bias } => {
                count_cpu_kernel();
                let y = cpu_f32(&x, |xs| h.matmul(xs, rows, bias.as_deref()))?
                    .flatten()
                    .ok_or_else(|| candle_core::Error::Msg("f16 product: shapes".into()))?;
                Tensor::from_vec(y, (rows, h.rows), xs.device())?
            }
        };
        let mut out = dims;
        let last = out.len() - 1;
        out[last] = packed.dim(1)?;
        packed.reshape(out)
    }
}

/// `x · Wᵀ` for x (rows, in) and W (out, in), as `(W · xᵀ)ᵀ`; with the
/// generic kernels, candle's product in the weights' type (f32
/// accumulation on a GPU) and no copy to the CPU.
pub(crate) fn project(w: &Tensor, x: &Tensor, kernels: Kernels) -> Result<Tensor> {
    if kernels == Kernels::Cpu {
        if let Some(y) = thin_product(w, x)? {
            return Ok(y);
        }
        if let Some(y) = wide_product(w, None, x)? {
            return Ok(y);
        }
    }
    w.matmul(&x.t()?)?.t()?.contiguous()
}

/// A contiguous f32 CPU tensor's values, borrowed.
fn cpu_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<Option<R>> {
    cpu_slice(t, f)
}

/// [`cpu_f32`] for any element type (`None` where `t` holds another).
fn cpu_slice<T: candle_core::WithDType, R>(
    t: &Tensor,
    f: impl FnOnce(&[T]) -> R,
) -> Result<Option<R>> {
    if !t.device().is_cpu() || t.dtype() != T::DTYPE {
        return Ok(None);
    }
    let (storage, layout) = t.storage_and_layout();
    let (Some((start, end)), candle_core::Storage::Cpu(cpu)) =
        (layout.contiguous_offsets(), &*storage)
    else {
        return Ok(None);
    };
    Ok(Some(f(&cpu.as_slice::<T>()?[start..end])))
}

/// From this many rows [`wide_product`] packs W for [`gemm`](super::gemm);
/// below, it takes dot products of W's rows in place
/// ([`dots`](super::gemm::dots)): packing costs about as much as a few
/// rows' products save (BLIP's 30524×768 with 32 rows: 35 ms against
/// candle's 25; with 48 rows of Marian's 58101×512, 45 against 58).
const WIDE_ROWS: usize = 40;

/// `x · Wᵀ (+ b)` for more than [`THIN_ROWS`] rows on a CPU with our fast
/// kernels ([`gemm`](super::gemm), or [`dots`](super::gemm::dots) below
/// [`WIDE_ROWS`]), W read in place and the bias added as each tile is
/// stored; `None` where it does not apply.
fn wide_product(w: &Tensor, b: Option<&Tensor>, x: &Tensor) -> Result<Option<Tensor>> {
    use super::gemm::{View, dots, fast, gemm};
    if !fast() || !w.device().is_cpu() {
        return Ok(None);
    }
    let ((n, k), (r, k2)) = (w.dims2()?, x.dims2()?);
    if r <= THIN_ROWS || k != k2 {
        return Ok(None);
    }
    let bias = match b {
        Some(b) => match cpu_f32(b, <[f32]>::to_vec)? {
            Some(v) if v.len() == n => Some(v),
            _ => return Ok(None),
        },
        None => None,
    };
    count_cpu_kernel();
    let mut out = vec![0f32; r * n];
    let done = cpu_f32(w, |ws| {
        cpu_f32(x, |xs| {
            if r < WIDE_ROWS {
                dots(xs, r, ws, n, k, bias.as_deref(), &mut out);
                return;
            }
            gemm(
                View::rows(xs, r, k),
                View::transposed(ws, n, k),
                bias.as_deref(),
                &mut out,
            )
        })
    })?;
    match done {
        Some(Ok(Some(()))) => Ok(Some(Tensor::from_vec(out, (r, n), w.device())?)),
        Some(Err(e)) => Err(e),
        _ => Ok(None),
    }
}

/// Up to this many rows of x, [`project`] uses [`thin_product`].
const THIN_ROWS: usize = 8;

/// `x · Wᵀ` for a few rows of x (a decoding step: one token, or a beam's
/// worth) on the CPU in f32: dot products of W's rows with x's read in
/// place ([`dots`](super::gemm::dots)), W split across threads by rows,
/// so W streams through memory once. gemm's path for these takes about
/// twice as long (the 51864×384 Whisper output projection on 2 cores:
/// 8.2 ms against 3.5).
fn thin_product(w: &Tensor, x: &Tensor) -> Result<Option<Tensor>> {
    if !w.device().is_cpu() || w.dtype() != DType::F32 || x.dtype() != DType::F32 {
        return Ok(None);
    }
    let ((n, k), (r, k2)) = (w.dims2()?, x.dims2()?);
    if r > THIN_ROWS || r == 0 || k != k2 || k == 0 {
        return Ok(None);
    }
    count_cpu_kernel();
    let xs: Vec<f32> = x.flatten_all()?.to_vec1()?;
    let mut out = vec![0f32; r * n];
    let done = cpu_f32(w, |ws| super::gemm::dots(&xs, r, ws, n, k, None, &mut out))?;
    if done.is_none() {
        return Ok(None);
    }
    Ok(Some(Tensor::from_vec(out, (r, n), w.device())?))
}

/// From this many keys, cross-attention keeps its keys transposed (see
/// [`Attention::keys_t_values`]).
const TRANSPOSED_KEYS_FROM: usize = 64;

/// Attention scores above this many are computed a head at a time.
const BIG_SCORES: usize = 4 << 20;

/// Query rows per task in the encoder's attention: 64 rows of scores
/// over Whisper's 1500 frames are 384 KB, which stay in the L2 cache.
const QUERY_BLOCK: usize = 64;

pub(crate) struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    pub(crate) fn load(d: usize, heads: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            q: Linear::load(d, d, vb.pp("q_proj"))?,
            k: Linear::load(d, d, vb.pp("k_proj"))?,
            v: Linear::load(d, d, vb.pp("v_proj"))?,
            out: Linear::load(d, d, vb.pp("out_proj"))?,
            heads,
            head_dim: d / heads,
        })
    }

    /// From its four projections (queries, keys, values, output), for
    /// models whose weights are named or fused differently.
    pub(crate) fn from_parts(q: Linear, k: Linear, v: Linear, out: Linear, heads: usize) -> Self {
        let d = q.out_dim();
        Self {
            q,
            k,
            v,
            out,
            heads,
            head_dim: d / heads.max(1),
        }
    }

    /// (b, t, d) → (b, heads, t, head_dim)
    fn split(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, t, _) = xs.dims3()?;
        xs.reshape((b, t, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    pub(crate) fn keys_values(&self, xs: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((
            self.split(&self.k.forward(xs)?)?,
            self.split(&self.v.forward(xs)?)?,
        ))
    }

    /// Keys already transposed to (b, heads, head_dim, len), with the
    /// values: for cross-attention, whose keys are fixed for a whole
    /// decode, so each step multiplies by them without a copy. Long
    /// memories (Whisper's 1500 frames) are laid out transposed, so a
    /// step's scores run along contiguous rows of keys; short ones (a
    /// sentence to translate) stay by rows under the transposed view, so
    /// each score is one dot product over a head's width.
    pub(crate) fn keys_t_values(&self, xs: &Tensor) -> Result<(Tensor, Tensor)> {
        let (k, v) = self.keys_values(xs)?;
        let kt = if k.dim(2)? < TRANSPOSED_KEYS_FROM {
            k.contiguous()?.t()?
        } else {
            k.t()?.contiguous()?
        };
        Ok((kt, v.contiguous()?))
    }

    /// Self-attention over `xs` without a mask (the encoders). On a CPU
    /// with our fast kernel each head is read in place from the (b, t, d)
    /// projections and its scores stay in a per-head buffer; otherwise
    /// [`Self::keys_values`] and [`Self::attend`].
    pub(crate) fn self_attend(&self, xs: &Tensor) -> Result<Tensor> {
        if let Some(o) = self.attend_in_place(xs)? {
            return self.out.forward(&o);
        }
        let (k, v) = self.keys_values(xs)?;
        self.attend(xs, &k, &v, None)
    }

    /// The heads' outputs (b, t, d) before the output projection, or
    /// `None` where the fast path does not apply.
    fn attend_in_place(&self, xs: &Tensor) -> Result<Option<Tensor>> {
        use super::gemm::{View, fast, gemm};
        use rayon::prelude::*;
        if self.q.kernels != Kernels::Cpu || !fast() || xs.dtype() != DType::F32 {
            return Ok(None);
        }
        let (b, t, d) = xs.dims3()?;
        let hd = self.head_dim;
        if t <= THIN_ROWS || hd * self.heads != d {
            return Ok(None);
        }
        count_cpu_kernel();
        let values = |l: &Linear| -> Result<Vec<f32>> { l.forward(xs)?.flatten_all()?.to_vec1() };
        let (q, k, v) = (values(&self.q)?, values(&self.k)?, values(&self.v)?);
        // As `(q · kᵀ) * scaling` in f32.
        let scaling = (hd as f64).powf(-0.5) as f32;
        // A task per head and block of query rows: the block's scores
        // (QUERY_BLOCK × t) stay in the cache between the two products and
        // the softmax, where a head's whole t × t scores (9 MB for
        // Whisper's 1500 frames) went out to memory and back twice.
        let blocks = t.div_ceil(QUERY_BLOCK);
        let tiles: Vec<Vec<f32>> = (0..b * self.heads * blocks)
            .into_par_iter()
            .map(|task| {
                let (bh, blk) = (task / blocks, task % blocks);
                let base = (bh / self.heads) * t * d + (bh % self.heads) * hd;
                let r0 = blk * QUERY_BLOCK;
                let rows = QUERY_BLOCK.min(t - r0);
                // A head's (rows, head_dim) columns of a (b, t, d) matrix.
                fn cols(m: &[f32], from: usize, rows: usize, hd: usize, d: usize) -> View<'_> {
                    View {
                        data: &m[from..],
                        rows,
                        cols: hd,
                        rs: d,
                        cs: 1,
                    }
                }
                let kt = View {
                    data: &k[base..],
                    rows: hd,
                    cols: t,
                    rs: 1,
                    cs: d,
                };
                let mut scores = vec![0f32; rows * t];
                gemm(cols(&q, base + r0 * d, rows, hd, d), kt, None, &mut scores);
                for row in scores.chunks_exact_mut(t) {
                    softmax_scaled(row, scaling);
                }
                let mut o = vec![0f32; rows * hd];
                gemm(
                    View::rows(&scores, rows, t),
                    cols(&v, base, t, hd, d),
                    None,
                    &mut o,
                );
                o
            })
            .collect();
        let mut out = vec![0f32; b * t * d];
        for (task, o) in tiles.iter().enumerate() {
            let (bh, blk) = (task / blocks, task % blocks);
            let base = (bh / self.heads) * t * d + (bh % self.heads) * hd + blk * QUERY_BLOCK * d;
            for (r, row) in o.chunks_exact(hd).enumerate() {
                out[base + r * d..base + r * d + hd].copy_from_slice(row);
            }
        }
        Ok(Some(Tensor::from_vec(out, (b, t, d), xs.device())?))
    }

    /// The scaled scores (queries · keys / √head_dim, before the softmax)
    /// of each head in `heads`, one (b, t, len) f32 tensor a head, for
    /// queries `xs` (b, t, d) over transposed keys `kt` (see
    /// [`Self::keys_t_values`]): what Whisper's word timings align with.
    pub(crate) fn head_scores(
        &self,
        xs: &Tensor,
        kt: &Tensor,
        heads: &[usize],
    ) -> Result<Vec<Tensor>> {
        let q = self.split(&self.q.forward(xs)?)?.to_dtype(DType::F32)?;
        let kt = kt.to_dtype(DType::F32)?;
        let scaling = (self.head_dim as f64).powf(-0.5);
        heads
            .iter()
            .map(|&h| {
                let qh = q.narrow(1, h, 1)?.squeeze(1)?.contiguous()?;
                let kh = kt.narrow(1, h, 1)?.squeeze(1)?.contiguous()?;
                qh.matmul(&kh)? * scaling
            })
            .collect()
    }

    pub(crate) fn attend(
        &self,
        xs: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.attend_kt(xs, &k.t()?, v, mask)
    }

    /// [`Self::attend`] with transposed keys (see [`Self::keys_t_values`]).
    pub(crate) fn attend_kt(
        &self,
        xs: &Tensor,
        kt: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (b, t, d) = xs.dims3()?;
        let q = self.split(&self.q.forward(xs)?)?;
        let scaling = (self.head_dim as f64).powf(-0.5);
        if t <= THIN_ROWS
            && self.q.kernels == Kernels::Cpu
            && let Some(rows) = key_mask_rows(mask, b, kt)?
            && let Some(o) = self.attend_thin(&q, kt, v, scaling as f32, rows.as_deref())?
        {
            return self.out.forward(&o);
        }
        // A cache kept narrower than the queries (see
        // DecoderState::narrow_cross) is widened for candle's products.
        let (kt, v) = if kt.dtype() != q.dtype() {
            (&kt.to_dtype(q.dtype())?, &v.to_dtype(q.dtype())?)
        } else {
            (kt, v)
        };
        let scores = |q: &Tensor, kt: &Tensor, v: &Tensor| -> Result<Tensor> {
            // Scores in f16/bf16 are widened for the mask and softmax,
            // whose sums then run in f32 on every back end (candle's CPU
            // softmax would sum in the narrow type).
            let dtype = q.dtype();
            let mut w = (q.matmul(kt)?.to_dtype(DType::F32)? * scaling)?;
            if let Some(m) = mask {
                w = w.broadcast_add(m)?;
            }
            candle_nn::ops::softmax_last_dim(&w)?
                .to_dtype(dtype)?
                .matmul(v)
        };
        let kv_len = kt.dim(3)?;
        let o = if b * self.heads * t * kv_len > BIG_SCORES {
            // Whisper's encoder: 6 × 1500 × 1500 scores are 54 MB, fresh
            // pages from the OS on every layer; a head at a time reuses
            // 9 MB.
            let mut outs = Vec::with_capacity(self.heads);
            for h in 0..self.heads {
                outs.push(scores(
                    &q.narrow(1, h, 1)?,
                    &kt.narrow(1, h, 1)?,
                    &v.narrow(1, h, 1)?,
                )?);
            }
            Tensor::cat(&outs, 1)?
        } else {
            scores(&q, kt, v)?
        };
        let o = o.transpose(1, 2)?.reshape((b, t, d))?;
        self.out.forward(&o)
    }
}

/// A mask the thin attention can take, as plain values: `Some(None)`
/// for no mask, `Some(Some(m))` for an additive mask over the keys only
/// (b, 1, 1, kv) in f32 on the CPU — a batch's padding — with `m` its
/// `b · kv` values; `None` for any other (a causal mask over several
/// query rows, another device or type).
fn key_mask_rows(mask: Option<&Tensor>, b: usize, kt: &Tensor) -> Result<Option<Option<Vec<f32>>>> {
    let Some(mask) = mask else {
        return Ok(Some(None));
    };
    let kv = kt.dims4()?.3;
    if mask.dims() != [b, 1, 1, kv] || mask.dtype() != DType::F32 || !mask.device().is_cpu() {
        return Ok(None);
    }
    Ok(Some(Some(mask.flatten_all()?.to_vec1()?)))
}

impl Attention {
    /// A decoding step's attention (a few query rows) on the CPU in f32:
    /// each head's scores, softmax and weighted values computed directly
    /// over the cached keys and values (read in place), heads in parallel;
    /// `None` where the tensors are not f32 on the CPU. candle's batched
    /// product and softmax for these (1 × 64 · 64 × 1500 per head and
    /// layer) cost more in setup than in arithmetic.
    /// q: (b, heads, t, hd); kt: (b, heads, hd, kv) or the transpose of a
    /// (b, heads, kv, hd) tensor; v: (b, heads, kv, hd); `mask`: `b · kv`
    /// values added to each batch row's scaled scores before the softmax
    /// (a padded batch's), as the general path adds them. Returns (b, t, d).
    fn attend_thin(
        &self,
        q: &Tensor,
        kt: &Tensor,
        v: &Tensor,
        scale: f32,
        mask: Option<&[f32]>,
    ) -> Result<Option<Tensor>> {
        use rayon::prelude::*;
        let on_cpu = [q, kt, v].iter().all(|x| x.device().is_cpu());
        let all_f32 = [q, kt, v].iter().all(|x| x.dtype() == DType::F32);
        let f16_cache = q.dtype() == DType::F32
            && kt.dtype() == DType::F16
            && v.dtype() == DType::F16
            && kt.is_contiguous();
        if !on_cpu || !(all_f32 || f16_cache) {
            return Ok(None);
        }
        let (b, h, t, hd) = q.dims4()?;
        let kv = kt.dim(3)?;
        if v.dims4()? != (b, h, kv, hd)
            || kt.dims4()? != (b, h, hd, kv)
            || kv == 0
            || mask.is_some_and(|m| m.len() != b * kv)
        {
            return Ok(None);
        }
        // Batch row `bh / h`'s mask values.
        let mask_of = |bh: usize| mask.map(|m| &m[(bh / h) * kv..(bh / h + 1) * kv]);
        // Heads a task: about two tasks a thread, fewer for small heads
        // (a short sentence's), whose hand-offs would cost more than them.
        let work = t * kv * hd;
        let min_heads = (b * h)
            .div_ceil(2 * rayon::current_num_threads().max(1))
            .min((1 << 16) / work.max(1))
            .max(1);
        if f16_cache {
            // Keys stored transposed (see DecoderState::narrow_cross).
            let (q, v) = (q.contiguous()?, v.contiguous()?);
            count_cpu_kernel();
            let heads = cpu_f32(&q, |qs| {
                cpu_slice(kt, |ks: &[half::f16]| {
                    cpu_slice(&v, |vs: &[half::f16]| {
                        (0..b * h)
                            .into_par_iter()
                            .with_min_len(min_heads)
                            .map(|bh| {
                                let span = bh * kv * hd..(bh + 1) * kv * hd;
                                let q = &qs[bh * t * hd..(bh + 1) * t * hd];
                                let add = mask_of(bh);
                                let softmax = |s: &mut [f32]| softmax_masked(s, scale, add);
                                super::f16::attend_head(
                                    q,
                                    &ks[span.clone()],
                                    &vs[span],
                                    hd,
                                    &softmax,
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
            })?;
            let heads = flatten_nested(heads)?;
            let Some(heads) = heads else {
                return Ok(None);
            };
            let heads = heads.iter().map(Vec::as_slice);
            return Ok(Some(merge_heads(heads, b, h, t, hd, q.device())?));
        }
        // Keys by rows (kv, hd) when they are stored so, else (hd, kv).
        let k_rows = kt.t()?;
        let (keys, by_rows) = if k_rows.is_contiguous() {
            (k_rows, true)
        } else {
            (kt.contiguous()?, false)
        };
        let (q, v) = (q.contiguous()?, v.contiguous()?);
        count_cpu_kernel();
        // Head by head (b, h, t, hd); a task takes a run of heads and one
        // scores buffer.
        let mut by_head = vec![0f32; b * h * t * hd];
        let nested = cpu_f32(&q, |qs| {
            cpu_f32(&keys, |ks| {
                cpu_f32(&v, |vs| {
                    by_head
                        .par_chunks_mut(min_heads * t * hd)
                        .enumerate()
                        .for_each(|(c, outs)| {
                            let mut scores = Vec::with_capacity(kv);
                            for (i, o) in outs.chunks_exact_mut(t * hd).enumerate() {
                                let bh = c * min_heads + i;
                                let k = &ks[bh * kv * hd..(bh + 1) * kv * hd];
                                let v = &vs[bh * kv * hd..(bh + 1) * kv * hd];
                                let q = &qs[bh * t * hd..(bh + 1) * t * hd];
                                let head = ThinHead {
                                    q,
                                    k,
                                    v,
                                    by_rows,
                                    hd,
                                    scale,
                                };
                                thin_head(&head, mask_of(bh), &mut scores, o);
                            }
                        })
                })
            })
        })?;
        if flatten_nested(nested)?.is_none() {
            return Ok(None);
        }
        if t == 1 {
            // One query row: (b, h, 1, hd) is already (b, 1, h · hd).
            return Ok(Some(Tensor::from_vec(by_head, (b, 1, h * hd), q.device())?));
        }
        let heads = by_head.chunks_exact(t * hd);
        Ok(Some(merge_heads(heads, b, h, t, hd, q.device())?))
    }
}

/// What three nested [`cpu_slice`] calls give, as one option: `None` if
/// any tensor was not on the CPU in the expected type.
fn flatten_nested<T>(nested: Option<Result<Option<Result<Option<T>>>>>) -> Result<Option<T>> {
    Ok(match nested {
        Some(r) => match r? {
            Some(r) => r?,
            None => None,
        },
        None => None,
    })
}

/// Heads' outputs (`b · h` of them, `t × hd` each) as one (b, t, h · hd)
/// tensor.
fn merge_heads<'a>(
    heads: impl Iterator<Item = &'a [f32]>,
    b: usize,
    h: usize,
    t: usize,
    hd: usize,
    device: &Device,
) -> Result<Tensor> {
    let d = h * hd;
    let mut out = vec![0f32; b * t * d];
    for (bh, o) in heads.enumerate() {
        let (bi, hi) = (bh / h, bh % h);
        for (ti, row) in o.chunks_exact(hd).enumerate() {
            let at = (bi * t + ti) * d + hi * hd;
            out[at..at + hd].copy_from_slice(row);
        }
    }
    Tensor::from_vec(out, (b, t, d), device)
}

/// One head's operands for [`thin_head`]: the query rows `q` (`hd`
/// wide), the keys `k` (`kv × hd` when `by_rows`, else `hd × kv`), the
/// values `v` (`kv × hd`), and the scale of the scores.
struct ThinHead<'a> {
    q: &'a [f32],
    k: &'a [f32],
    v: &'a [f32],
    by_rows: bool,
    hd: usize,
    scale: f32,
}

/// One head of [`Attention::attend_thin`], into `out` (as long as `q`):
/// for each query row, the softmax of its scaled scores against the
/// keys (plus `mask`, when given) weighting the rows of the values.
/// `scores` is a buffer the caller keeps between heads. Compiled for
/// AVX2 + FMA where the processor has them.
fn thin_head(head: &ThinHead, mask: Option<&[f32]>, scores: &mut Vec<f32>, out: &mut [f32]) {
    /// `a · b + c`, fused where the caller's code has FMA (else the
    /// library's `fmaf` would be a call a value).
    #[inline(always)]
    fn madd<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
        if FUSED { a.mul_add(b, c) } else { a * b + c }
    }
    #[inline(always)]
    fn body<const FUSED: bool>(
        head: &ThinHead,
        mask: Option<&[f32]>,
        scores: &mut Vec<f32>,
        out: &mut [f32],
    ) {
        let &ThinHead {
            q,
            k,
            v,
            by_rows,
            hd,
            scale,
        } = head;
        let kv = v.len() / hd;
        scores.clear();
        scores.resize(kv, 0.0);
        for (qr, o) in q.chunks_exact(hd).zip(out.chunks_exact_mut(hd)) {
            o.fill(0.0);
            if by_rows {
                for (s, kr) in scores.iter_mut().zip(k.chunks_exact(hd)) {
                    *s = super::gemm::dot(qr, kr);
                }
            } else {
                // Four rows of the transposed keys a pass: four fused
                // multiply-adds for each load and store of a score.
                scores.fill(0.0);
                let quads = hd / 4 * 4;
                for (c, q4) in k.chunks_exact(4 * kv).zip(qr.chunks_exact(4)) {
                    let (k0, k123) = c.split_at(kv);
                    let (k1, k23) = k123.split_at(kv);
                    let (k2, k3) = k23.split_at(kv);
                    for ((((s, a), b), c), d) in scores.iter_mut().zip(k0).zip(k1).zip(k2).zip(k3) {
                        *s = madd::<FUSED>(
                            *d,
                            q4[3],
                            madd::<FUSED>(
                                *c,
                                q4[2],
                                madd::<FUSED>(*b, q4[1], madd::<FUSED>(*a, q4[0], *s)),
                            ),
                        );
                    }
                }
                for (kr, qv) in k[quads * kv..].chunks_exact(kv).zip(&qr[quads..]) {
                    for (s, x) in scores.iter_mut().zip(kr) {
                        *s = madd::<FUSED>(*x, *qv, *s);
                    }
                }
            }
            softmax_masked(scores, scale, mask);
            // The values weighted four rows a pass, likewise.
            let (quads, rest) = scores.split_at(kv / 4 * 4);
            for (p, vr) in quads.chunks_exact(4).zip(v.chunks_exact(4 * hd)) {
                let (v0, v123) = vr.split_at(hd);
                let (v1, v23) = v123.split_at(hd);
                let (v2, v3) = v23.split_at(hd);
                for ((((o, a), b), c), d) in o.iter_mut().zip(v0).zip(v1).zip(v2).zip(v3) {
                    *o = madd::<FUSED>(
                        *d,
                        p[3],
                        madd::<FUSED>(
                            *c,
                            p[2],
                            madd::<FUSED>(*b, p[1], madd::<FUSED>(*a, p[0], *o)),
                        ),
                    );
                }
            }
            for (p, vr) in rest.iter().zip(v[quads.len() * hd..].chunks_exact(hd)) {
                for (o, x) in o.iter_mut().zip(vr) {
                    *o = madd::<FUSED>(*x, *p, *o);
                }
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    if super::gemm::fast() {
        #[target_feature(enable = "avx2,fma")]
        fn avx2(head: &ThinHead, mask: Option<&[f32]>, scores: &mut Vec<f32>, out: &mut [f32]) {
            body::<true>(head, mask, scores, out)
        }
        // SAFETY: fast() saw AVX2 and FMA on this processor.
        return unsafe { avx2(head, mask, scores, out) };
    }
    body::<false>(head, mask, scores, out)
}

/// [`softmax_scaled`] with `mask` (as long as `row`, when given) added
/// after the scaling, as the general attention adds it.
fn softmax_masked(row: &mut [f32], scale: f32, mask: Option<&[f32]>) {
    match mask {
        Some(m) => {
            for (x, a) in row.iter_mut().zip(m) {
                *x = *x * scale + a;
            }
            softmax_scaled(row, 1.0)
        }
        None => softmax_scaled(row, scale),
    }
}

/// `ln Σ eˣ` over `row` (the maximum taken out first), for
/// log-softmax over a vocabulary at every decoding step: vectorised
/// (AVX2 + FMA where the processor has them) with [`exp`], not a libm
/// call per value. −∞ for an empty row or one of −∞ only.
pub(crate) fn log_sum_exp(row: &[f32]) -> f32 {
    let (max, log_sum) = max_and_log_sum(row);
    if max.is_finite() { max + log_sum } else { max }
}

/// `(m, ln Σ e^(x − m))` with `m` the row's maximum (the second is
/// meaningless where `m` is not finite): the two halves of
/// [`log_sum_exp`], for a log-softmax written `(x − m) − ln Σ` as
/// PyTorch computes it.
pub(crate) fn max_and_log_sum(row: &[f32]) -> (f32, f32) {
    #[inline(always)]
    fn body(row: &[f32]) -> (f32, f32) {
        const L: usize = 8;
        let mut maxes = [f32::NEG_INFINITY; L];
        let chunks = row.chunks_exact(L);
        let tail = chunks.remainder();
        for c in chunks.clone() {
            for (x, m) in c.iter().zip(&mut maxes) {
                *m = if *x > *m { *x } else { *m };
            }
        }
        let max = maxes
            .iter()
            .chain(tail)
            .fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        if !max.is_finite() {
            return (max, 0.0);
        }
        let mut sums = [0f32; L];
        for c in chunks {
            for (x, s) in c.iter().zip(&mut sums) {
                *s += exp(*x - max);
            }
        }
        let sum: f32 = sums.iter().sum::<f32>() + tail.iter().map(|x| exp(x - max)).sum::<f32>();
        (max, sum.ln())
    }
    #[cfg(target_arch = "x86_64")]
    if super::gemm::fast() {
        #[target_feature(enable = "avx2,fma")]
        fn avx2(row: &[f32]) -> (f32, f32) {
            body(row)
        }
        // SAFETY: fast() saw AVX2 and FMA on this processor.
        return unsafe { avx2(row) };
    }
    body(row)
}

/// `softmax(row * scale)` in place, as candle's `softmax_last_dim` after
/// the scaling: the maximum subtracted, `exp`, divided by the sum.
/// Compiled for AVX2 + FMA where the processor has them (the body is
/// written to vectorise: eight running maxima and sums, not one).
fn softmax_scaled(row: &mut [f32], scale: f32) {
    #[cfg(target_arch = "x86_64")]
    if super::gemm::fast() {
        #[target_feature(enable = "avx2,fma")]
        fn avx2(row: &mut [f32], scale: f32) {
            softmax_body(row, scale)
        }
        // SAFETY: fast() saw AVX2 and FMA on this processor.
        return unsafe { avx2(row, scale) };
    }
    softmax_body(row, scale)
}

#[inline(always)]
fn softmax_body(row: &mut [f32], scale: f32) {
    const L: usize = 8;
    let mut maxes = [f32::NEG_INFINITY; L];
    let split = row.len() - row.len() % L;
    let (body, tail) = row.split_at_mut(split);
    for c in body.chunks_exact_mut(L) {
        for (x, m) in c.iter_mut().zip(&mut maxes) {
            *x *= scale;
            *m = if *x > *m { *x } else { *m };
        }
    }
    let mut max = maxes.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    for x in tail.iter_mut() {
        *x *= scale;
        max = max.max(*x);
    }
    let mut sums = [0f32; L];
    for c in body.chunks_exact_mut(L) {
        for (x, s) in c.iter_mut().zip(&mut sums) {
            *x = exp(*x - max);
            *s += *x;
        }
    }
    let mut sum: f32 = sums.iter().sum();
    for x in tail.iter_mut() {
        *x = exp(*x - max);
        sum += *x;
    }
    let inv = 1.0 / sum;
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// `eˣ` to within about 2 ulp for x ≤ 0 (softmax's arguments; 0 below
/// -87), in plain arithmetic the compiler vectorises: x = n·ln 2 + r with
/// |r| ≤ ln 2 / 2, eʳ by its degree-6 Taylor polynomial (Horner), 2ⁿ
/// put straight into the exponent bits. libm's `expf`, a call per value,
/// was a tenth of Whisper's time.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, the first with few significant bits, so n·LN2_HI
    // is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round to nearest by adding and taking off 1.5 · 2²³.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // n sits in the low mantissa bits of t (ROUND's are zero there), so
    // 2ⁿ's exponent field is (t's bits + 127) shifted up: integer
    // arithmetic that vectorises, where `n as i32` (a saturating cast)
    // does not.
    let bits = t.to_bits().wrapping_add(127) << 23;
    p * f32::from_bits(bits)
}

pub(crate) struct FeedForward {
    fc1: Linear,
    fc2: Linear,
    act: Act,
}

impl FeedForward {
    pub(crate) fn load(d: usize, ffn: usize, act: Act, vb: &VarBuilder) -> Result<Self> {
        Ok(Self {
            fc1: Linear::load(d, ffn, vb.pp("fc1"))?,
            fc2: Linear::load(ffn, d, vb.pp("fc2"))?,
            act,
        })
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.fc2
            .forward(&self.act.apply(&self.fc1.forward(xs)?, self.fc1.kernels)?)
    }
}

/// The decoder's running state for a batch of rows (beams × sentences).
pub struct DecoderState {
    pub(crate) self_kv: Vec<Option<(Tensor, Tensor)>>,
    /// Cross-attention keys (transposed, see `Attention::keys_t_values`)
    /// and values.
    pub(crate) cross_kv: Vec<(Tensor, Tensor)>,
    pub(crate) cross_mask: Option<Tensor>,
    /// Tokens decoded so far (the position of the next one).
    pub len: usize,
}

/// Each row of `x` (b, …) `repeat` times in a row (b·repeat, …).
fn repeat_rows(x: &Tensor, repeat: usize) -> Result<Tensor> {
    if repeat <= 1 {
        return Ok(x.clone());
    }
    let dims = x.dims();
    let mut expanded = vec![dims[0], repeat];
    expanded.extend_from_slice(&dims[1..]);
    let mut merged = vec![dims[0] * repeat];
    merged.extend_from_slice(&dims[1..]);
    x.unsqueeze(1)?.expand(expanded)?.reshape(merged)
}

impl DecoderState {
    /// The state before the first token: each cross-attention layer's keys
    /// and values of `encoded` (b, t, d), and the encoder padding `mask`,
    /// every row repeated `repeat` times (one per beam).
    pub(crate) fn start<'a>(
        cross: impl ExactSizeIterator<Item = &'a Attention>,
        encoded: &Tensor,
        mask: Option<&Tensor>,
        repeat: usize,
    ) -> Result<Self> {
        let layers = cross.len();
        let enc = repeat_rows(encoded, repeat)?;
        Ok(Self {
            cross_kv: cross
                .map(|a| a.keys_t_values(&enc))
                .collect::<Result<Vec<_>>>()?,
            self_kv: vec![None; layers],
            cross_mask: mask.map(|m| repeat_rows(m, repeat)).transpose()?,
            len: 0,
        })
    }

    /// Keeps the cross-attention keys and values in f16 on the CPU (for
    /// models computing in int8 or float16): a decoding step reads them
    /// all, for each row, so half the bytes is a faster step; the
    /// step's attention widens them in registers.
    pub(crate) fn narrow_cross(&mut self) -> Result<()> {
        for kv in self.cross_kv.iter_mut() {
            if kv.0.device().is_cpu() && kv.0.dtype() == DType::F32 {
                *kv = (
                    kv.0.to_dtype(DType::F16)?.contiguous()?,
                    kv.1.to_dtype(DType::F16)?.contiguous()?,
                );
            }
        }
        Ok(())
    }

    /// Keeps only rows `rows` (in that order) of everything: the rows of
    /// a batch still being decoded, so finished ones cost nothing more.
    pub fn keep(&mut self, rows: &[u32]) -> Result<()> {
        self.reorder(rows)?;
        let Some(device) = self.cross_kv.first().map(|(k, _)| k.device().clone()) else {
            return Ok(());
        };
        let idx = Tensor::from_slice(rows, rows.len(), &device)?;
        for kv in self.cross_kv.iter_mut() {
            // Keys kept by rows under a transposed view stay so.
            let kt = kv.0.t()?;
            let keys = if kt.is_contiguous() && !kv.0.is_contiguous() {
                kt.index_select(&idx, 0)?.t()?
            } else {
                kv.0.index_select(&idx, 0)?
            };
            *kv = (keys, kv.1.index_select(&idx, 0)?);
        }
        if let Some(m) = &self.cross_mask {
            self.cross_mask = Some(m.index_select(&idx, 0)?);
        }
        Ok(())
    }

    /// Keeps rows `rows` (in that order) of the self-attention cache: the
    /// beams chosen at this step, possibly repeated.
    pub fn reorder(&mut self, rows: &[u32]) -> Result<()> {
        let device = self
            .cross_kv
            .first()
            .map(|(k, _)| k.device().clone())
            .unwrap_or(Device::Cpu);
        let idx = Tensor::from_slice(rows, rows.len(), &device)?;
        for kv in self.self_kv.iter_mut().flatten() {
            *kv = (kv.0.index_select(&idx, 0)?, kv.1.index_select(&idx, 0)?);
        }
        Ok(())
    }
}

/// Why a model folder cannot be used, file by file: shared by the tasks'
/// errors (`TaskError::File`, `TaskError::File`,
/// `TaskError::File`), so each says it the same way.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("The model folder has no {file} ({reason}).")]
    Missing { file: String, reason: String },
    #[error("{file} in the model folder could not be read: {reason}.")]
    Bad { file: String, reason: String },
}

impl ModelFileError {
    pub fn missing(file: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Missing {
            file: file.into(),
            reason: reason.to_string(),
        }
    }

    pub fn bad(file: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Bad {
            file: file.into(),
            reason: reason.to_string(),
        }
    }
}

/// Refuses a size of zero read from a model's files, naming the first
/// that is (they divide and size tensors later).
pub(crate) fn no_zero_sizes(sizes: &[(&str, usize)]) -> std::result::Result<(), String> {
    match sizes.iter().find(|(_, v)| *v == 0) {
        Some((name, _)) => Err(format!("{name} is 0")),
        None => Ok(()),
    }
}

/// `tokenizer.json` of a model folder. The tokenizers crate panics on
/// some damaged files (an `expect` in its decoder's deserialiser); that
/// too is a file that can't be read, not the end of the program.
pub(crate) fn load_tokenizer(
    dir: &Path,
) -> std::result::Result<tokenizers::Tokenizer, ModelFileError> {
    let path = dir.join("tokenizer.json");
    if !path.is_file() {
        return Err(ModelFileError::missing("tokenizer.json", "no such file"));
    }
    crate::work::catch_panic(|| tokenizers::Tokenizer::from_file(&path))
        .map_err(|why| ModelFileError::bad("tokenizer.json", why))?
        .map_err(|e| ModelFileError::bad("tokenizer.json", e))
}

/// The weights of a Hugging Face model folder: `model.safetensors`, else a
/// zip-format `pytorch_model.bin`, in the type `place` gives for them
/// (f32 on the CPU; on a GPU the checkpoint's own f16/bf16), and the
/// format our CPU kernels are to keep them in (see
/// [`Placement::format_for`]).
pub(crate) fn load_weights(
    dir: &Path,
    place: &Placement,
) -> std::result::Result<(VarBuilder<'static>, WeightFormat), ModelFileError> {
    let fail = |missing, file: &str, reason: String| {
        if missing {
            ModelFileError::missing(file, reason)
        } else {
            ModelFileError::bad(file, reason)
        }
    };
    let device = &place.device;
    let safetensors = dir.join("model.safetensors");
    if safetensors.exists() {
        let stored = stored_dtype(&safetensors).map_err(|e| fail(false, "model.safetensors", e))?;
        let dtype = place.dtype_for(stored);
        // Mapped, not read: each tensor is copied out of the page cache as
        // it is loaded, so loading takes the model's size in memory, not
        // twice it. SAFETY: the file is a finished download in the Hub
        // cache (blobs are written once, under another name, then moved
        // into place) or a folder the user chose; nothing rewrites it
        // while the model loads.
        unsafe { VarBuilder::from_mmaped_safetensors(&[&safetensors], dtype, device) }
            .map(|vb| (vb, place.format_for(stored, false)))
            .map_err(|e| fail(false, "model.safetensors", e.to_string()))
    } else if dir.join("pytorch_model.bin").exists() {
        VarBuilder::from_pth(dir.join("pytorch_model.bin"), place.dtype_for(None), device)
            .map(|vb| (vb, place.format_for(None, false)))
            .map_err(|e| fail(false, "pytorch_model.bin", e.to_string()))
    } else {
        Err(fail(
            true,
            "model.safetensors or pytorch_model.bin",
            "no weights".into(),
        ))
    }
}

/// The floating-point type holding most of a safetensors file's values,
/// read from its header (`None` when it has no floating-point tensors).
pub(crate) fn stored_dtype(path: &Path) -> std::result::Result<Option<DType>, String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|_| "it is too short to have a header".to_string())?;
    let len = u64::from_le_bytes(len);
    // The format caps the header at 100 MB.
    if len > 100_000_000 {
        return Err(format!("its header claims {len} bytes"));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header)
        .map_err(|_| "its header is cut short".to_string())?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| format!("its header is not JSON ({e})"))?;
    let mut values: [(DType, u128); 3] = [(DType::F32, 0), (DType::F16, 0), (DType::BF16, 0)];
    for (name, t) in &header {
        if name == "__metadata__" {
            continue;
        }
        let slot = match t.get("dtype").and_then(|d| d.as_str()) {
            Some("F32") => 0,
            Some("F16") => 1,
            Some("BF16") => 2,
            _ => continue,
        };
        let count = t
            .get("shape")
            .and_then(|s| s.as_array())
            .map(|s| {
                s.iter()
                    .map(|d| d.as_u64().unwrap_or(0) as u128)
                    .product::<u128>()
            })
            .unwrap_or(0);
        values[slot].1 += count;
    }
    Ok(values
        .iter()
        .filter(|v| v.1 > 0)
        .max_by_key(|v| v.1)
        .map(|v| v.0))
}

/// The additive causal mask for `t` new positions after `past` cached ones,
/// or `None` for a single position.
pub(crate) fn causal_mask(t: usize, past: usize, device: &Device) -> Result<Option<Tensor>> {
    if t <= 1 {
        return Ok(None);
    }
    let mut m = vec![0f32; t * (past + t)];
    for i in 0..t {
        for j in past + i + 1..past + t {
            m[i * (past + t) + j] = f32::MIN;
        }
    }
    Ok(Some(Tensor::from_vec(m, (1, 1, t, past + t), device)?))
}

/// Index of the largest value; the first one on ties (as PyTorch's
/// `argmax`); 0 for an empty row.
pub fn argmax(row: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in row.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Indices of the `k` largest values, largest first; on ties the lower
/// index first.
pub(crate) fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    // One pass keeping the best `k` in order: k is small (beams × 2) and
    // the values many (beams × vocabulary). Values are compared as
    // `f32::total_cmp` does, through integer keys, so that eight at a
    // time can be passed over when none beats the k-th best so far.
    let key = |v: f32| {
        let b = v.to_bits() as i32;
        b ^ (((b >> 31) as u32) >> 1) as i32
    };
    let k = k.min(values.len());
    let mut best: Vec<usize> = Vec::with_capacity(k + 1);
    if k == 0 {
        return best;
    }
    let enter = |i: usize, best: &mut Vec<usize>| {
        let v = key(values[i]);
        if best.len() == k && v <= key(values[best[k - 1]]) {
            // Ties keep the earlier index, so only strictly greater enters.
            return;
        }
        let pos = best.partition_point(|&j| key(values[j]) >= v);
        best.insert(pos, i);
        best.truncate(k);
    };
    const L: usize = 8;
    let mut i = 0;
    while i < values.len() {
        let end = (i + L).min(values.len());
        if best.len() == k && end - i == L {
            let bar = key(values[best[k - 1]]);
            let top = values[i..end].iter().fold(i32::MIN, |m, &v| m.max(key(v)));
            if top <= bar {
                i = end;
                continue;
            }
        }
        for j in i..end {
            enter(j, &mut best);
        }
        i = end;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer given int8 bytes and divisors (a CTranslate2 int8 model):
    /// kept in int8 where built for it, widened otherwise; both compute
    /// `x · (q / div)ᵀ + b`.
    #[test]
    fn int8_weights_as_stored_are_kept_or_widened() {
        let (n, k) = (5, 12);
        let q: Vec<i8> = (0..n * k).map(|i| ((i * 37) % 255) as i8).collect();
        let q: Vec<i8> = q.into_iter().map(|v| v.max(-127)).collect();
        let div = [64.0f32, 127.0, 3.0, 0.5, 100.0];
        let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.25).collect();
        let x = crate::rng::Rng::floats(7, 3 * k);
        let want: Vec<f32> = (0..3)
            .flat_map(|i| {
                let (q, x) = (&q, &x);
                (0..n).map(move |j| {
                    (0..k)
                        .map(|p| x[i * k + p] * q[j * k + p] as f32 / div[j])
                        .sum::<f32>()
                        + j as f32 * 0.25
                })
            })
            .collect();
        let qt = Tensor::from_vec(
            q.iter().map(|&v| v as u8).collect::<Vec<u8>>(),
            (n, k),
            &Device::Cpu,
        )
        .unwrap();
        let dt = Tensor::from_slice(&div, n, &Device::Cpu).unwrap();
        let bt = Tensor::from_vec(bias, n, &Device::Cpu).unwrap();
        let xt = Tensor::from_vec(x.clone(), (3, k), &Device::Cpu).unwrap();
        let place = Placement::new(&Device::Cpu);
        for (format, tolerance) in [(WeightFormat::Int8, 0.05), (WeightFormat::F32, 1e-5)] {
            let layer = place.build(format, || {
                Linear::from_int8(&qt, &dt, Some(bt.clone()), DType::F32).unwrap()
            });
            assert_eq!(layer.format(), format);
            let got: Vec<f32> = layer
                .forward(&xt)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= tolerance * w.abs().max(1.0),
                    "{format:?}: {g} against {w}"
                );
            }
        }
    }

    #[test]
    fn top_k_equals_a_stable_sort_by_total_order() {
        for n in [0, 1, 5, 8, 9, 64, 1000, 58101] {
            // Few distinct values (many ties), both zeros, NaN and ±∞.
            let mut v: Vec<f32> = crate::rng::Rng::floats(n as u64 + 3, n)
                .iter()
                .map(|x| (x * 16.0).round() / 4.0)
                .collect();
            for (i, special) in [-0.0, 0.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY]
                .into_iter()
                .enumerate()
            {
                if let Some(x) = v.get_mut(i * 7) {
                    *x = special;
                }
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
            for k in [0, 1, 2, 8, 9, 40] {
                let want = &order[..k.min(n)];
                assert_eq!(top_k(&v, k), want, "n = {n}, k = {k}");
            }
        }
    }

    #[test]
    fn log_sum_exp_agrees_with_a_plain_f64_sum() {
        for n in [1, 7, 8, 9, 51864] {
            let row: Vec<f32> = crate::rng::Rng::floats(n as u64, n)
                .iter()
                .map(|x| x * 30.0)
                .collect();
            let max = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
            let want = max
                + row
                    .iter()
                    .map(|&x| (x as f64 - max).exp())
                    .sum::<f64>()
                    .ln();
            let got = log_sum_exp(&row) as f64;
            assert!(
                (got - want).abs() < 1e-5 * want.abs().max(1.0),
                "{n}: {got} vs {want}"
            );
        }
        let mut masked = vec![f32::NEG_INFINITY; 20];
        assert_eq!(log_sum_exp(&masked), f32::NEG_INFINITY);
        assert_eq!(log_sum_exp(&[]), f32::NEG_INFINITY);
        masked[13] = 2.5;
        assert!((log_sum_exp(&masked) - 2.5).abs() < 1e-6);
    }

    #[test]
    fn exp_is_within_a_few_ulp_of_libms() {
        let mut x = -90.0f32;
        while x <= 2.0 {
            let (got, want) = (exp(x), x.exp());
            if want > 1e-37 {
                assert!(
                    ((got - want) / want).abs() < 5e-7,
                    "exp({x}) = {got}, not {want}"
                );
            } else {
                assert!(got < 1e-37, "exp({x}) = {got}");
            }
            x += 0.003_7;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f32::NEG_INFINITY), exp(-87.0));
    }

    fn random(shape: &[usize], seed: u64) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::from_vec(crate::rng::Rng::floats(seed, n), shape, &Device::Cpu).unwrap()
    }

    /// The decoding path's attention (our loops) against candle's
    /// operations, for keys stored transposed (cross-attention) and by
    /// rows (a self-attention cache), one and several query rows.
    #[test]
    fn a_decoding_steps_attention_equals_candles() {
        // Keys by rows (a short memory) and transposed (a long one).
        for kv in [37, 70] {
            decoding_attention_case(kv);
        }
    }

    fn decoding_attention_case(kv: usize) {
        use candle_core::IndexOp;
        let (d, heads) = (16, 4);
        let attention = |generic: bool| {
            let place = Placement {
                generic,
                ..Placement::new(&Device::Cpu)
            };
            place.build(WeightFormat::F32, || {
                let lin = |seed| Linear::new(random(&[d, d], seed), Some(random(&[d], seed + 1)));
                Attention::from_parts(lin(1), lin(3), lin(5), lin(7), heads)
            })
        };
        let (ours, theirs) = (attention(false), attention(true));
        let memory = random(&[2, kv, d], 11);
        for t in [1, 3] {
            let xs = random(&[2, t, d], 13 + t as u64);
            let close = |a: &Tensor, b: &Tensor| {
                let (a, b): (Vec<f32>, Vec<f32>) = (
                    a.flatten_all().unwrap().to_vec1().unwrap(),
                    b.flatten_all().unwrap().to_vec1().unwrap(),
                );
                let worst = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0f32, f32::max);
                assert!(worst < 1e-5, "t = {t}: max difference {worst}");
            };
            let before = cpu_kernel_runs();
            let (kt, v) = ours.keys_t_values(&memory).unwrap();
            let got = ours.attend_kt(&xs, &kt, &v, None).unwrap();
            let (kt2, v2) = theirs.keys_t_values(&memory).unwrap();
            close(&got, &theirs.attend_kt(&xs, &kt2, &v2, None).unwrap());
            let (k, v) = ours.keys_values(&memory).unwrap();
            let got = ours.attend(&xs, &k, &v, None).unwrap();
            let (k2, v2) = theirs.keys_values(&memory).unwrap();
            close(&got, &theirs.attend(&xs, &k2, &v2, None).unwrap());
            assert!(cpu_kernel_runs() > before, "our path ran");
            // A padded batch: the second row's keys past 20 are padding.
            let mut m = vec![0f32; 2 * kv];
            m[kv + 20..].fill(f32::MIN);
            let mask = Tensor::from_vec(m, (2, 1, 1, kv), &Device::Cpu).unwrap();
            let before = cpu_kernel_runs();
            let got = ours.attend_kt(&xs, &kt, &v, Some(&mask)).unwrap();
            let want = theirs.attend_kt(&xs, &kt2, &v2, Some(&mask)).unwrap();
            close(&got, &want);
            let unmasked = theirs.attend_kt(&xs, &kt2, &v2, None).unwrap();
            let moved = (want.i(1).unwrap() - unmasked.i(1).unwrap())
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(moved > 1e-3, "the mask changes the second row");
            // The same with the cache kept in f16 (DecoderState::narrow_cross).
            let narrow = |x: &Tensor| x.to_dtype(DType::F16).unwrap().contiguous().unwrap();
            let got = ours
                .attend_kt(&xs, &narrow(&kt), &narrow(&v), Some(&mask))
                .unwrap();
            let want = theirs
                .attend_kt(&xs, &narrow(&kt2), &narrow(&v2), Some(&mask))
                .unwrap();
            close(&got, &want);
            assert!(cpu_kernel_runs() > before + 1, "our path ran with a mask");
        }
    }
}
