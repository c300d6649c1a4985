//! Playing a sound through the system's default output with cpal — a
//! dataset's audio cell, decoded to the device's own rate and copied to
//! each of its channels. The real-time callback only copies samples
//! from a buffer it shares with nobody and counts how far it got; the
//! stream lives on its own thread (`spaceport-play`), since cpal streams
//! stay on the thread that made them, until the sound ends or
//! [`Playback::stop`] is called (or the playback is dropped).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use crate::work::{CancelToken, spawn_named};

/// Why a sound could not be played, in words.
#[derive(Debug, thiserror::Error)]
pub enum PlaybackError {
    #[error("No speakers or headphones were found to play the sound on.")]
    NoDevice,
    #[error("The sound output could not be opened ({0}).")]
    Open(String),
    #[error("{0}")]
    Audio(#[from] super::decode::AudioError),
}

/// A sound playing. Dropping it stops the sound.
pub struct Playback {
    stop: CancelToken,
    done: Arc<AtomicBool>,
    position: Arc<AtomicUsize>,
    frames: usize,
    rate_hz: u32,
    stalled: Arc<AtomicBool>,
    /// The output's last complaint.
    error: Arc<Mutex<Option<String>>>,
}

/// How long a stream may take no sound before it counts as failed.
const STALL: Duration = Duration::from_secs(3);

impl Playback {
    /// Decodes `bytes` (a sound file held in memory, called `name`) and
    /// starts playing it on the default output device; returns once it
    /// plays, or why it can't.
    pub fn start(bytes: Vec<u8>, name: &str) -> Result<Playback, PlaybackError> {
        let stop = CancelToken::new();
        let done = Arc::new(AtomicBool::new(false));
        let position = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = channel::<Result<(usize, u32), PlaybackError>>();
        let stalled = Arc::new(AtomicBool::new(false));
        let error = Arc::new(Mutex::new(None));
        let (s, d, p, p2) = (
            stop.clone(),
            done.clone(),
            position.clone(),
            position.clone(),
        );
        let (st, e1, e2) = (stalled.clone(), error.clone(), error.clone());
        let name = name.to_string();
        spawn_named("spaceport-play", move || {
            let opened = open(bytes, &name, d.clone(), p, e1);
            let (stream, frames, rate) = match opened {
                Ok(x) => x,
                Err(e) => {
                    d.store(true, Ordering::Release);
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok((frames, rate)));
            // Hold the stream until the sound ends, Stop, or it stalls (no
            // sample taken for a few seconds: the output is not working).
            let mut last = (usize::MAX, std::time::Instant::now());
            while !s.is_cancelled() && !d.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(20));
                let at = p2.load(Ordering::Relaxed);
                if at != last.0 {
                    last = (at, std::time::Instant::now());
                } else if last.1.elapsed() > STALL {
                    if let Ok(mut slot) = e2.lock() {
                        let why = slot
                            .take()
                            .unwrap_or_else(|| "it stopped taking sound".into());
                        *slot = Some(format!("The sound output stopped ({why})."));
                    }
                    st.store(true, Ordering::Release);
                    break;
                }
            }
            // Let the device play out the last buffer before closing.
            if !s.is_cancelled() {
                std::thread::sleep(Duration::from_millis(150));
            }
            drop(stream);
            d.store(true, Ordering::Release);
        })
        .map_err(|e| PlaybackError::Open(e.to_string()))?;
        match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok((frames, rate_hz))) => Ok(Playback {
                stop,
                done,
                position,
                frames,
                rate_hz,
                stalled,
                error,
            }),
            Ok(Err(e)) => Err(e),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                stop.cancel();
                Err(PlaybackError::Open(
                    "the sound system did not answer".into(),
                ))
            }
        }
    }

    /// Stops the sound now.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Whether the sound has ended (or was stopped).
    pub fn finished(&self) -> bool {
        self.done.load(Ordering::Acquire) || self.stop.is_cancelled()
    }

    /// Why the sound stopped before its end (the output stalled or went
    /// away), if it did.
    pub fn failure(&self) -> Option<String> {
        let stalled = self.stalled.load(Ordering::Acquire);
        let cut_short = self.done.load(Ordering::Acquire)
            && !self.stop.is_cancelled()
            && self.position.load(Ordering::Relaxed) < self.frames;
        if !stalled && !cut_short {
            return None;
        }
        Some(
            self.error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_else(|| "The sound output stopped.".into()),
        )
    }

    /// Seconds played, and the sound's length.
    pub fn progress(&self) -> (f64, f64) {
        let rate = f64::from(self.rate_hz.max(1));
        (
            self.position.load(Ordering::Relaxed).min(self.frames) as f64 / rate,
            self.frames as f64 / rate,
        )
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Opens the default output, decodes to its rate and starts the stream:
/// the stream, the sound's frames and the rate.
fn open(
    bytes: Vec<u8>,
    name: &str,
    done: Arc<AtomicBool>,
    position: Arc<AtomicUsize>,
    error: Arc<Mutex<Option<String>>>,
) -> Result<(cpal::Stream, usize, u32), PlaybackError> {
    let host = crate::audio::host();
    let device = host
        .default_output_device()
        .ok_or(PlaybackError::NoDevice)?;
    let supported = device
        .default_output_config()
        .map_err(|e| PlaybackError::Open(e.to_string()))?;
    let config = supported.config();
    let rate = config.sample_rate;
    if rate == 0 || config.channels == 0 {
        return Err(PlaybackError::Open(
            "the device reports no sample rate or channels".into(),
        ));
    }
    let audio = super::decode::decode_bytes(bytes, name, rate)?;
    let frames = audio.samples.len();
    let samples: Arc<[f32]> = audio.samples.into();
    let channels = usize::from(config.channels);
    let (d, p, e) = (done, position, error);
    let stream = match supported.sample_format() {
        SampleFormat::F32 => build::<f32>(&device, config, samples, channels, d, p, e),
        SampleFormat::I16 => build::<i16>(&device, config, samples, channels, d, p, e),
        SampleFormat::I32 => build::<i32>(&device, config, samples, channels, d, p, e),
        SampleFormat::U16 => build::<u16>(&device, config, samples, channels, d, p, e),
        SampleFormat::U8 => build::<u8>(&device, config, samples, channels, d, p, e),
        SampleFormat::I8 => build::<i8>(&device, config, samples, channels, d, p, e),
        SampleFormat::F64 => build::<f64>(&device, config, samples, channels, d, p, e),
        other => {
            return Err(PlaybackError::Open(format!(
                "its sample format {other} is not supported"
            )));
        }
    }
    .map_err(|e| PlaybackError::Open(e.to_string()))?;
    stream
        .play()
        .map_err(|e| PlaybackError::Open(e.to_string()))?;
    Ok((stream, frames, rate))
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    samples: Arc<[f32]>,
    channels: usize,
    done: Arc<AtomicBool>,
    position: Arc<AtomicUsize>,
    last_error: Arc<Mutex<Option<String>>>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let mut at = 0usize;
    let failed = done.clone();
    device.build_output_stream::<T, _, _>(
        config,
        move |out: &mut [T], _| {
            // Real-time: copy, nothing else.
            for frame in out.chunks_mut(channels) {
                let s = samples.get(at).copied();
                let v = T::from_sample(s.unwrap_or(0.0));
                frame.fill(v);
                if s.is_some() {
                    at += 1;
                }
            }
            position.store(at, Ordering::Relaxed);
            if at >= samples.len() {
                done.store(true, Ordering::Release);
            }
        },
        move |e: cpal::Error| {
            // A glitch (an underrun, the route changing, a sound server
            // slow to answer) is not the end; a device that went away is.
            // A stream that stops moving is ended by its holder.
            use cpal::ErrorKind as K;
            if let Ok(mut slot) = last_error.lock() {
                *slot = Some(e.to_string());
            }
            if matches!(
                e.kind(),
                K::DeviceNotAvailable | K::HostUnavailable | K::StreamInvalidated
            ) {
                failed.store(true, Ordering::Release);
            }
        },
        None,
    )
}
