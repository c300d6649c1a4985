//! Audio in: files decoded with symphonia ([`decode`]) and a band-limited
//! resampler ([`resample`]). Microphone capture and voice activity
//! detection will live here too.

pub mod capture;
pub mod decode;
pub mod resample;
