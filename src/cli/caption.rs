//! `spaceport caption`: the Caption panel without the window.

use clap::Args;

use super::translate::model_dir;
use super::{CliError, outln};
use crate::catalog::Panel;
use crate::hub::Hub;
use crate::tasks::caption::{CaptionRequest, Captioner, image};
use crate::tasks::device::{self, DeviceChoice};

#[derive(Args, Debug)]
pub struct CaptionArgs {
    /// A Hub model id (from the cache, downloaded if needed) or a local
    /// folder.
    #[arg(long)]
    pub model: String,
    /// Pictures (JPEG, PNG, WebP, GIF, BMP, TIFF).
    #[arg(required = true)]
    pub images: Vec<std::path::PathBuf>,
    /// Text the caption starts with ("a photography of").
    #[arg(long)]
    pub prompt: Option<String>,
    /// Beam search width (1 = greedy, the default).
    #[arg(long)]
    pub beam: Option<usize>,
    /// New tokens at most (default 20).
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// One JSON object a line per picture: image, text, token_ids.
    #[arg(long)]
    pub json: bool,
}

pub fn run(
    hub: &Hub,
    choice: DeviceChoice,
    compute: crate::tasks::device::ComputeType,
    args: CaptionArgs,
) -> Result<(), CliError> {
    let dir = model_dir(hub, &args.model, Panel::Caption)?;
    let selected = device::select(choice);
    if let Some(note) = &selected.fallback_note {
        eprintln!("note: {note}");
    }
    let captioner = Captioner::load_placed(&dir, &super::placement(&selected, compute))?;
    let req = CaptionRequest {
        prompt: args.prompt.clone(),
        beams: args.beam,
        max_new_tokens: args.max_tokens,
    };
    let mut failed = None;
    for path in &args.images {
        // A bad picture is reported and the others still get captions.
        let img = match image::open(path) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{e}");
                failed = Some(CliError::from(e));
                continue;
            }
        };
        let c = captioner.caption(&img, &req, &crate::work::cancel_on_interrupt())?;
        if args.json {
            let v = serde_json::json!({
                "image": path.display().to_string(),
                "text": c.text,
                "token_ids": c.token_ids,
            });
            outln!("{v}");
        } else if args.images.len() > 1 {
            outln!("{}: {}", path.display(), c.text);
        } else {
            outln!("{}", c.text);
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
