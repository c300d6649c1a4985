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

/// The audio host for microphones and playback: ALSA on Linux (whose
/// default device is the sound server's where one runs), as before cpal's
/// PulseAudio host was built in — that one (its own buffering) is used
/// only for this computer's sound ([`capture::SYSTEM_SOUND`]);
/// elsewhere the platform's default.
pub fn host() -> cpal::Host {
    #[cfg(target_os = "linux")]
    if let Ok(h) = cpal::host_from_id(cpal::HostId::Alsa) {
        return h;
    }
    cpal::default_host()
}
