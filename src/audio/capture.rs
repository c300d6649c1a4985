//! The microphone: cpal input in whatever sample format the device offers
//! (f32, i16, i32, u16, …). The real-time callback only converts each
//! sample to f32 and copies it into a lock-free ring buffer (`ringbuf`),
//! counting what did not fit; down-mixing, the level meter and everything
//! else happen on the reading side.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};
use ringbuf::HeapRb;
use ringbuf::traits::{Consumer, Observer, Producer, Split};

/// Why the microphone could not be used, in words.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "No microphone was found. Connect one, or check that the system's sound server is running."
    )]
    NoDevice,
    #[error("There is no input device called \"{0}\". Use the device list to pick one.")]
    UnknownDevice(String),
    #[error(
        "The microphone could not be opened ({0}). Check that no other program holds it and that Spaceport may use it."
    )]
    Open(String),
    #[error("The microphone stopped ({0}); what was recorded so far is kept.")]
    Stopped(String),
}

/// ALSA's plugins that list themselves as devices but record nothing a
/// person would pick: the null sink ("Discard all samples"), sample-rate
/// converters, channel mixers, JACK and OSS bridges, digital outputs.
const NOT_MICROPHONES: &[&str] = &[
    "null",
    "lavrate",
    "samplerate",
    "speexrate",
    "upmix",
    "vdownmix",
    "jack",
    "oss",
    "a52",
    "dmix",
    "iec958",
    "surround",
    "hdmi",
    "usbstream",
];

/// Whether an input device can record speech: not one of ALSA's plugins
/// ([`NOT_MICROPHONES`], by PCM name or a prefix of it) and not a
/// playback-only device.
fn can_capture(pcm: &str, name: &str) -> bool {
    // "samplerate_best", "surround51", "hdmi:CARD=…": the plugin's name,
    // then a variant.
    let base = pcm.split(':').next().unwrap_or(pcm);
    let plugin = NOT_MICROPHONES.iter().any(|p| {
        base.strip_prefix(p).is_some_and(|rest| {
            rest.is_empty()
                || rest.starts_with('_')
                || rest.starts_with(|c: char| c.is_ascii_digit())
        })
    });
    !plugin && !name.to_ascii_lowercase().contains("(playback)")
}

/// A device name as a person would say it: ALSA's "Default ALSA Output
/// (currently PulseAudio Sound Server)" — which records too — becomes
/// "Default input (PulseAudio Sound Server)"; the sound servers' own
/// devices say what they are; sound cards keep their names.
pub fn friendly_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("Default ALSA Output (currently ") {
        return format!("Default input ({})", rest.trim_end_matches(')'));
    }
    match name {
        "PulseAudio Sound Server" => "Sound server (PulseAudio)".into(),
        "PipeWire Sound Server" => "Sound server (PipeWire)".into(),
        "Default Audio Device" | "default" => "Default input".into(),
        _ => name.to_string(),
    }
}

/// The input that records what the computer plays (a video call, a
/// video): the sound server's monitor of its default output.
pub const SYSTEM_SOUND: &str = "This computer's sound";

/// Why this computer's sound cannot be recorded here, in words.
pub const NO_SYSTEM_SOUND: &str = "This computer's sound cannot be recorded here: that needs a \
     PulseAudio or PipeWire sound server (its \"monitor\" of the speakers), which this system \
     does not have running.";

/// The monitor source of the sound server's default output, through
/// cpal's PulseAudio host (PipeWire answers it too): the device whose id
/// is the default sink's name and `.monitor`.
#[cfg(target_os = "linux")]
fn system_sound_device() -> Result<cpal::Device, CaptureError> {
    let host = cpal::host_from_id(cpal::HostId::PulseAudio)
        .map_err(|_| CaptureError::Open(NO_SYSTEM_SOUND.into()))?;
    let sink = host
        .default_output_device()
        .and_then(|d| d.id().ok())
        .ok_or_else(|| CaptureError::Open(NO_SYSTEM_SOUND.into()))?;
    let monitor = format!("{}.monitor", sink.id());
    host.input_devices()
        .map_err(|e| CaptureError::Open(e.to_string()))?
        .find(|d| d.id().is_ok_and(|id| id.id() == monitor))
        .ok_or_else(|| CaptureError::Open(NO_SYSTEM_SOUND.into()))
}

#[cfg(not(target_os = "linux"))]
fn system_sound_device() -> Result<cpal::Device, CaptureError> {
    Err(CaptureError::Open(
        "This computer's sound cannot be recorded on this system yet; play it aloud near the \
         microphone instead."
            .into(),
    ))
}

/// Whether this computer's sound can be recorded (a sound server with a
/// monitor of its default output answers).
pub fn system_sound_available() -> bool {
    system_sound_device().is_ok()
}

/// The names of the input devices that can record (the sound server's and
/// the sound cards', not ALSA's plugins), the default first, and
/// [`SYSTEM_SOUND`] last where the sound server offers it.
pub fn input_devices() -> Vec<String> {
    let mut names = microphones();
    if system_sound_available() {
        names.push(SYSTEM_SOUND.to_string());
    }
    names
}

fn microphones() -> Vec<String> {
    let host = crate::audio::host();
    let default = host.default_input_device().map(|d| d.to_string());
    let mut names: Vec<String> = host
        .input_devices()
        .map(|ds| {
            ds.filter_map(|d| {
                let desc = d.description().ok()?;
                let name = d.to_string();
                can_capture(desc.driver().unwrap_or_default(), &name).then_some(name)
            })
            .collect()
        })
        .unwrap_or_default();
    names.dedup();
    if let Some(d) = default {
        names.retain(|n| *n != d);
        names.insert(0, d);
    }
    names
}

