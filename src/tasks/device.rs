//! The compute device, chosen once for every task: `auto`, `cpu`,
//! `cuda[:N]` or `metal`. A GPU asked for but missing — absent from this
//! build (the `cuda`/`metal` cargo features) or from this machine — falls
//! back to the CPU with a sentence saying why.

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
                    format!("\"{s}\" is not a device: use auto, cpu, cuda, cuda:N or metal")
                }),
        }
    }
}

/// The device to run on, and a note when it is not what was asked for.
pub struct Selected {
    pub device: Device,
    pub fallback_note: Option<String>,
}

impl Selected {
    /// "CPU", "CUDA GPU 0" or "Metal GPU".
    pub fn describe(&self) -> String {
        match &self.device {
            Device::Cpu => "CPU".to_string(),
            Device::Cuda(_) => "CUDA GPU".to_string(),
            Device::Metal(_) => "Metal GPU".to_string(),
        }
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
            "This build of Spaceport has no CUDA support, so cuda:{n} is not available; using the CPU. Build with `--features cuda` to use an NVIDIA GPU."
        )),
        DeviceChoice::Metal if !BUILT_WITH_METAL => Some(
            "This build of Spaceport has no Metal support; using the CPU. Build with `--features metal` on a Mac to use its GPU.".to_string(),
        ),
        _ => None,
    }
}

/// Opens the device for `choice`, falling back to the CPU with a note.
/// Opening a GPU can take a while: call this on a worker thread.
pub fn select(choice: DeviceChoice) -> Selected {
    if let Some(note) = build_note(choice) {
        return Selected {
            device: Device::Cpu,
            fallback_note: Some(note),
        };
    }
    let cpu = |note: String| Selected {
        device: Device::Cpu,
        fallback_note: Some(note),
    };
    match choice {
        DeviceChoice::Cpu => Selected {
            device: Device::Cpu,
            fallback_note: None,
        },
        DeviceChoice::Auto => {
            let gpu = if BUILT_WITH_CUDA {
                Device::new_cuda(0).ok()
            } else if BUILT_WITH_METAL {
                Device::new_metal(0).ok()
            } else {
                None
            };
            Selected {
                device: gpu.unwrap_or(Device::Cpu),
                fallback_note: None,
            }
        }
        DeviceChoice::Cuda(n) => match Device::new_cuda(n) {
            Ok(device) => Selected {
                device,
                fallback_note: None,
            },
            Err(e) => cpu(format!(
                "CUDA GPU {n} could not be opened ({e}); using the CPU."
            )),
        },
        DeviceChoice::Metal => match Device::new_metal(0) {
            Ok(device) => Selected {
                device,
                fallback_note: None,
            },
            Err(e) => cpu(format!(
                "The Metal GPU could not be opened ({e}); using the CPU."
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_fallback() {
        assert_eq!("cuda:1".parse::<DeviceChoice>(), Ok(DeviceChoice::Cuda(1)));
        assert_eq!("CPU".parse::<DeviceChoice>(), Ok(DeviceChoice::Cpu));
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
        let s = select(DeviceChoice::Cpu);
        assert!(s.device.is_cpu() && s.fallback_note.is_none());
        if !BUILT_WITH_CUDA {
            let s = select(DeviceChoice::Cuda(0));
            assert!(s.device.is_cpu());
            assert!(s.fallback_note.unwrap().contains("--features cuda"));
        }
        assert!(select(DeviceChoice::Auto).fallback_note.is_none());
    }
}
