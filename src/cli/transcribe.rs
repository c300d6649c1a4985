//! `spaceport transcribe`: the Transcribe panel without the window.

use clap::Args;

use super::translate::model_dir;
use super::{CliError, out};
use crate::audio::decode::decode_file;
use crate::catalog::Panel;
use crate::hub::Hub;
use crate::tasks::device::{self, DeviceChoice};
use crate::tasks::transcribe::Transcriber;
use crate::tasks::transcribe::decode::{Task, TranscribeOptions};
use crate::tasks::transcribe::formats::{Format, render};
use crate::work::CancelToken;

#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// Audio files (WAV, FLAC, MP3, OGG, M4A).
    #[arg(required_unless_present = "mic")]
    pub files: Vec<std::path::PathBuf>,
    /// Record from the microphone instead of reading files.
    #[arg(long)]
    pub mic: bool,
    /// How long to record with --mic.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// With --mic: dictate — partial text on stderr while speaking, each
    /// sentence on stdout when a pause ends it.
    #[arg(long, requires = "mic")]
    pub live: bool,
    /// The input device for --mic (default: the system's).
    #[arg(long)]
    pub input_device: Option<String>,
    /// A Hub model id (from the cache, downloaded if needed) or a local
    /// folder, in the Hugging Face or CTranslate2 layout.
    #[arg(long)]
    pub model: String,
    /// Spoken language code (en, de, …); detected when not given.
    #[arg(long)]
    pub language: Option<String>,
    /// transcribe, or translate into English.
    #[arg(long, default_value = "transcribe")]
    pub task: String,
    /// txt, srt, vtt or json.
    #[arg(long, default_value = "txt")]
    pub format: String,
    /// Text that sets the style and spelling of the transcript.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Beam search width (1 = greedy, the default).
    #[arg(long)]
    pub beam: Option<usize>,
    /// For audio longer than 30 s: find the speech, cut it in pauses into
    /// windows of at most 30 s and decode this many windows together,
    /// each without the text before it (faster; as faster-whisper's
    /// batched pipeline). 1, the default: one window after another.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub batch_size: u16,
    /// Time each word (Whisper's cross-attention alignment): `words`
    /// with `start`, `end`, `word` and `probability` in each JSON
    /// segment, a cue a word in SRT (the word underlined) and karaoke
    /// timestamps in VTT.
    #[arg(long)]
    pub word_timestamps: bool,
}

pub fn run(
    hub: &Hub,
    choice: DeviceChoice,
    compute: crate::tasks::device::ComputeType,
    args: TranscribeArgs,
) -> Result<(), CliError> {
    let format = Format::parse(&args.format).ok_or_else(|| {
        CliError::Input(format!(
            "Unknown format \"{}\": use txt, srt, vtt or json.",
            args.format
        ))
    })?;
    let task = match args.task.as_str() {
        "transcribe" => Task::Transcribe,
        "translate" => Task::Translate,
        other => {
            return Err(CliError::Input(format!(
                "Unknown task \"{other}\": use transcribe or translate."
            )));
        }
    };
    let dir = model_dir(hub, &args.model, Panel::Transcribe)?;
    let selected = device::select(choice);
    if let Some(note) = &selected.fallback_note {
        eprintln!("note: {note}");
    }
    let transcriber = Transcriber::load_placed(&dir, &super::placement(&selected, compute))?;
    if let Some(l) = &args.language
        && !transcriber.languages().is_empty()
        && !transcriber.languages().iter().any(|(c, _)| c == l)
    {
        return Err(CliError::Input(format!(
            "This model does not know the language \"{l}\"."
        )));
    }
    let opts = TranscribeOptions {
        language: args.language.clone(),
        task,
        initial_prompt: args.prompt.clone(),
        beam_size: args.beam,
        batch_size: Some(args.batch_size as usize),
        word_timestamps: args.word_timestamps,
        ..Default::default()
    };
    if args.mic && args.live {
        return dictate(&transcriber, &args, opts, format);
    }
    if args.mic {
        let samples = record(args.input_device.as_deref(), args.seconds)?;
        // Ctrl-C ended the recording; what was recorded is still
        // transcribed (a second Ctrl-C ends the program).
        let t = transcriber.transcribe(&samples, &opts, &CancelToken::new(), &mut |_, _| {})?;
        out!("{}", render(&t, format));
        return Ok(());
    }
    for file in &args.files {
        let audio = decode_file(file, 16000)?;
        if audio.damaged {
            eprintln!(
                "note: {} is damaged or ends early; transcribing the {:.1} s that could be read.",
                file.display(),
                audio.duration_secs()
            );
        }
        let t = transcriber.transcribe(
            &audio.samples,
            &opts,
            &crate::work::cancel_on_interrupt(),
            &mut |_, _| {},
        )?;
        out!("{}", render(&t, format));
    }
    Ok(())
}

