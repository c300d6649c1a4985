//! `spaceport translate`: the Translate panel without the window.

use std::io::BufRead;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, ProgressBar, outln};
use crate::catalog::Panel;
use crate::hub::Hub;
use crate::tasks::device::{self, DeviceChoice};
use crate::tasks::translate::{TranslateOptions, Translator};

#[derive(Args, Debug)]
pub struct TranslateArgs {
    /// A Hub model id (from the cache, downloaded if needed) or a local folder.
    #[arg(long)]
    pub model: String,
    /// Target language, for models that translate into several (e.g. fra).
    #[arg(long)]
    pub to: Option<String>,
    /// Beam width (1 = greedy); default: the model's generation config.
    #[arg(long)]
    pub beam: Option<usize>,
    /// Most tokens generated per sentence.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// One JSON object per input, with `text` and `token_ids`.
    #[arg(long)]
    pub json: bool,
    /// The text; `-` reads standard input line by line.
    pub text: Vec<String>,
}

/// The model folder for `model`: a folder as given, or a Hub model from the
/// cache, downloaded first when missing (with a progress bar).
pub fn model_dir(hub: &Hub, model: &str, panel: Panel) -> Result<PathBuf, CliError> {
    let path = PathBuf::from(model);
    if path.is_dir() {
        return Ok(path);
    }
    let cached = crate::hub::cache::scan_repo(&hub.config.cache_dir, model)
        .filter(|m| m.verdict.panel() == Some(panel))
        .and_then(|m| m.main_revision().map(|r| r.path.clone()));
    if let Some(p) = cached {
        return Ok(p);
    }
    let mut bar = ProgressBar::new();
    if !hub.config.offline {
        eprintln!("{model} is not downloaded yet; fetching it.");
    }
    let snap = hub.download_model(
        model,
        "main",
        &crate::work::cancel_on_interrupt(),
        &mut |p| bar.show(p),
    );
    bar.finish();
    Ok(snap?.path)
}

pub fn run(hub: &Hub, choice: DeviceChoice, args: TranslateArgs) -> Result<(), CliError> {
    let dir = model_dir(hub, &args.model, Panel::Translate)?;
    let selected = device::select(choice);
    if let Some(note) = &selected.fallback_note {
        eprintln!("note: {note}");
    }
    let translator = Translator::load(&dir, &selected.device)?;
    let opts = TranslateOptions {
        num_beams: args.beam,
        max_new_tokens: args.max_tokens,
        target: args.to.clone(),
    };
    let cancel = crate::work::cancel_on_interrupt();
    let emit = |text: &str| -> Result<(), CliError> {
        let t = translator.translate(text, &opts, &cancel, &mut |_| {})?;
        if args.json {
            let v = serde_json::json!({
                "source": text,
                "text": t.text,
                "token_ids": t.token_ids(),
                "sentences": t.sentences,
            });
            outln!("{v}");
        } else {
            outln!("{}", t.text);
        }
        Ok(())
    };
    if args.text.len() == 1 && args.text[0] == "-" {
        for line in std::io::stdin().lock().lines() {
            let line =
                line.map_err(|e| CliError::Input(format!("Could not read standard input: {e}.")))?;
            emit(&line)?;
        }
        return Ok(());
    }
    if args.text.is_empty() {
        return Err(CliError::Input(
            "Give the text to translate, or - to read lines from standard input.".into(),
        ));
    }
    emit(&args.text.join(" "))
}
