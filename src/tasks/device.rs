//! The compute device, chosen once for every task: `auto`, `cpu`,
//! `cuda[:N]` or `metal`. A GPU asked for but missing — absent from this
//! build (the `cuda`/`metal` cargo features) or from this machine — falls
//! back to the CPU with a sentence saying why. With it, the number format
//! the models compute in ([`ComputeType`], CTranslate2's `compute_type`).

use std::fmt;
use std::str::FromStr;

use candle_core::Device;

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeviceChoice {
    /// The first GPU this build and machine have, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
    Metal,
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(0) => f.write_str("cuda"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
            Self::Metal => f.write_str("metal"),
        }
    }
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            "metal" | "mps" => Ok(Self::Metal),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| {
                    format!(
                        "\"{s}\" is not a device: use auto, cpu, cuda, cuda:N or metal (`spaceport devices` lists what this machine offers)"
                    )
                }),
        }
    }
}

/// The number format weights are kept in and products run in, as
/// CTranslate2's `compute_type` (`default` and `auto` mean what they mean
/// there).
///
/// The serialised names keep settings saved before `Auto` meant "fastest":
/// those said `Auto` for the checkpoint's own format, now `Default`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ComputeType {
    /// The weights' own format where this machine runs it fast: int8
    /// weights in int8, f16 in f16, the rest in f32 (on a GPU, f16/bf16
    /// checkpoints in their type). Results equal the stored weights'.
    #[default]
    #[serde(rename = "Auto")]
    Default,
    /// The fastest accurate format for this machine and model: int8 on a
    /// processor with int8 dot-product instructions (AVX2 and later; the
    /// accuracy tests bound its difference from float32), f16 on a GPU,
    /// otherwise as [`Self::Default`].
    #[serde(rename = "Fastest")]
    Auto,
    /// Exact: every weight widened to f32.
    Float32,
    /// f16 weights (half the memory of f32), products in f32; on a GPU,
    /// f16 throughout.
    Float16,
    /// Weights quantised to int8 per output channel, activations per row
    /// (a quarter of the memory, the fastest on the CPU, a little less
    /// accurate). A GPU runs it as float16.
    Int8,
}

impl ComputeType {
    pub const ALL: [Self; 5] = [
        Self::Default,
        Self::Auto,
        Self::Float32,
        Self::Float16,
        Self::Int8,
    ];

    /// Its name with a few words for a list: "int8 — the fastest on the
    /// CPU".
    pub fn label(self) -> String {
        let what = match self {
            Self::Default => "the model's own",
            Self::Auto => "the fastest accurate",
            Self::Float32 => "exact",
            Self::Float16 => "half the memory",
            Self::Int8 => "the fastest on the CPU",
        };
        format!("{self} — {what}")
    }

    /// A sentence for Settings.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Default => {
                "The model's own precision (int8 and float16 checkpoints stay so): the results its \
                 stored weights give."
            }
            Self::Auto => {
                "The fastest accurate format for this computer: int8 where the processor has \
                 int8 instructions, float16 on a GPU."
            }
            Self::Float32 => "Exact results; the most memory, the slowest.",
            Self::Float16 => "Half the memory of float32 and the same results on the CPU.",
            Self::Int8 => {
                "The fastest on the CPU and a quarter of the memory; results differ slightly."
            }
        }
    }
}

impl fmt::Display for ComputeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::Auto => "auto",
            Self::Float32 => "float32",
            Self::Float16 => "float16",
            Self::Int8 => "int8",
        })
    }
}

impl FromStr for ComputeType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "default" => Ok(Self::Default),
            "auto" => Ok(Self::Auto),
            "float32" | "f32" => Ok(Self::Float32),
            "float16" | "f16" => Ok(Self::Float16),
            "int8" => Ok(Self::Int8),
            other => Err(format!(
                "\"{other}\" is not a compute type: use default, auto, float32, float16 or int8"
            )),
        }
    }
}

