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
