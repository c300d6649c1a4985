//! Transcripts as files people use: plain text, SubRip (`.srt`), WebVTT
//! (`.vtt`) and JSON.

use super::decode::Transcript;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Txt,
    Srt,
    Vtt,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "txt" | "text" => Some(Self::Txt),
            "srt" => Some(Self::Srt),
            "vtt" | "webvtt" => Some(Self::Vtt),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Txt => "txt",
            Self::Srt => "srt",
            Self::Vtt => "vtt",
            Self::Json => "json",
        }
    }
}

/// `HH:MM:SS` and milliseconds after `sep`.
pub(crate) fn stamp(secs: f64, sep: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The transcript in `format`.
pub fn render(t: &Transcript, format: Format) -> String {
    match format {
        Format::Txt => {
            let mut s = t
                .segments
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            s.push('\n');
            s
        }
        Format::Srt => {
            let mut s = String::new();
            let mut n = 0;
            for seg in &t.segments {
                if seg.words.is_empty() {
                    n += 1;
                    s.push_str(&format!(
                        "{n}\n{} --> {}\n{}\n\n",
                        stamp(seg.start, ','),
                        stamp(seg.end, ','),
                        seg.text
                    ));
                    continue;
                }
                // Karaoke: a cue a word, the segment's line with the word
                // being said underlined (as Whisper's `highlight_words`).
                for (i, w) in seg.words.iter().enumerate() {
                    n += 1;
                    let line: String = seg
                        .words
                        .iter()
                        .enumerate()
                        .map(|(j, o)| {
                            if i == j {
                                let lead = o.word.len() - o.word.trim_start().len();
                                format!("{}<u>{}</u>", &o.word[..lead], &o.word[lead..])
                            } else {
                                o.word.clone()
                            }
                        })
                        .collect();
                    s.push_str(&format!(
                        "{n}\n{} --> {}\n{}\n\n",
                        stamp(w.start, ','),
                        stamp(w.end, ','),
                        line.trim()
                    ));
                }
            }
            s
        }
        Format::Vtt => {
            let mut s = String::from("WEBVTT\n\n");
            for seg in &t.segments {
                // With word times, each word after the first is preceded
                // by its start (WebVTT's karaoke timestamps).
                let text = if seg.words.is_empty() {
                    seg.text.clone()
                } else {
                    let mut line = String::new();
                    for (i, w) in seg.words.iter().enumerate() {
                        if i > 0 {
                            line.push_str(&format!("<{}>", stamp(w.start, '.')));
                        }
                        line.push_str(if i == 0 { w.word.trim_start() } else { &w.word });
                    }
                    line
                };
                s.push_str(&format!(
                    "{} --> {}\n{}\n\n",
                    stamp(seg.start, '.'),
                    stamp(seg.end, '.'),
                    text
                ));
            }
            s
        }
        Format::Json => serde_json::to_string_pretty(t).unwrap_or_default() + "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::transcribe::decode::Segment;

    #[test]
    fn word_times_make_karaoke_subtitles() {
        use crate::tasks::transcribe::timing::Word;
        let word = |w: &str, start, end| Word {
            word: w.into(),
            start,
            end,
            probability: 0.9,
        };
        let t = Transcript {
            text: "Hello world.".into(),
            language: "en".into(),
            segments: vec![Segment {
                start: 0.5,
                end: 1.5,
                text: "Hello world.".into(),
                tokens: vec![],
                avg_logprob: 0.0,
                no_speech_prob: 0.0,
                compression_ratio: 1.0,
                temperature: 0.0,
                words: vec![word(" Hello", 0.5, 0.9), word(" world.", 1.0, 1.5)],
            }],
        };
        let srt = render(&t, Format::Srt);
        assert_eq!(
            srt,
            "1\n00:00:00,500 --> 00:00:00,900\n<u>Hello</u> world.\n\n\
             2\n00:00:01,000 --> 00:00:01,500\nHello <u>world.</u>\n\n"
        );
        let vtt = render(&t, Format::Vtt);
        assert!(
            vtt.contains("00:00:00.500 --> 00:00:01.500\nHello<00:00:01.000> world.\n"),
            "{vtt}"
        );
        let json: serde_json::Value = serde_json::from_str(&render(&t, Format::Json)).unwrap();
        let w = &json["segments"][0]["words"][1];
        assert_eq!(w["word"], " world.");
        assert_eq!(w["start"], 1.0);
        assert!((w["probability"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    }

    #[test]
    fn subtitles_have_the_right_shape() {
        let seg = |start, end, text: &str| Segment {
            start,
            end,
            text: text.into(),
            tokens: vec![],
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
            compression_ratio: 1.0,
            temperature: 0.0,
            words: vec![],
        };
        let t = Transcript {
            text: "Hello. World".into(),
            language: "en".into(),
            segments: vec![seg(0.0, 1.5, "Hello."), seg(3661.25, 3662.0, "World")],
        };
        assert_eq!(
            render(&t, Format::Srt),
            "1\n00:00:00,000 --> 00:00:01,500\nHello.\n\n2\n01:01:01,250 --> 01:01:02,000\nWorld\n\n"
        );
        assert!(
            render(&t, Format::Vtt)
                .starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello.\n")
        );
        let j: serde_json::Value = serde_json::from_str(&render(&t, Format::Json)).unwrap();
        assert_eq!(j["segments"][1]["start"], 3661.25);
        assert_eq!(render(&t, Format::Txt), "Hello.\nWorld\n");
    }
}