/// The device to run on, and a note when it is not what was asked for.
pub struct Selected {
    pub device: Device,
    pub fallback_note: Option<String>,
    /// "CPU", "CUDA GPU 0 (NVIDIA H200)" or "Metal GPU".
    name: String,
}

impl Selected {
    fn cpu(note: Option<String>) -> Self {
        Self {
            device: Device::Cpu,
            fallback_note: note,
            name: "CPU".into(),
        }
    }

    fn gpu(device: Device) -> Self {
        let name = gpu_name(&device);
        Self {
            device,
            fallback_note: None,
            name,
        }
    }

    /// "CPU", "CUDA GPU 0 (NVIDIA H200)" or "Metal GPU".
    pub fn describe(&self) -> String {
        self.name.clone()
    }
}

/// A GPU's name as users see it.
fn gpu_name(device: &Device) -> String {
    match device {
        Device::Cpu => "CPU".into(),
        #[cfg(feature = "cuda")]
        Device::Cuda(d) => {
            let n = match device.location() {
                candle_core::DeviceLocation::Cuda { gpu_id } => gpu_id,
                _ => 0,
            };
            match d.cuda_stream().context().name() {
                Ok(name) => format!("CUDA GPU {n} ({name})"),
                Err(_) => format!("CUDA GPU {n}"),
            }
        }
        #[cfg(not(feature = "cuda"))]
        Device::Cuda(_) => "CUDA GPU".into(),
        Device::Metal(_) => "Metal GPU".into(),
    }
}

/// Whether this build was compiled with each GPU back end.
pub const BUILT_WITH_CUDA: bool = cfg!(feature = "cuda");
pub const BUILT_WITH_METAL: bool = cfg!(feature = "metal");

/// Why `choice` cannot be had in this build, without opening any device
/// (cheap enough for the UI thread).
pub fn build_note(choice: DeviceChoice) -> Option<String> {
    match choice {
        DeviceChoice::Cuda(n) if !BUILT_WITH_CUDA => Some(format!(
            "This copy of Spaceport was built without NVIDIA GPU support, so cuda:{n} is not available; using the CPU. A copy built with CUDA support can use the GPU."
        )),
        DeviceChoice::Metal if !BUILT_WITH_METAL => Some(
            "This copy of Spaceport was built without Metal support; using the CPU. A copy built for the Mac's GPU can use it.".to_string(),
        ),
        _ => None,
    }
}

/// A GPU error in one plain clause, without the error's backtrace or
/// debug form: "the NVIDIA driver found no GPU".
pub fn plain_reason(error: &dyn fmt::Display) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or("").trim();
    let known = [
        ("CUDA_ERROR_NO_DEVICE", "the NVIDIA driver found no GPU"),
        (
            "CUDA_ERROR_INVALID_DEVICE",
            "there is no GPU with that number",
        ),
        (
            "CUDA_ERROR_INSUFFICIENT_DRIVER",
            "the NVIDIA driver is older than this build needs (CUDA 13)",
        ),
        (
            "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
            "the NVIDIA driver is older than the GPU code in this build",
        ),
        (
            "CUDA_ERROR_NOT_INITIALIZED",
            "the NVIDIA driver could not be started",
        ),
        (
            "CUDA_ERROR_OUT_OF_MEMORY",
            "the GPU has too little free memory",
        ),
        ("out of memory", "the GPU has too little free memory"),
        (
            "CUDA_ERROR_NO_BINARY_FOR_GPU",
            "this build has no code for this GPU's generation",
        ),
    ];
    for (code, words) in known {
        if first.contains(code) {
            return words.to_string();
        }
    }
    let mut short: String = first.chars().take(160).collect();
    if short.len() < first.len() {
        short.push('…');
    }
    if short.is_empty() {
        "an unknown error".into()
    } else {
        short
    }
}

