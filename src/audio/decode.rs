//! Audio files to 16 kHz mono samples: symphonia reads WAV, FLAC, MP3,
//! OGG/Vorbis and M4A/AAC in any sample rate and channel count; channels
//! are averaged and the result resampled with [`super::resample`]. A file
//! that is not audio, holds no sound, or ends early says so in words.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::resample::resample;

/// Decoded audio, mono at the requested rate.
#[derive(Clone, Debug)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate_hz: u32,
    /// The file's own rate and channels.
    pub source_rate_hz: u32,
    pub source_channels: usize,
    /// The file ended before its header said it would, or had damaged
    /// packets; what could be read is in `samples`.
    pub damaged: bool,
}

impl Audio {
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate_hz.max(1) as f64
    }
}

/// The file name endings of the audio files Spaceport opens (what the file
/// dialogs offer).
pub const AUDIO_EXTENSIONS: [&str; 10] = [
    "wav", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac", "opus", "webm",
];

/// Why a file could not be used, in words.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path} was not found.")]
    Missing { path: String },
    #[error("Could not open {path}: {reason}.")]
    Open { path: String, reason: String },
    #[error(
        "{path} is not an audio file Spaceport can read (it reads WAV, FLAC, MP3, OGG/Vorbis and M4A/AAC)."
    )]
    NotAudio { path: String },
    #[error("{path} is empty.")]
    Empty { path: String },
    #[error("{path} contains no sound that could be decoded.")]
    NoSound { path: String },
    #[error("{path} is damaged: {reason}.")]
    Damaged { path: String, reason: String },
    #[error("{path} uses an audio codec Spaceport can't decode.")]
    UnsupportedCodec { path: String },
    #[error(
        "{path} is Opus audio, which Spaceport can't decode yet; convert it to FLAC, WAV or MP3 (for example with ffmpeg)."
    )]
    Opus { path: String },
}

impl AudioError {
    /// Whether the file is not there at all (rather than unreadable).
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Missing { .. })
    }
}

/// Decodes `path` to mono at `rate_hz`.
pub fn decode_file(path: &Path, rate_hz: u32) -> Result<Audio, AudioError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => AudioError::Missing {
            path: shown.clone(),
        },
        _ => AudioError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        },
    })?;
    if file.metadata().map(|m| m.len()).unwrap_or(1) == 0 {
        return Err(AudioError::Empty { path: shown });
    }
    // A damaged header can make a third-party decoder panic (a zero
    // sample rate inside symphonia's WAV reader): that is a damaged file.
    crate::work::catch_panic(|| decode_stream(file, path, &shown, rate_hz)).unwrap_or_else(|why| {
        Err(AudioError::Damaged {
            path: shown.clone(),
            reason: why,
        })
    })
}

/// Decodes a file's bytes held in memory (a dataset's audio cell) to mono
/// at `rate_hz`; `name` (its path or file name) gives the format hint and
/// names it in messages.
pub fn decode_bytes(bytes: Vec<u8>, name: &str, rate_hz: u32) -> Result<Audio, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty { path: name.into() });
    }
    let source = Box::new(std::io::Cursor::new(bytes));
    crate::work::catch_panic(|| decode_source(source, Path::new(name), name, rate_hz))
        .unwrap_or_else(|why| {
            Err(AudioError::Damaged {
                path: name.into(),
                reason: why,
            })
        })
}

/// A sound's length in seconds from its header alone (frames ÷ rate),
/// when the header says; nothing is decoded. For showing a dataset's
/// audio cells.
pub fn duration_of(bytes: &[u8], name: &str) -> Option<f64> {
    let source = Box::new(std::io::Cursor::new(bytes.to_vec()));
    crate::work::catch_panic(|| {
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = Path::new(name).extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .ok()?;
        let track = probed
            .format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)?;
        let rate = track.codec_params.sample_rate.filter(|r| *r > 0)?;
        let frames = track.codec_params.n_frames?;
        Some(frames as f64 / f64::from(rate))
    })
    .ok()
    .flatten()
}

fn decode_stream(file: File, path: &Path, shown: &str, rate_hz: u32) -> Result<Audio, AudioError> {
    decode_source(Box::new(file), path, shown, rate_hz)
}

fn decode_source(
    source: Box<dyn symphonia::core::io::MediaSource>,
    path: &Path,
    shown: &str,
    rate_hz: u32,
) -> Result<Audio, AudioError> {
    let shown = shown.to_string();
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|_| AudioError::NotAudio {
            path: shown.clone(),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::NotAudio {
            path: shown.clone(),
        })?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|_| {
            if params.codec == symphonia::core::codecs::CODEC_TYPE_OPUS {
                AudioError::Opus {
                    path: shown.clone(),
                }
            } else {
                AudioError::UnsupportedCodec {
                    path: shown.clone(),
                }
            }
        })?;
    if params.sample_rate == Some(0) || params.channels.is_some_and(|c| c.count() == 0) {
        return Err(AudioError::Damaged {
            path: shown,
            reason: "its header gives no sample rate or no channels".into(),
        });
    }
    let mut source_rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.map(|c| c.count()).unwrap_or(0);
    let mut mono: Vec<f32> = Vec::new();
    let mut damaged = false;
    let mut buf: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(_) => {
                damaged = true;
                break;
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged packet: skip it, as players do.
            Err(SymError::DecodeError(_)) => {
                damaged = true;
                continue;
            }
            Err(SymError::IoError(_)) => {
                damaged = true;
                break;
            }
            Err(_) => {
                damaged = true;
                break;
            }
        };
        let spec = *decoded.spec();
        source_rate = spec.rate;
        channels = spec.channels.count().max(1);
        let b = match &mut buf {
            Some(b) if b.capacity() >= decoded.capacity() * channels => b,
            _ => buf.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        b.copy_interleaved_ref(decoded);
        for frame in b.samples().chunks_exact(channels) {
            mono.push(frame.iter().sum::<f32>() / channels as f32);
        }
    }
    if let Some(n) = params.n_frames
        && (mono.len() as u64) < n
    {
        damaged = true;
    }
    if mono.is_empty() || source_rate == 0 {
        return Err(AudioError::NoSound { path: shown });
    }
    Ok(Audio {
        samples: resample(&mono, source_rate, rate_hz),
        sample_rate_hz: rate_hz,
        source_rate_hz: source_rate,
        source_channels: channels,
        damaged,
    })
}
