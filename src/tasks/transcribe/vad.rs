//! Where a recording has speech, for batched long-form transcription: an
//! energy voice-activity detector over the whole file ([`speech_regions`])
//! and the windows of at most 30 s that group the regions for decoding
//! together ([`windows`]), cut only in pauses, as faster-whisper's batched
//! pipeline groups Silero VAD's speech chunks (`merge_segments`).
//!
//! The whole file is known, so the noise floor is a low percentile of all
//! frames' levels rather than the running estimate live dictation keeps.

use std::ops::Range;

/// Frame length in seconds for the levels.
const FRAME_SECS: f64 = 0.02;

/// How speech is told from the rest; times in seconds.
#[derive(Clone, Debug)]
pub struct VadConfig {
    /// A frame is speech when this much louder than the noise floor…
    pub margin_db: f32,
    /// …and louder than this absolute level (dBFS RMS).
    pub min_db: f32,
    /// Speech this close together is one region (a breath, a stop
    /// consonant).
    pub bridge: f64,
    /// Regions with less speech than this (a click) are dropped.
    pub min_speech: f64,
    /// Quiet kept around each region, so soft onsets and endings survive.
    pub pad: f64,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            margin_db: 10.0,
            min_db: -50.0,
            bridge: 0.5,
            min_speech: 0.15,
            pad: 0.2,
        }
    }
}

/// A frame's RMS level in dBFS (−100 for digital silence).
pub(crate) fn rms_db(frame: &[f32]) -> f32 {
    let e = frame.iter().map(|x| x * x).sum::<f32>() / frame.len().max(1) as f32;
    (10.0 * e.max(1e-10).log10()).max(-100.0)
}

/// Frame levels (dBFS) of `samples` at `rate`, [`FRAME_SECS`] each, and
/// the frame length in samples.
fn levels(samples: &[f32], rate: u32) -> (Vec<f32>, usize) {
    let frame = ((rate as f64 * FRAME_SECS) as usize).max(1);
    (samples.chunks(frame).map(rms_db).collect(), frame)
}

/// The sample ranges of `samples` (mono, `rate` Hz) that hold speech,
/// in order and not overlapping.
pub fn speech_regions(samples: &[f32], rate: u32, cfg: &VadConfig) -> Vec<Range<usize>> {
    if samples.is_empty() || rate == 0 {
        return Vec::new();
    }
    let (db, frame) = levels(samples, rate);
    // The floor: the level the quietest tenth of the frames stay under.
    let mut sorted = db.clone();
    sorted.sort_by(f32::total_cmp);
    let floor = sorted[sorted.len() / 10];
    let threshold = (floor + cfg.margin_db).max(cfg.min_db);
    let frames = |secs: f64| (secs / FRAME_SECS).round() as usize;
    let (bridge, min_speech, pad) = (
        frames(cfg.bridge),
        frames(cfg.min_speech).max(1),
        frames(cfg.pad),
    );
    // Runs of voiced frames, bridged over short gaps.
    let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // start, end, voiced
    for (i, &l) in db.iter().enumerate() {
        if l <= threshold {
            continue;
        }
        match runs.last_mut() {
            Some((_, end, voiced)) if i - *end <= bridge => {
                *end = i + 1;
                *voiced += 1;
            }
            _ => runs.push((i, i + 1, 1)),
        }
    }
    let mut regions: Vec<Range<usize>> = Vec::new();
    for (s, e, voiced) in runs {
        if voiced < min_speech {
            continue;
        }
        let (s, e) = (s.saturating_sub(pad), (e + pad).min(db.len()));
        let r = (s * frame)..(e * frame).min(samples.len());
        match regions.last_mut() {
            Some(last) if r.start <= last.end => last.end = r.end,
            _ => regions.push(r),
        }
    }
    regions
}

