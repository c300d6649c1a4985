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
use crate::tasks::translate::{TranslateOptions, Translator};
use crate::work::CancelToken;

#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// Audio files (WAV, FLAC, MP3, OGG, M4A).
    #[arg(required_unless_present_any = ["mic", "system_audio"])]
    pub files: Vec<std::path::PathBuf>,
    /// Record from the microphone instead of reading files.
    #[arg(long)]
    pub mic: bool,
    /// Record this computer's own sound (what it plays: a video call, a
    /// video) instead of the microphone: the sound server's monitor of
    /// the speakers (PulseAudio or PipeWire).
    #[arg(long, conflicts_with = "mic")]
    pub system_audio: bool,
    /// How long to record with --mic or --system-audio.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Live: partial text on stderr while someone speaks, each sentence on
    /// stdout when a pause ends it (with --translate-to, the original and
    /// its translation, a tab between). With a file instead of --mic or
    /// --system-audio, the file is played through the same chain at
    /// real-time speed.
    #[arg(long)]
    pub live: bool,
    /// Translate each sentence into this language (de, fr, …) with the
    /// downloaded translation models (through English when no direct
    /// model is there); subtitles and JSON then hold both.
    #[arg(long)]
    pub translate_to: Option<String>,
    /// The translation model (a Hub id or a folder) instead of the one
    /// chosen by the languages.
    #[arg(long, requires = "translate_to")]
    pub translate_model: Option<String>,
    /// With --live --translate-to en: translate speech into English by
    /// Whisper's own translate task (a multilingual model) instead of a
    /// translation model.
    #[arg(long, requires = "translate_to", conflicts_with = "translate_model")]
    pub whisper_translate: bool,
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
    let place = super::placement(&selected, compute);
    if args.live || args.translate_to.is_some() {
        return live(hub, &transcriber, &args, opts, format, &place);
    }
    if args.system_audio {
        let samples = record(Some(crate::audio::capture::SYSTEM_SOUND), args.seconds)?;
        let t = transcriber.transcribe(&samples, &opts, &CancelToken::new(), &mut |_, _| {})?;
        out!("{}", render(&t, format));
        return Ok(());
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

/// The translation models for `from` → `args.translate_to` (or the one
/// `--translate-model` names), loaded.
fn translation_steps(
    hub: &Hub,
    args: &TranscribeArgs,
    from: &str,
    place: &crate::tasks::nn::Placement,
) -> Result<crate::tasks::captions::Steps, CliError> {
    let Some(to) = &args.translate_to else {
        return Ok(Vec::new());
    };
    let dirs = super::translate::route_steps(
        hub,
        args.translate_model.as_deref(),
        Some(from),
        Some(to),
        TranslateOptions::default(),
    )?;
    dirs.into_iter()
        .map(|(dir, opts)| Ok((Translator::load_placed(&dir, place)?, opts)))
        .collect()
}

/// Live captions: the microphone, this computer's sound, or each file
/// played at real-time speed, transcribed as it is spoken (partials on
/// stderr, each sentence on stdout when a pause ends it) and, with
/// `--translate-to`, translated on a second thread (`original`, a tab,
/// the translation). A file without `--live` is transcribed whole and
/// then translated a segment at a time. The stage latencies are said at
/// the end; other formats are written at the end, bilingual.
fn live(
    hub: &Hub,
    t: &Transcriber,
    args: &TranscribeArgs,
    opts: TranscribeOptions,
    format: Format,
    place: &crate::tasks::nn::Placement,
) -> Result<(), CliError> {
    use crate::audio::recorder::{RATE_HZ, Recorded, Recorder};
    use crate::tasks::captions::{
        Cue, Translated, TranslationStage, median_and_worst, render_cues,
    };
    use crate::tasks::transcribe::live::{LiveConfig, LiveEvent, run_live, with_best_detector};
    use std::io::{IsTerminal, Write};
    use std::sync::{Arc, Mutex};
    let translating = args.translate_to.is_some();
    let cues: Arc<Mutex<Vec<Cue>>> = Arc::default();
    let print = move |c: &Cue| {
        if format == Format::Txt {
            let mut out = std::io::stdout().lock();
            let _ = match &c.translation {
                Some(tr) => writeln!(out, "{}\t{}", c.original, tr),
                None => writeln!(out, "{}", c.original),
            };
            let _ = out.flush();
        }
    };
    // The translation stage starts once the spoken language is known.
    let stage_for = |language: &str| -> Result<TranslationStage, CliError> {
        let steps = translation_steps(hub, args, language, place)?;
        let cues = cues.clone();
        TranslationStage::start(steps, move |done| match done {
            Translated::Final {
                index,
                text,
                latency,
            } => {
                let mut all = cues.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(c) = all.get_mut(index) {
                    c.translation = Some(text);
                    c.translation_latency = Some(latency);
                    print(c);
                }
            }
            Translated::Partial { text, .. } => {
                if std::io::stderr().is_terminal() {
                    eprint!("\r\x1b[K… → {text}");
                } else {
                    eprintln!("partial translation: {text}");
                }
            }
            Translated::Failed { index, error } => {
                eprintln!("note: a line could not be translated: {error}");
                if let Some(i) = index {
                    let all = cues.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(c) = all.get(i) {
                        print(c);
                    }
                }
            }
        })
        .map_err(|e| CliError::Failed(format!("Could not start translating: {e}.")))
    };
    let files: Vec<Option<&std::path::PathBuf>> = if args.mic || args.system_audio {
        vec![None]
    } else {
        args.files.iter().map(Some).collect()
    };
    let mut partials = 0u64;
    for file in files {
        let stop = CancelToken::new();
        let recorder = match file {
            None => {
                let device = if args.system_audio {
                    Some(crate::audio::capture::SYSTEM_SOUND)
                } else {
                    args.input_device.as_deref()
                };
                Recorder::start_with(device, stop.clone())?
            }
            Some(f) if args.live => {
                let audio = decode_file(f, RATE_HZ)?;
                Recorder::replay(audio.samples, &f.display().to_string(), stop.clone())?
            }
            Some(f) => {
                // A file transcribed whole, then translated a segment at
                // a time.
                let audio = decode_file(f, RATE_HZ)?;
                let tr = t.transcribe(
                    &audio.samples,
                    &opts,
                    &crate::work::cancel_on_interrupt(),
                    &mut |_, _| {},
                )?;
                let stage = stage_for(&tr.language)?;
                let first = cues.lock().unwrap_or_else(|e| e.into_inner()).len();
                for (i, seg) in tr.segments.iter().enumerate() {
                    cues.lock().unwrap_or_else(|e| e.into_inner()).push(Cue {
                        start: seg.start,
                        end: seg.end,
                        original: seg.text.clone(),
                        words: seg.words.clone(),
                        ..Default::default()
                    });
                    stage.final_text(first + i, &seg.text);
                }
                stage.finish();
                continue;
            }
        };
        let info = &recorder.info;
        if file.is_none() {
            eprintln!(
                "recording {:.0} s from {} ({} Hz, {} channels); speak, and pause between sentences",
                args.seconds, info.device, info.rate_hz, info.channels
            );
        } else {
            eprintln!(
                "playing {} through the live chain at real-time speed",
                info.device
            );
        }
        // Ends a recording after `seconds` (a file at its end); Ctrl-C
        // ends it early, and what was said is finalised.
        let (stopper, seconds, timed) = (recorder.stopper(), args.seconds, file.is_none());
        let timer = crate::work::spawn_named("spaceport-timer", move || {
            let started = std::time::Instant::now();
            let interrupt = crate::work::cancel_on_interrupt();
            let over = || timed && started.elapsed().as_secs_f64() >= seconds;
            while !(over() || stopper.is_cancelled() || interrupt.is_cancelled()) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            stopper.cancel();
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
        let (mut dictation, vad_note) =
            with_best_detector(RATE_HZ, opts.clone(), LiveConfig::default());
        if let Some(note) = vad_note {
            eprintln!("note: {note}");
        }
        let started = std::time::Instant::now();
        // Cues before this source's (several files follow each other).
        let offset = cues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .map_or(0.0, |c| c.end);
        let mut stage: Option<TranslationStage> = None;
        let mut failure = None;
        // Into English by Whisper's translate task: its lines come as
        // `LiveEvent::Translated`, numbered from this source's first.
        dictation.translate_speech = args.whisper_translate;
        if args.whisper_translate {
            if args.translate_to.as_deref() != Some("en") {
                return Err(CliError::Input(
                    "--whisper-translate translates into English only (--translate-to en).".into(),
                ));
            }
            if !t.is_multilingual() {
                return Err(CliError::Input(
                    "--whisper-translate needs a multilingual Whisper model; this one knows only English."
                        .into(),
                ));
            }
        }
        let first_cue = cues.lock().unwrap_or_else(|e| e.into_inner()).len();
        let whisper_route = args.whisper_translate;
        let result = run_live(
            recorder.chunks(),
            &mut take,
            &mut dictation,
            t,
            &CancelToken::new(),
            &mut |ev| match ev {
                LiveEvent::Partial { text, .. } => {
                    if tty {
                        eprint!("\r\x1b[K… {text}");
                    } else {
                        eprintln!("partial {:.2}: {text}", started.elapsed().as_secs_f64());
                    }
                    if let Some(s) = &stage {
                        partials += 1;
                        s.partial(partials, &text);
                    }
                }
                LiveEvent::Final {
                    segments,
                    language,
                    behind,
                } => {
                    if tty {
                        eprint!("\r\x1b[K");
                    }
                    if segments.is_empty() {
                        return;
                    }
                    // Speech end (the utterance's) to its transcript.
                    let latency = behind;
                    let by_whisper = whisper_route && language != "en";
                    if translating && !whisper_route && stage.is_none() && failure.is_none() {
                        match stage_for(&language) {
                            Ok(s) => stage = Some(s),
                            Err(e) => failure = Some(e),
                        }
                    }
                    // A cue a segment (a sentence, usually).
                    for seg in &segments {
                        let text = seg.text.trim().to_string();
                        let index = {
                            let mut all = cues.lock().unwrap_or_else(|e| e.into_inner());
                            all.push(Cue {
                                start: offset + seg.start,
                                end: offset + seg.end,
                                original: text.clone(),
                                words: seg.words.clone(),
                                transcript_latency: Some(latency),
                                ..Default::default()
                            });
                            all.len() - 1
                        };
                        match &stage {
                            Some(s) => s.final_text(index, &text),
                            None if by_whisper => {}
                            None => {
                                let all = cues.lock().unwrap_or_else(|e| e.into_inner());
                                print(&all[index]);
                            }
                        }
                    }
                }
                LiveEvent::Translated {
                    index,
                    text,
                    seconds,
                    ..
                } => {
                    let mut all = cues.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(c) = all.get_mut(first_cue + index) {
                        c.translation = Some(text);
                        c.translation_latency = Some(seconds);
                        print(c);
                    }
                }
            },
        );
        recorder.stop();
        let _ = timer.join();
        if let Some(s) = stage {
            s.finish();
        }
        if lost > 0 {
            eprintln!("note: {lost} samples were lost because reading fell behind.");
        }
        result?;
        if let Some(e) = failure {
            return Err(e);
        }
    }
    let cues = cues.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let said = |v: Vec<f64>| match median_and_worst(&v) {
        Some((m, w)) => format!("median {m:.2} s, worst {w:.2} s"),
        None => "none measured".into(),
    };
    eprintln!(
        "latency over {} lines: speech end → transcript {}; transcript → translation {}",
        cues.len(),
        said(cues.iter().filter_map(|c| c.transcript_latency).collect()),
        said(cues.iter().filter_map(|c| c.translation_latency).collect()),
    );
    if format != Format::Txt {
        out!("{}", render_cues(&cues, format));
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
