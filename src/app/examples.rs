//! The examples every demo offers, as Gradio's `examples=`: sentences to
//! translate, photographs to caption and recordings to transcribe, built
//! into the binary from `assets/examples/` (where each one's source and
//! licence is written down; the About page lists them too). The pictures'
//! thumbnails are decoded once, on a worker thread, the first time a page
//! asks for them.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::tasks::caption::image::{Thumbnail, decode, thumbnail};

/// A photograph to caption.
pub struct Picture {
    pub name: &'static str,
    /// What it shows, in a few words (its button's tooltip).
    pub what: &'static str,
    pub bytes: &'static [u8],
}

/// A short recording to transcribe.
pub struct Recording {
    pub name: &'static str,
    /// The language spoken (ISO 639-1).
    pub language: &'static str,
    /// What is said.
    pub text: &'static str,
    pub seconds: u32,
    pub bytes: &'static [u8],
}

/// The photographs (public domain or CC0; see `assets/examples/README.md`).
pub const PICTURES: [Picture; 4] = [
    Picture {
        name: "cat.jpg",
        what: "Chelsea the cat (photograph by Stéfan van der Walt, CC0)",
        bytes: include_bytes!("../../assets/examples/cat.jpg"),
    },
    Picture {
        name: "coffee.jpg",
        what: "A cup of coffee (photograph by Rachel Michetti, CC0)",
        bytes: include_bytes!("../../assets/examples/coffee.jpg"),
    },
    Picture {
        name: "rocket.jpg",
        what: "A Falcon 9 launch (photograph by SpaceX, public domain)",
        bytes: include_bytes!("../../assets/examples/rocket.jpg"),
    },
    Picture {
        name: "astronaut.jpg",
        what: "The astronaut Eileen Collins (photograph by NASA, public domain)",
        bytes: include_bytes!("../../assets/examples/astronaut.jpg"),
    },
];

/// The recordings (made for Spaceport with espeak-ng; free to use).
pub const RECORDINGS: [Recording; 2] = [
    Recording {
        name: "harvard-en.ogg",
        language: "en",
        text: "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. It's easy to tell the depth of a well. These days a chicken leg is a rare dish.",
        seconds: 19,
        bytes: include_bytes!("../../assets/examples/harvard-en.ogg"),
    },
    Recording {
        name: "bahnhof-de.ogg",
        language: "de",
        text: "Der Zug nach Berlin fährt um acht Uhr ab. Heute scheint die Sonne, und die Kinder spielen im Garten.",
        seconds: 8,
        bytes: include_bytes!("../../assets/examples/bahnhof-de.ogg"),
    },
];

/// Sentences to translate, by language (written for Spaceport).
pub const SENTENCES: &[(&str, &str)] = &[
    ("en", "Where is the nearest train station?"),
    (
        "en",
        "The weather is lovely today, so we are going for a walk by the river.",
    ),
    (
        "en",
        "This program translates text on your own computer, without sending it anywhere.",
    ),
    ("de", "Wo ist der nächste Bahnhof?"),
    (
        "de",
        "Das Wetter ist heute schön, also gehen wir am Fluss spazieren.",
    ),
    ("de", "Ich lerne seit zwei Jahren Englisch."),
    ("fr", "Où est la gare la plus proche ?"),
    (
        "fr",
        "Il fait beau aujourd'hui, alors nous allons nous promener au bord de la rivière.",
    ),
    ("es", "¿Dónde está la estación de tren más cercana?"),
    (
        "es",
        "Hoy hace buen tiempo, así que vamos a pasear junto al río.",
    ),
    ("it", "Dov'è la stazione ferroviaria più vicina?"),
    ("nl", "Waar is het dichtstbijzijnde treinstation?"),
    ("pt", "Onde fica a estação de comboios mais próxima?"),
    ("ru", "Где ближайший железнодорожный вокзал?"),
    ("zh", "最近的火车站在哪里？"),
    ("ja", "一番近い駅はどこですか？"),
    ("ar", "أين أقرب محطة قطار؟"),
];

/// The example sentences in `language`.
pub fn sentences(language: &str) -> impl Iterator<Item = &'static str> + '_ {
    SENTENCES
        .iter()
        .filter(move |(l, _)| crate::catalog::short_code(l) == crate::catalog::short_code(language))
        .map(|(_, s)| *s)
}

/// The recording in `language`, if there is one.
pub fn recording(language: &str) -> Option<&'static Recording> {
    RECORDINGS.iter().find(|r| r.language == language)
}

/// The longest side of an example's thumbnail.
pub const THUMBNAIL_SIDE: usize = 96;

/// The pictures' thumbnails, in [`PICTURES`]' order (a picture that does
/// not decode has none): `None` until a worker has decoded them; the
/// first call starts it, and `ctx` is repainted when they are ready.
pub fn thumbnails(ctx: &egui::Context) -> Option<&'static [Option<Thumbnail>]> {
    static DONE: OnceLock<Vec<Option<Thumbnail>>> = OnceLock::new();
    static STARTED: AtomicBool = AtomicBool::new(false);
    if let Some(t) = DONE.get() {
        return Some(t);
    }
    if !STARTED.swap(true, Ordering::SeqCst) {
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("example-thumbnails".into())
            .spawn(move || {
                let thumbs = PICTURES
                    .iter()
                    .map(|p| {
                        decode(p.bytes, p.name)
                            .ok()
                            .map(|rgb| thumbnail(&rgb, THUMBNAIL_SIDE))
                    })
                    .collect();
                let _ = DONE.set(thumbs);
                ctx.request_repaint();
            });
        if spawned.is_err() {
            // No thread: the buttons show names instead of pictures.
            let _ = DONE.set(PICTURES.iter().map(|_| None).collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_picture_and_recording_decodes() {
        for p in &PICTURES {
            let rgb = decode(p.bytes, p.name).expect(p.name);
            assert!(rgb.width >= 200 && rgb.height >= 200, "{}", p.name);
        }
        for r in &RECORDINGS {
            let audio =
                crate::audio::decode::decode_bytes(r.bytes.to_vec(), r.name, 16_000).expect(r.name);
            let secs = audio.duration_secs();
            assert!(
                (secs - r.seconds as f64).abs() < 1.5,
                "{} is {secs:.1} s, not about {}",
                r.name,
                r.seconds
            );
        }
    }

    #[test]
    fn sentences_come_by_language() {
        assert_eq!(sentences("en").count(), 3);
        assert!(sentences("de").all(|s| !s.is_empty()));
        assert_eq!(sentences("xx").count(), 0);
        assert_eq!(recording("de").map(|r| r.name), Some("bahnhof-de.ogg"));
    }
}