/// Opens the device for `choice`, falling back to the CPU with a note of
/// one sentence. Opening a GPU can take a while: call this on a worker.
pub fn select(choice: DeviceChoice) -> Selected {
    if let Some(note) = build_note(choice) {
        return Selected::cpu(Some(note));
    }
    match choice {
        DeviceChoice::Cpu => Selected::cpu(None),
        DeviceChoice::Auto => {
            let gpu = if BUILT_WITH_CUDA {
                Device::new_cuda(0).ok()
            } else if BUILT_WITH_METAL {
                Device::new_metal(0).ok()
            } else {
                None
            };
            gpu.map_or_else(|| Selected::cpu(None), Selected::gpu)
        }
        DeviceChoice::Cuda(n) => match Device::new_cuda(n) {
            Ok(device) => Selected::gpu(device),
            Err(e) => Selected::cpu(Some(format!(
                "CUDA GPU {n} could not be used ({}); using the CPU.",
                plain_reason(&e)
            ))),
        },
        DeviceChoice::Metal => match Device::new_metal(0) {
            Ok(device) => Selected::gpu(device),
            Err(e) => Selected::cpu(Some(format!(
                "The Metal GPU could not be used ({}); using the CPU.",
                plain_reason(&e)
            ))),
        },
    }
}

/// Loads a model with `load` on the device for `choice`; when a GPU was
/// chosen and loading there fails (too little memory, a kernel the
/// driver refuses), loads it on the CPU instead, with a sentence saying
/// why in the returned [`Selected`]'s note.
pub fn load_on<T, E: fmt::Display>(
    choice: DeviceChoice,
    compute: ComputeType,
    load: impl Fn(&crate::tasks::nn::Placement) -> Result<T, E>,
) -> Result<(T, Selected), E> {
    let selected = select(choice);
    let place = |device: &Device| crate::tasks::nn::Placement {
        compute,
        ..crate::tasks::nn::Placement::new(device)
    };
    match load(&place(&selected.device)) {
        Ok(t) => Ok((t, selected)),
        Err(e) if !selected.device.is_cpu() => {
            let note = format!(
                "The model could not be loaded on the {} ({}); using the CPU.",
                selected.describe(),
                plain_reason(&e)
            );
            let t = load(&place(&Device::Cpu))?;
            Ok((t, Selected::cpu(Some(note))))
        }
        Err(e) => Err(e),
    }
}

/// A compute device this build and machine offer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Offered {
    /// What to pass to `--device` or choose in Settings.
    pub choice: String,
    /// "CPU (2 threads)", "NVIDIA H200".
    pub name: String,
    /// The device's memory in bytes, where known.
    pub memory_bytes: Option<u64>,
}

impl Offered {
    /// "cuda:0 — NVIDIA H200, 139.8 GiB".
    pub fn describe(&self) -> String {
        match self.memory_bytes {
            Some(b) => format!(
                "{} — {}, {:.1} GiB",
                self.choice,
                self.name,
                b as f64 / (1u64 << 30) as f64
            ),
            None => format!("{} — {}", self.choice, self.name),
        }
    }
}

