//! Playing a dataset's sound: one `spaceport-player` thread a sound
//! decodes it, plays it through [`Playback`] and reports
//! [`Event::Playing`] once it sounds, then exactly one
//! [`Event::PlayEnded`] — at its end, on Stop, when another sound starts,
//! or with the reason it could not play.

use super::{Event, Sink};
use crate::audio::playback::Playback;
use crate::work::CancelToken;

/// The sound playing, if any: cancelling its token stops it.
#[derive(Default)]
pub(crate) struct Player {
    running: Option<CancelToken>,
}

impl Player {
    /// Stops what plays and plays `bytes` (a sound file called `name`);
    /// `id` names it in the events.
    pub(crate) fn play(&mut self, id: u64, bytes: Vec<u8>, name: String, sink: &Sink) {
        self.stop();
        let stop = CancelToken::new();
        self.running = Some(stop.clone());
        let sink2 = sink.clone();
        super::job("spaceport-player", sink, move || {
            let error = match Playback::start(bytes, &name) {
                Ok(playback) => {
                    sink2.send(Event::Playing {
                        id,
                        seconds: playback.progress().1,
                    });
                    while !playback.finished() && !stop.is_cancelled() {
                        std::thread::sleep(std::time::Duration::from_millis(30));
                    }
                    let failure = playback.failure();
                    playback.stop();
                    failure
                }
                Err(e) => Some(e.to_string()),
            };
            stop.cancel();
            sink2.send(Event::PlayEnded { id, error });
        });
    }

    pub(crate) fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.cancel();
        }
    }
}
