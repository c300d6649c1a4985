//! Benchmark: spaceport's transcription speed on an audio file (greedy,
//! reference long-form decoding); prints the real-time factor. With
//! `--convert OUT` it writes a CTranslate2 model out in the Hugging Face
//! layout instead (for the transformers peer). bench/transcribe.sh runs it
//! beside faster-whisper and transformers.
//!
//!     cargo run --example bench_transcribe -- MODEL_DIR AUDIO
//!     cargo run --example bench_transcribe -- MODEL_DIR --convert OUT

use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use spaceport::audio::decode::decode_file;
use spaceport::tasks::transcribe::Transcriber;
use spaceport::tasks::transcribe::decode::TranscribeOptions;
use spaceport::work::CancelToken;

fn main() -> anyhow::Result<()> {
    spaceport::tasks::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() >= 3,
        "usage: bench_transcribe MODEL_DIR AUDIO | MODEL_DIR --convert OUT"
    );
    let model = Path::new(&args[1]);
    if args[2] == "--convert" {
        spaceport::tasks::transcribe::ct2::convert_to_hf(model, Path::new(&args[3]))?;
        return Ok(());
    }
    let audio = decode_file(Path::new(&args[2]), 16000)?;
    let t = Transcriber::load(model, &Device::Cpu)?;
    let opts = TranscribeOptions {
        language: Some("en".into()),
        ..Default::default()
    };
    let start = Instant::now();
    let out = t.transcribe(&audio.samples, &opts, &CancelToken::new(), &mut |_, _| {})?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "spaceport {:.3} RTF ({:.1} s for {:.1} s of audio, {} segments)",
        secs / audio.duration_secs(),
        secs,
        audio.duration_secs(),
        out.segments.len()
    );
    Ok(())
}