/// Live dictation for `seconds`: partials on stderr, final sentences on
/// stdout as they come (txt), or the whole transcript at the end.
fn dictate(
    t: &Transcriber,
    args: &TranscribeArgs,
    opts: TranscribeOptions,
    format: Format,
) -> Result<(), CliError> {
    use crate::audio::recorder::{RATE_HZ, Recorded, Recorder};
    use crate::tasks::transcribe::decode::Transcript;
    use crate::tasks::transcribe::live::{LiveConfig, LiveDictation, LiveEvent, run_live};
    use std::io::{IsTerminal, Write};
    let recorder = Recorder::start(args.input_device.as_deref())?;
    let info = &recorder.info;
    eprintln!(
        "recording {:.0} s from {} ({} Hz, {} channels); speak, and pause between sentences",
        args.seconds, info.device, info.rate_hz, info.channels
    );
    // Ends the recording after `seconds`; the live loop then finalises.
    let (stop, seconds) = (recorder.stopper(), args.seconds);
    let timer = crate::work::spawn_named("spaceport-timer", move || {
        let started = std::time::Instant::now();
        // Ctrl-C ends the dictation early; what was said is finalised.
        let interrupt = crate::work::cancel_on_interrupt();
        while started.elapsed().as_secs_f64() < seconds
            && !stop.is_cancelled()
            && !interrupt.is_cancelled()
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        stop.cancel();
    })
    .map_err(|e| CliError::Failed(format!("Could not start recording: {e}.")))?;
    let mut lost = 0;
    let mut take = |r: Recorded| match r {
        Recorded::Audio(c) => {
            lost = c.lost;
            Some(c.samples)
        }
        Recorded::Failed(e) => {
            eprintln!("note: {e}");
            None
        }
    };
    let tty = std::io::stderr().is_terminal();
    let mut live = LiveDictation::new(RATE_HZ, opts, LiveConfig::default());
    let mut segments = Vec::new();
    let started = std::time::Instant::now();
    let chunks = recorder.chunks();
    let result = run_live(
        chunks,
        &mut take,
        &mut live,
        t,
        &CancelToken::new(),
        &mut |ev| match ev {
            LiveEvent::Partial { text, .. } => {
                if tty {
                    eprint!("\r\x1b[K… {text}");
                } else {
                    eprintln!("partial {:.2}: {text}", started.elapsed().as_secs_f64());
                }
            }
            LiveEvent::Final { segments: segs } => {
                if tty {
                    eprint!("\r\x1b[K");
                }
                if format == Format::Txt {
                    let mut out = std::io::stdout().lock();
                    for s in &segs {
                        let _ = writeln!(out, "{}", s.text);
                    }
                    let _ = out.flush();
                }
                segments.extend(segs);
            }
        },
    );
    recorder.stop();
    let _ = timer.join();
    if lost > 0 {
        eprintln!("note: {lost} samples were lost because reading fell behind.");
    }
    result?;
    if format != Format::Txt {
        let language = live.language.clone().unwrap_or_else(|| "en".into());
        let transcript = Transcript::from_segments(segments, language);
        out!("{}", render(&transcript, format));
    }
    Ok(())
}

/// Records `seconds` from the microphone, at 16 kHz mono.
fn record(device: Option<&str>, seconds: f64) -> Result<Vec<f32>, CliError> {
    let recorder = crate::audio::recorder::Recorder::start(device)?;
    let info = &recorder.info;
    eprintln!(
        "recording {seconds:.0} s from {} ({} Hz, {} channels)",
        info.device, info.rate_hz, info.channels
    );
    let (samples, note, lost) = recorder.record_for(seconds, &crate::work::cancel_on_interrupt());
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    if lost > 0 {
        eprintln!("note: {lost} samples were lost because reading fell behind.");
    }
    Ok(samples)
}
