//! `spaceport transcribe`: the Transcribe panel without the window.

use clap::Args;

use super::CliError;
use super::translate::model_dir;
use crate::audio::decode::decode_file;
use crate::catalog::Panel;
use crate::hub::Hub;
use crate::tasks::CancelToken;
use crate::tasks::device::{self, DeviceChoice};
use crate::tasks::transcribe::Transcriber;
use crate::tasks::transcribe::decode::{Task, TranscribeOptions};
use crate::tasks::transcribe::formats::{Format, render};

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
}

pub fn run(hub: &Hub, choice: DeviceChoice, args: TranscribeArgs) -> Result<(), CliError> {
    let format = Format::parse(&args.format).ok_or_else(|| {
        CliError::Input(format!(
            "unknown format \"{}\" (use txt, srt, vtt or json)",
            args.format
        ))
    })?;
    let task = match args.task.as_str() {
        "transcribe" => Task::Transcribe,
        "translate" => Task::Translate,
        other => {
            return Err(CliError::Input(format!(
                "unknown task \"{other}\" (use transcribe or translate)"
            )));
        }
    };
    let dir = model_dir(hub, &args.model, Panel::Transcribe)?;
    let selected = device::select(choice);
    if let Some(note) = &selected.fallback_note {
        eprintln!("note: {note}");
    }
    let transcriber =
        Transcriber::load(&dir, &selected.device).map_err(|e| CliError::Model(e.to_string()))?;
    if let Some(l) = &args.language
        && !transcriber.languages().is_empty()
        && !transcriber.languages().iter().any(|(c, _)| c == l)
    {
        return Err(CliError::Input(format!(
            "this model does not know the language \"{l}\""
        )));
    }
    let opts = TranscribeOptions {
        language: args.language.clone(),
        task,
        initial_prompt: args.prompt.clone(),
        beam_size: args.beam,
        ..Default::default()
    };
    if args.mic && args.live {
        return dictate(&transcriber, &args, opts, format);
    }
    if args.mic {
        let samples = record(args.input_device.as_deref(), args.seconds)?;
        let t = transcriber
            .transcribe(&samples, &opts, &CancelToken::new(), &mut |_, _| {})
            .map_err(|e| CliError::Model(e.to_string()))?;
        print!("{}", render(&t, format));
        return Ok(());
    }
    for file in &args.files {
        let audio = decode_file(file, 16000).map_err(|e| CliError::Input(e.to_string()))?;
        if audio.damaged {
            eprintln!(
                "note: {} is damaged or ends early; transcribing the {:.1} s that could be read.",
                file.display(),
                audio.duration_secs()
            );
        }
        let t = transcriber
            .transcribe(&audio.samples, &opts, &CancelToken::new(), &mut |_, _| {})
            .map_err(|e| CliError::Model(e.to_string()))?;
        print!("{}", render(&t, format));
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
    use crate::tasks::transcribe::decode::Transcript;
    use crate::tasks::transcribe::live::{LiveConfig, LiveDictation, LiveEvent, run_live};
    use std::io::{IsTerminal, Write};
    let (tx, rx) = std::sync::mpsc::channel::<Vec<f32>>();
    let (rate_tx, rate_rx) = std::sync::mpsc::channel();
    let (device, seconds) = (args.input_device.clone(), args.seconds);
    let recorder = crate::tasks::worker::spawn_named("spaceport-record", move || {
        use crate::audio::capture::Capture;
        let mut cap = match Capture::open(device.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                let _ = rate_tx.send(Err(e.to_string()));
                return;
            }
        };
        let _ = rate_tx.send(Ok(cap.sample_rate_hz));
        eprintln!(
            "recording {seconds:.0} s from {} ({} Hz, {} channels); speak, and pause between sentences",
            cap.device, cap.sample_rate_hz, cap.channels
        );
        let start = std::time::Instant::now();
        while start.elapsed().as_secs_f64() < seconds {
            std::thread::sleep(std::time::Duration::from_millis(50));
            match cap.take() {
                Ok(s) => {
                    if tx.send(s).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    eprintln!("note: {e}");
                    break;
                }
            }
        }
        if let Ok(s) = cap.take() {
            let _ = tx.send(s);
        }
        if cap.overflowed() > 0 {
            eprintln!(
                "note: {} samples were lost because reading fell behind.",
                cap.overflowed()
            );
        }
    })
    .map_err(|e| CliError::Input(format!("could not start recording: {e}")))?;
    let rate = rate_rx
        .recv()
        .map_err(|_| CliError::Input("the microphone could not be opened".into()))?
        .map_err(CliError::Input)?;
    let tty = std::io::stderr().is_terminal();
    let mut live = LiveDictation::new(rate, opts, LiveConfig::default());
    let mut segments = Vec::new();
    let started = std::time::Instant::now();
    let result = run_live(&rx, &mut live, t, &CancelToken::new(), &mut |ev| match ev {
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
    });
    let _ = recorder.join();
    result.map_err(|e| CliError::Model(e.to_string()))?;
    if format != Format::Txt {
        let transcript = Transcript {
            text: segments
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            language: live.language.clone().unwrap_or_else(|| "en".into()),
            segments,
        };
        print!("{}", render(&transcript, format));
    }
    Ok(())
}

/// Records `seconds` from the microphone, resampled to 16 kHz mono.
fn record(device: Option<&str>, seconds: f64) -> Result<Vec<f32>, CliError> {
    use crate::audio::capture::Capture;
    let mut cap = Capture::open(device).map_err(|e| CliError::Input(e.to_string()))?;
    eprintln!(
        "recording {seconds:.0} s from {} ({} Hz, {} channels)",
        cap.device, cap.sample_rate_hz, cap.channels
    );
    let start = std::time::Instant::now();
    let mut samples = Vec::new();
    while start.elapsed().as_secs_f64() < seconds {
        std::thread::sleep(std::time::Duration::from_millis(50));
        match cap.take() {
            Ok(s) => samples.extend(s),
            Err(e) => {
                eprintln!("note: {e}");
                break;
            }
        }
    }
    if let Ok(s) = cap.take() {
        samples.extend(s);
    }
    if cap.overflowed() > 0 {
        eprintln!(
            "note: {} samples were lost because reading fell behind.",
            cap.overflowed()
        );
    }
    Ok(crate::audio::resample::resample(
        &samples,
        cap.sample_rate_hz,
        16000,
    ))
}
