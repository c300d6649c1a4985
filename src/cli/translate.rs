//! `spaceport translate`: the Translate panel without the window.

use std::io::BufRead;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, ProgressBar, outln};
use crate::catalog::Panel;
use crate::hub::Hub;
use crate::tasks::device::{self, DeviceChoice};
use crate::tasks::translate::route::{self, Route};
use crate::tasks::translate::{TranslateOptions, Translator};

#[derive(Args, Debug)]
pub struct TranslateArgs {
    /// A Hub model id (from the cache, downloaded if needed) or a local
    /// folder. Without it, --from and --to choose the model as the window
    /// does (through English when no direct model is downloaded).
    #[arg(long)]
    pub model: Option<String>,
    /// Source language (e.g. de), to choose the model by languages.
    #[arg(long)]
    pub from: Option<String>,
    /// Target language: with --model, the target code of a model that
    /// translates into several (e.g. fra; or start the text with >>fra<<);
    /// with --from, the language to translate into (e.g. fr).
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

/// The models to run in turn, each with its options: the one named by
/// `--model`, or the route from `--from` to `--to` (downloading the direct
/// model when neither it nor a pivot pair is in the cache).
fn steps(hub: &Hub, args: &TranslateArgs) -> Result<Vec<(PathBuf, TranslateOptions)>, CliError> {
    if let (Some(_), Some(_)) = (&args.model, &args.from) {
        return Err(CliError::Input(
            "Choose the model with --model or the languages with --from, not both.".into(),
        ));
    }
    route_steps(
        hub,
        args.model.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
        TranslateOptions {
            num_beams: args.beam,
            max_new_tokens: args.max_tokens,
            target: None,
        },
    )
}

/// The model folders to run in turn, each with `base` options and its
/// target code: `model` when given (`to` its target code), else the
/// route from `from` to `to` (downloading the direct model when neither
/// it nor a pivot pair is in the cache).
pub(super) fn route_steps(
    hub: &Hub,
    model: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    base: TranslateOptions,
) -> Result<Vec<(PathBuf, TranslateOptions)>, CliError> {
    let options = |target: Option<String>| TranslateOptions {
        target,
        ..base.clone()
    };
    if let Some(model) = model {
        let dir = model_dir(hub, model, Panel::Translate)?;
        return Ok(vec![(dir, options(to.map(str::to_string)))]);
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(CliError::Input(
            "Choose the model with --model, or the languages with --from and --to.".into(),
        ));
    };
    let scan = || -> Result<Vec<route::InstalledModel>, CliError> {
        Ok(route::installed(&crate::hub::cache::scan(
            &hub.config.cache_dir,
        )?))
    };
    let mut chosen = route::route(&scan()?, from, to);
    if let Route::Get { repo, .. } = &chosen {
        model_dir(hub, repo, Panel::Translate)?;
        chosen = route::route(&scan()?, from, to);
    }
    match chosen.steps() {
        Some(steps) => {
            if let Route::Pivot(a, b) = &chosen {
                eprintln!(
                    "note: no direct model; through English with {} and {}",
                    a.repo, b.repo
                );
            }
            Ok(steps
                .into_iter()
                .map(|p| (p.dir.clone(), options(p.code.clone())))
                .collect())
        }
        None => Err(CliError::Missing(format!(
            "No downloaded model translates from {from} to {to}, directly or through English."
        ))),
    }
}

pub fn run(
    hub: &Hub,
    choice: DeviceChoice,
    compute: crate::tasks::device::ComputeType,
    args: TranslateArgs,
) -> Result<(), CliError> {
    let steps = steps(hub, &args)?;
    let selected = device::select(choice);
    if let Some(note) = &selected.fallback_note {
        eprintln!("note: {note}");
    }
    let translators = steps
        .iter()
        .map(|(dir, _)| Translator::load_placed(dir, &super::placement(&selected, compute)))
        .collect::<Result<Vec<_>, _>>()?;
    let cancel = crate::work::cancel_on_interrupt();
    let emit = |text: &str| -> Result<(), CliError> {
        // Each step translates the one before's text (a pivot: into
        // English, then out of it).
        let mut input = text.to_string();
        let mut last = None;
        for (t, (_, opts)) in translators.iter().zip(&steps) {
            let out = t.translate(&input, opts, &cancel, &mut |_| {})?;
            input = out.text.clone();
            last = Some(out);
        }
        let Some(t) = last else {
            return Ok(());
        };
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