/// Groups speech `regions` into windows of at most `max_len` samples:
/// consecutive regions join a window while it stays within `max_len`
/// (the quiet between them comes along, so times inside a window are
/// times in the recording less its start); a region longer than
/// `max_len` is cut at its quietest frame in the last third of each
/// window's length.
pub fn windows(
    regions: &[Range<usize>],
    samples: &[f32],
    rate: u32,
    max_len: usize,
) -> Vec<Range<usize>> {
    let max_len = max_len.max(1);
    let frame = ((rate as f64 * FRAME_SECS) as usize).max(1);
    // Long regions cut into pieces first.
    let mut pieces: Vec<Range<usize>> = Vec::new();
    for r in regions {
        let mut start = r.start;
        while r.end - start > max_len {
            // The quietest frame between two thirds of the way and the end.
            let from = start + max_len * 2 / 3;
            let to = start + max_len - frame;
            let cut = (from..to.max(from + 1))
                .step_by(frame)
                .min_by(|&a, &b| {
                    let n = samples.len();
                    let level = |at: usize| rms_db(&samples[at.min(n)..(at + frame).min(n)]);
                    level(a).total_cmp(&level(b))
                })
                .unwrap_or(start + max_len)
                .min(start + max_len);
            pieces.push(start..cut);
            start = cut;
        }
        if r.end > start {
            pieces.push(start..r.end);
        }
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    for p in pieces {
        match out.last_mut() {
            Some(w) if p.end - w.start <= max_len => w.end = p.end,
            _ => out.push(p),
        }
    }
    out
}

/// A segment's `(start, end)` (seconds) moved out of the quiet around it:
/// a start that falls between speech `regions` (seconds, in order) moves
/// on to where the next one begins, an end to where the last one ended,
/// as long as the segment keeps some length. Whisper's timestamps in a
/// window that begins at a voice's onset come on whole seconds (tiny.en
/// marks a sentence ending at 46.9 s as ending at 47.7 s); the detector
/// knows better where the quiet is.
pub fn snap(start: f64, end: f64, regions: &[(f64, f64)]) -> (f64, f64) {
    let inside = |t: f64| regions.iter().any(|&(a, b)| a <= t && t <= b);
    let mut s = start;
    if !inside(start)
        && let Some(&(a, _)) = regions.iter().find(|&&(a, _)| a > start)
        && a < end
    {
        s = a;
    }
    let mut e = end;
    if !inside(end)
        && let Some(&(_, b)) = regions.iter().rev().find(|&&(_, b)| b < end)
        && b > s
    {
        e = b;
    }
    (s, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 16_000;

    /// `secs` of a tone at `amp` (a stand-in for a voice), or of silence
    /// with faint noise when `amp` is 0.
    fn sound(secs: f64, amp: f32, seed: &mut u64) -> Vec<f32> {
        let n = (secs * RATE as f64) as usize;
        (0..n)
            .map(|i| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let noise = ((*seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.002;
                amp * (i as f32 * 0.07).sin() + noise
            })
            .collect()
    }

    fn secs(r: &Range<usize>) -> (f64, f64) {
        (r.start as f64 / RATE as f64, r.end as f64 / RATE as f64)
    }

    #[test]
    fn speech_between_pauses_is_found_where_it_is() {
        let mut seed = 7;
        let mut audio = sound(1.0, 0.0, &mut seed);
        audio.extend(sound(2.0, 0.3, &mut seed)); // 1.0 – 3.0
        audio.extend(sound(1.5, 0.0, &mut seed));
        audio.extend(sound(0.01, 0.5, &mut seed)); // a click at 4.5
        audio.extend(sound(1.5, 0.0, &mut seed));
        audio.extend(sound(3.0, 0.2, &mut seed)); // 6.01 – 9.01
        audio.extend(sound(1.0, 0.0, &mut seed));
        let regions = speech_regions(&audio, RATE, &VadConfig::default());
        assert_eq!(regions.len(), 2, "{regions:?}");
        let (a, b) = (secs(&regions[0]), secs(&regions[1]));
        assert!(
            (a.0 - 0.8).abs() < 0.05 && (a.1 - 3.2).abs() < 0.05,
            "{a:?}"
        );
        assert!(
            (b.0 - 5.81).abs() < 0.05 && (b.1 - 9.21).abs() < 0.05,
            "{b:?}"
        );
    }

    #[test]
    fn silence_and_an_empty_file_have_no_speech() {
        let mut seed = 1;
        let quiet = sound(5.0, 0.0, &mut seed);
        assert!(speech_regions(&quiet, RATE, &VadConfig::default()).is_empty());
        assert!(speech_regions(&[], RATE, &VadConfig::default()).is_empty());
        assert!(speech_regions(&quiet, 0, &VadConfig::default()).is_empty());
    }

    #[test]
    fn segment_edges_in_the_quiet_move_to_the_speech() {
        let regions = [(1.0, 4.0), (6.0, 9.0)];
        // Ends in the quiet after the first sentence, starts in it before
        // the second.
        assert_eq!(snap(0.9, 5.2, &regions), (1.0, 4.0));
        assert_eq!(snap(5.0, 9.5, &regions), (6.0, 9.0));
        // Inside speech: left alone; spanning both: the outer edges only.
        assert_eq!(snap(1.5, 3.0, &regions), (1.5, 3.0));
        assert_eq!(snap(0.5, 9.6, &regions), (1.0, 9.0));
        // Wholly in the quiet, or no regions: unchanged.
        assert_eq!(snap(4.2, 5.8, &regions), (4.2, 5.8));
        assert_eq!(snap(4.2, 5.8, &[]), (4.2, 5.8));
    }

    #[test]
    fn windows_group_regions_up_to_the_limit_and_cut_long_speech_in_its_quietest_place() {
        let rate = RATE as usize;
        let regions = vec![0..5 * rate, 8 * rate..20 * rate, 26 * rate..40 * rate];
        let audio = vec![0.0f32; 120 * rate];
        let w = windows(&regions, &audio, RATE, 30 * rate);
        assert_eq!(w, vec![0..20 * rate, 26 * rate..40 * rate]);
        // 70 s of speech with a dip at 25 s: cut there, then at most 30 s
        // pieces.
        let mut seed = 3;
        let mut long = sound(25.0, 0.3, &mut seed);
        long.extend(sound(0.1, 0.0, &mut seed));
        long.extend(sound(44.9, 0.3, &mut seed));
        let whole: Vec<Range<usize>> = std::iter::once(0..long.len()).collect();
        let w = windows(&whole, &long, RATE, 30 * rate);
        assert!(w.iter().all(|r| r.end - r.start <= 30 * rate), "{w:?}");
        assert_eq!(w.first().map(|r| r.start), Some(0));
        assert_eq!(w.last().map(|r| r.end), Some(long.len()));
        assert!(w.windows(2).all(|p| p[0].end == p[1].start), "{w:?}");
        let first_cut = secs(&w[0]).1;
        assert!((25.0..25.1).contains(&first_cut), "cut at {first_cut}");
    }
}