/// An open microphone. Keep it on one thread (cpal streams are not `Send`
/// everywhere).
pub struct Capture {
    _stream: cpal::Stream,
    consumer: ringbuf::HeapCons<f32>,
    pub sample_rate_hz: u32,
    pub channels: usize,
    pub device: String,
    overflow: Arc<AtomicU64>,
    error: Arc<Mutex<Option<String>>>,
}

/// Seconds of audio the ring buffer holds before it overflows.
const BUFFER_SECS: usize = 10;

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut producer: ringbuf::HeapProd<f32>,
    overflow: Arc<AtomicU64>,
    error: Arc<Mutex<Option<String>>>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _| {
            // Real-time: convert and copy, nothing else.
            for &s in data {
                if producer.try_push(f32::from_sample(s)).is_err() {
                    overflow.fetch_add(1, Ordering::Relaxed);
                }
            }
        },
        move |e| {
            if let Ok(mut slot) = error.lock() {
                *slot = Some(e.to_string());
            }
        },
        None,
    )
}

impl Capture {
    /// Opens `name` (or the default input) and starts recording.
    pub fn open(name: Option<&str>) -> Result<Self, CaptureError> {
        let host = crate::audio::host();
        let device = match name {
            Some(SYSTEM_SOUND) => system_sound_device()?,
            Some(n) => host
                .input_devices()
                .map_err(|e| CaptureError::Open(e.to_string()))?
                .find(|d| d.to_string() == n)
                .ok_or_else(|| CaptureError::UnknownDevice(n.to_string()))?,
            None => host.default_input_device().ok_or(CaptureError::NoDevice)?,
        };
        let supported = device
            .default_input_config()
            .map_err(|e| CaptureError::Open(e.to_string()))?;
        let config = supported.config();
        let channels = config.channels as usize;
        let sample_rate_hz = config.sample_rate;
        let rb = HeapRb::<f32>::new((sample_rate_hz as usize * channels * BUFFER_SECS).max(1));
        let (producer, consumer) = rb.split();
        let overflow = Arc::new(AtomicU64::new(0));
        let error = Arc::new(Mutex::new(None));
        let (o, e) = (overflow.clone(), error.clone());
        let stream = match supported.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, config, producer, o, e),
            SampleFormat::I16 => build::<i16>(&device, config, producer, o, e),
            SampleFormat::I32 => build::<i32>(&device, config, producer, o, e),
            SampleFormat::U16 => build::<u16>(&device, config, producer, o, e),
            SampleFormat::U8 => build::<u8>(&device, config, producer, o, e),
            SampleFormat::I8 => build::<i8>(&device, config, producer, o, e),
            SampleFormat::F64 => build::<f64>(&device, config, producer, o, e),
            other => {
                return Err(CaptureError::Open(format!(
                    "its sample format {other} is not supported"
                )));
            }
        }
        .map_err(|e| CaptureError::Open(e.to_string()))?;
        stream
            .play()
            .map_err(|e| CaptureError::Open(e.to_string()))?;
        Ok(Self {
            _stream: stream,
            consumer,
            sample_rate_hz,
            channels,
            device: device.to_string(),
            overflow,
            error,
        })
    }

    /// Everything recorded since the last call, down-mixed to mono at the
    /// device's rate. An error from the device (unplugged) is returned
    /// once the buffer is drained.
    pub fn take(&mut self) -> Result<Vec<f32>, CaptureError> {
        let mut interleaved = vec![0f32; self.consumer.occupied_len()];
        let n = self.consumer.pop_slice(&mut interleaved);
        interleaved.truncate(n - n % self.channels.max(1));
        let mono: Vec<f32> = interleaved
            .chunks_exact(self.channels.max(1))
            .map(|f| f.iter().sum::<f32>() / f.len() as f32)
            .collect();
        if mono.is_empty()
            && let Ok(mut e) = self.error.lock()
            && let Some(msg) = e.take()
        {
            return Err(CaptureError::Stopped(msg));
        }
        Ok(mono)
    }

    /// Samples lost because the reader fell behind.
    pub fn overflowed(&self) -> u64 {
        self.overflow.load(Ordering::Relaxed)
    }
}

/// The peak level of `samples` in dBFS (−∞ for silence), for a meter.
pub fn level_dbfs(samples: &[f32]) -> f32 {
    let peak = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    20.0 * peak.log10()
}

#[cfg(test)]
mod tests {
    use super::can_capture;

    #[test]
    fn alsa_plugins_are_not_offered_as_microphones() {
        assert!(!can_capture(
            "null",
            "Discard all samples (playback) or generate zero samples (capture)"
        ));
        assert!(!can_capture(
            "samplerate_best",
            "Rate Converter Plugin Using Samplerate Library"
        ));
        assert!(!can_capture(
            "lavrate",
            "Rate Converter Plugin Using Libav/FFmpeg Library"
        ));
        assert!(!can_capture("upmix", "Plugin for channel upmix (4,6,8)"));
        assert!(!can_capture(
            "surround51:CARD=PCH",
            "HDA Intel PCH, ALC892 Analog"
        ));
        assert!(can_capture("pulse", "PulseAudio Sound Server"));
        assert!(can_capture(
            "default",
            "Default ALSA Output (currently PulseAudio Sound Server)"
        ));
        assert!(can_capture(
            "sysdefault:CARD=PCH",
            "HDA Intel PCH, ALC892 Analog"
        ));
        assert!(can_capture(
            "hw:CARD=PCH,DEV=0",
            "HDA Intel PCH, ALC892 Analog"
        ));
    }
}
