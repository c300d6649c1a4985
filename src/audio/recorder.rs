//! [`Recorder`]: the one way Spaceport records, shared by the window and
//! the CLI. It owns the microphone on a named thread (cpal streams stay on
//! the thread that opened them) and yields 16 kHz mono chunks, with the
//! level and lost-sample count, over a bounded channel; the device's rate
//! and channel count never leave it. A device failure arrives on the same
//! channel, after the audio that came before it. Stopping it, or dropping
//! it, ends the recording and releases the microphone.

use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Duration;

use crate::audio::capture::{Capture, CaptureError, level_dbfs};
use crate::audio::resample::StreamResampler;
use crate::work::{CancelToken, spawn_named};

/// The rate every recording is delivered at (Whisper's).
pub const RATE_HZ: u32 = 16_000;

/// How often the microphone's buffer is read.
const READ_EVERY: Duration = Duration::from_millis(50);

/// Chunks the channel holds (10 s at one chunk per 50 ms) before the
/// recorder waits for its reader.
const QUEUE: usize = 200;

/// One piece of a recording.
#[derive(Debug)]
pub enum Recorded {
    /// Audio since the last chunk at [`RATE_HZ`], mono.
    Audio(Chunk),
    /// The device failed; everything recorded before arrived already.
    Failed(CaptureError),
}

/// Audio since the last chunk, and how the recording is going.
#[derive(Clone, Debug)]
pub struct Chunk {
    pub samples: Vec<f32>,
    /// The chunk's peak level in dBFS (−∞ for silence), for a meter.
    pub dbfs: f32,
    /// Seconds recorded so far, this chunk included.
    pub seconds: f32,
    /// Samples lost so far because reading fell behind.
    pub lost: u64,
}

/// What was opened.
#[derive(Clone, Debug)]
pub struct InputInfo {
    pub device: String,
    pub rate_hz: u32,
    pub channels: usize,
}

/// A recording in progress. Its chunks come from [`Recorder::chunks`];
/// after [`Recorder::stop`] (or the device failing) the channel hangs up
/// once the last audio is delivered.
pub struct Recorder {
    chunks: Receiver<Recorded>,
    stop: CancelToken,
    pub info: InputInfo,
}

impl Recorder {
    /// Opens `device` (or the system's default input) and starts
    /// recording; an error says in words why the microphone can't be used.
    pub fn start(device: Option<&str>) -> Result<Self, CaptureError> {
        Self::start_with(device, CancelToken::new())
    }

    /// As [`Recorder::start`], stopped when `stop` fires (from any thread).
    pub fn start_with(device: Option<&str>, stop: CancelToken) -> Result<Self, CaptureError> {
        let (tx, chunks) = sync_channel(QUEUE);
        let (opened_tx, opened) = sync_channel(1);
        let (name, stop2) = (device.map(str::to_string), stop.clone());
        spawn_named("spaceport-record", move || {
            let mut cap = match Capture::open(name.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                    return;
                }
            };
            let info = InputInfo {
                device: cap.device.clone(),
                rate_hz: cap.sample_rate_hz,
                channels: cap.channels,
            };
            if opened_tx.send(Ok(info)).is_err() {
                return;
            }
            let mut resampler = StreamResampler::new(cap.sample_rate_hz, RATE_HZ);
            let mut made = 0usize;
            let mut chunk = |raw: Vec<f32>, end: bool, lost: u64| {
                let dbfs = level_dbfs(&raw);
                let mut samples = resampler.push(&raw);
                if end {
                    samples.extend(resampler.finish());
                }
                made += samples.len();
                Recorded::Audio(Chunk {
                    samples,
                    dbfs,
                    seconds: made as f32 / RATE_HZ as f32,
                    lost,
                })
            };
            loop {
                std::thread::sleep(READ_EVERY);
                let stopping = stop2.is_cancelled();
                match cap.take() {
                    // A send fails once the reader has gone: stop then too.
                    Ok(raw) => {
                        if tx.send(chunk(raw, stopping, cap.overflowed())).is_err() || stopping {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(chunk(Vec::new(), true, cap.overflowed()));
                        let _ = tx.send(Recorded::Failed(e));
                        return;
                    }
                }
            }
        })
        .map_err(|e| CaptureError::Open(format!("no thread could be started: {e}")))?;
        let info = opened
            .recv()
            .map_err(|_| CaptureError::Open("the recording thread ended".into()))??;
        Ok(Self { chunks, stop, info })
    }

    /// Plays `samples` (16 kHz mono, a decoded file called `name`)
    /// through the recorder's channel at real-time speed, as if spoken
    /// into a microphone: a file tried in the live chain. Ends at the end
    /// of the sound, or when `stop` fires.
    pub fn replay(samples: Vec<f32>, name: &str, stop: CancelToken) -> Result<Self, CaptureError> {
        let (tx, chunks) = sync_channel(QUEUE);
        let stop2 = stop.clone();
        spawn_named("spaceport-replay", move || {
            let started = std::time::Instant::now();
            let step = (RATE_HZ as usize / 20).max(1); // 50 ms
            let mut sent = 0usize;
            for piece in samples.chunks(step) {
                if stop2.is_cancelled() {
                    break;
                }
                // Each chunk leaves when its last sample would have been
                // heard.
                let due = Duration::from_secs_f64((sent + piece.len()) as f64 / RATE_HZ as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
                sent += piece.len();
                let chunk = Chunk {
                    samples: piece.to_vec(),
                    dbfs: level_dbfs(piece),
                    seconds: sent as f32 / RATE_HZ as f32,
                    lost: 0,
                };
                if tx.send(Recorded::Audio(chunk)).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| CaptureError::Open(format!("no thread could be started: {e}")))?;
        Ok(Self {
            chunks,
            stop,
            info: InputInfo {
                device: name.to_string(),
                rate_hz: RATE_HZ,
                channels: 1,
            },
        })
    }

    /// The recording's chunks, in order.
    pub fn chunks(&self) -> &Receiver<Recorded> {
        &self.chunks
    }

    /// A token that stops the recording when cancelled (for another thread).
    pub fn stopper(&self) -> CancelToken {
        self.stop.clone()
    }

    /// Ends the recording: the audio up to now still arrives, then the
    /// channel hangs up.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Records until `seconds` have passed or `stop` fires, and returns
    /// all of it at [`RATE_HZ`] with a note when the device failed or
    /// samples were lost.
    pub fn record_for(self, seconds: f64, stop: &CancelToken) -> (Vec<f32>, Option<String>, u64) {
        let started = std::time::Instant::now();
        let mut samples = Vec::new();
        let (mut note, mut lost) = (None, 0);
        loop {
            if started.elapsed().as_secs_f64() >= seconds || stop.is_cancelled() {
                self.stop();
            }
            match self.chunks.recv_timeout(READ_EVERY * 4) {
                Ok(Recorded::Audio(c)) => {
                    samples.extend(c.samples);
                    lost = c.lost;
                }
                Ok(Recorded::Failed(e)) => note = Some(e.to_string()),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        (samples, note, lost)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
