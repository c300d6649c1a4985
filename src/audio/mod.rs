//! Audio in and out: files decoded with symphonia ([`decode`]), a
//! band-limited resampler for whole buffers and streams ([`resample`]),
//! the microphone through cpal ([`capture`]: the real-time callback and
//! its ring buffer) and [`recorder::Recorder`], which the window and the
//! CLI record with (16 kHz mono chunks over a bounded channel); a sound
//! played on the default output ([`playback`]). Voice activity detection
//! lives with live dictation in `tasks::transcribe::live`.

pub mod capture;
pub mod decode;
pub mod playback;
pub mod recorder;
pub mod resample;
