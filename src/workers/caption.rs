//! Caption jobs: the `spaceport-caption` thread keeps the loaded BLIP
//! model; it expands a dropped folder into its pictures, then reads,
//! previews and captions each in turn, reporting every picture as it
//! finishes (a bad one with its reason); a new batch or Stop cancels the
//! running one.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use super::{Event, ModelThread, Sink, newest_job};
use crate::tasks::caption::image::{self, Rgb, expand_pictures, thumbnail};
use crate::tasks::caption::{CaptionRequest, Captioner};
use crate::tasks::device::{self, ComputeType, DeviceChoice};
use crate::work::CancelToken;

/// One captioning request: pictures, in order.
#[derive(Clone, Debug)]
pub struct CaptionJob {
    pub generation: u64,
    pub model: PathBuf,
    pub paths: Vec<PathBuf>,
    /// Pictures pasted from the clipboard (no file), captioned after the
    /// files and named "Pasted picture".
    pub pasted: Vec<Arc<Rgb>>,
    /// Encoded pictures with a name (a dataset row's image cell),
    /// decoded here, captioned last.
    pub encoded: Vec<(String, Arc<Vec<u8>>)>,
    pub request: CaptionRequest,
    pub device: DeviceChoice,
    /// The number format the model computes in.
    pub compute: crate::tasks::device::ComputeType,
}

/// Queues a batch on the model thread (started on first use).
pub(crate) fn submit(thread: &mut ModelThread<CaptionJob>, job: CaptionJob, sink: &Sink) {
    let (generation, sink2) = (job.generation, sink.clone());
    if !thread.submit(job, move |rx| caption_loop(rx, sink2)) {
        sink.send(Event::CaptionFinished {
            generation,
            error: Some("Spaceport could not start captioning; try again.".into()),
        });
    }
}

/// The captioning thread: keeps the loaded BLIP model and serves jobs,
/// newest first; each picture is read, previewed and captioned in turn,
/// and a bad one is reported without stopping the rest.
fn caption_loop(rx: Receiver<(CaptionJob, CancelToken)>, sink: Sink) {
    let mut loaded: Option<(PathBuf, (DeviceChoice, ComputeType), Captioner)> = None;
    while let Some((job, cancel)) = newest_job(&rx) {
        let generation = job.generation;
        let mut paths = expand_pictures(&job.paths);
        let files = paths.len();
        paths.extend((0..job.pasted.len()).map(|_| PathBuf::from("Pasted picture")));
        paths.extend(job.encoded.iter().map(|(name, _)| PathBuf::from(name)));
        sink.send(Event::CaptionQueued {
            generation,
            paths: paths.clone(),
        });
        if !loaded
            .as_ref()
            .is_some_and(|(d, c, _)| *d == job.model && *c == (job.device, job.compute))
        {
            sink.send(Event::CaptionLoading { generation });
            loaded = None;
            match device::load_on(job.device, job.compute, |p| {
                Captioner::load_placed(&job.model, p)
            }) {
                Ok((c, used)) => {
                    sink.device_used(&used);
                    loaded = Some((job.model.clone(), (job.device, job.compute), c));
                }
                Err(e) => {
                    sink.send(Event::CaptionFinished {
                        generation,
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            }
        }
        let Some((_, _, captioner)) = &loaded else {
            continue;
        };
        for (index, path) in paths.iter().enumerate() {
            if cancel.is_cancelled() {
                break;
            }
            let picture = match index.checked_sub(files) {
                Some(i) if i < job.pasted.len() => Ok(job.pasted[i].as_ref().clone()),
                Some(i) => match job.encoded.get(i - job.pasted.len()) {
                    Some((name, bytes)) => image::decode(bytes, name),
                    None => continue,
                },
                None => image::open(path),
            };
            let (result, thumb) = match picture {
                Ok(img) => {
                    let thumb = thumbnail(&img, 256);
                    (
                        captioner
                            .caption(&img, &job.request, &cancel)
                            .map_err(|e| e.to_string()),
                        Some(thumb),
                    )
                }
                Err(e) => (Err(e.to_string()), None),
            };
            if cancel.is_cancelled() {
                break;
            }
            sink.send(Event::CaptionItem {
                generation,
                index,
                result,
                thumbnail: thumb,
            });
        }
        sink.send(Event::CaptionFinished {
            generation,
            error: None,
        });
    }
}