/// What this build and machine offer (the CPU always; CUDA GPUs by name
/// and memory; Metal), and a sentence for each back end that is built in
/// but cannot be used here. Opens every GPU: call it on a worker.
pub fn offered() -> (Vec<Offered>, Vec<String>) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = vec![Offered {
        choice: "cpu".into(),
        name: format!("CPU ({threads} threads)"),
        memory_bytes: None,
    }];
    let mut notes = Vec::new();
    #[cfg(feature = "cuda")]
    {
        use candle_core::cuda_backend::cudarc::driver::CudaContext;
        match CudaContext::device_count() {
            Ok(0) => notes.push("No NVIDIA GPU was found.".to_string()),
            Ok(n) => {
                for i in 0..n.max(0) as usize {
                    match CudaContext::new(i) {
                        Ok(ctx) => out.push(Offered {
                            choice: DeviceChoice::Cuda(i).to_string(),
                            name: ctx.name().unwrap_or_else(|_| format!("CUDA GPU {i}")),
                            memory_bytes: ctx.total_mem().ok().map(|m| m as u64),
                        }),
                        Err(e) => notes.push(format!(
                            "CUDA GPU {i} cannot be used ({}).",
                            plain_reason(&e)
                        )),
                    }
                }
            }
            Err(e) => notes.push(format!("No NVIDIA GPU can be used ({}).", plain_reason(&e))),
        }
    }
    #[cfg(not(feature = "cuda"))]
    notes.push("This copy of Spaceport was built without NVIDIA GPU (CUDA) support.".into());
    if BUILT_WITH_METAL {
        match Device::new_metal(0) {
            Ok(_) => out.push(Offered {
                choice: "metal".into(),
                name: "Metal GPU".into(),
                memory_bytes: None,
            }),
            Err(e) => notes.push(format!(
                "The Metal GPU cannot be used ({}).",
                plain_reason(&e)
            )),
        }
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_fallback() {
        assert_eq!("cuda:1".parse::<DeviceChoice>(), Ok(DeviceChoice::Cuda(1)));
        assert_eq!("CPU".parse::<DeviceChoice>(), Ok(DeviceChoice::Cpu));
        assert!("tpu".parse::<DeviceChoice>().is_err());
        for c in ComputeType::ALL {
            assert_eq!(c.to_string().parse::<ComputeType>(), Ok(c));
        }
        assert_eq!("F16".parse::<ComputeType>(), Ok(ComputeType::Float16));
        assert!("int4".parse::<ComputeType>().unwrap_err().contains("int8"));
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
        let s = select(DeviceChoice::Cpu);
        assert!(s.device.is_cpu() && s.fallback_note.is_none());
        if !BUILT_WITH_CUDA {
            let s = select(DeviceChoice::Cuda(0));
            assert!(s.device.is_cpu());
            let note = s.fallback_note.unwrap();
            assert!(note.contains("without NVIDIA GPU support"), "{note}");
            assert!(!note.contains('\n'));
        }
        assert!(select(DeviceChoice::Auto).fallback_note.is_none());
    }

    #[test]
    fn settings_saved_before_auto_meant_fastest_keep_their_meaning() {
        // Before `default` existed, the checkpoint's own format was saved as
        // "Auto"; it still reads as that, and "auto" is saved anew.
        let old: ComputeType = serde_json::from_str("\"Auto\"").unwrap();
        assert_eq!(old, ComputeType::Default);
        for c in ComputeType::ALL {
            let saved = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<ComputeType>(&saved).unwrap(), c);
        }
        assert_eq!(ComputeType::default(), ComputeType::Default);
    }

    #[test]
    fn gpu_errors_are_one_plain_clause() {
        let e = "DriverError(CUDA_ERROR_NO_DEVICE, \"no CUDA-capable device is detected\")\n   0: candle_core::error::Error::bt\n   1: …";
        assert_eq!(plain_reason(&e), "the NVIDIA driver found no GPU");
        let e = "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")";
        assert_eq!(plain_reason(&e), "the GPU has too little free memory");
        let long = format!("{}\nbacktrace", "x".repeat(300));
        let r = plain_reason(&long);
        assert!(r.chars().count() <= 161 && !r.contains('\n'));
        // A failed GPU load falls back to the CPU with a sentence.
        let (v, s) = load_on(DeviceChoice::Cpu, ComputeType::Int8, |p| {
            assert_eq!(p.compute, ComputeType::Int8, "the compute type travels");
            if p.device.is_cpu() {
                Ok::<_, String>(1)
            } else {
                Err("no".into())
            }
        })
        .unwrap();
        assert_eq!((v, s.describe()), (1, "CPU".to_string()));
    }

    #[test]
    fn the_cpu_is_always_offered() {
        let (offered, notes) = offered();
        assert_eq!(offered[0].choice, "cpu");
        assert!(offered[0].name.starts_with("CPU ("));
        if !BUILT_WITH_CUDA {
            assert!(notes.iter().any(|n| n.contains("without NVIDIA GPU")));
        }
    }
}
