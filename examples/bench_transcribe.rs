//! Benchmark: spaceport's transcription speed on an audio file (greedy,
//! reference long-form decoding) in a compute type (default: the checkpoint's own); prints
//! the real-time factor, the load time and the process's peak memory. With
//! a batch size (`BATCH`, default 1: sequential) the windows are found by
//! the voice-activity detector and decoded that many together, and the row
//! is named `spaceport-batched-<type>`. With `--convert OUT` it writes a CTranslate2 model out in the Hugging Face
//! layout instead (for the transformers peer). bench/transcribe.sh runs it
//! beside faster-whisper and transformers.
//!
//!     cargo run --example bench_transcribe -- MODEL_DIR AUDIO [COMPUTE_TYPE [BATCH]]
//!     cargo run --example bench_transcribe -- MODEL_DIR --convert OUT

use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use spaceport::audio::decode::decode_file;
use spaceport::tasks::device::ComputeType;
use spaceport::tasks::nn::Placement;
use spaceport::tasks::transcribe::Transcriber;
use spaceport::tasks::transcribe::decode::TranscribeOptions;
use spaceport::work::CancelToken;

fn main() -> anyhow::Result<()> {
    spaceport::tasks::tune_runtime();
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
    let memory = spaceport::evaluate::record::MemoryWatch::start();
    let compute: ComputeType = match args.get(3) {
        Some(c) => c.parse().map_err(anyhow::Error::msg)?,
        None => ComputeType::Default,
    };
    let batch: usize = match args.get(4) {
        Some(b) => b.parse()?,
        None => 1,
    };
    let audio = decode_file(Path::new(&args[2]), 16000)?;
    let loading = Instant::now();
    let place = Placement {
        compute,
        ..Placement::new(&Device::Cpu)
    };
    let t = Transcriber::load_placed(model, &place)?;
    let load = loading.elapsed().as_secs_f64();
    let opts = TranscribeOptions {
        language: Some("en".into()),
        batch_size: Some(batch),
        ..Default::default()
    };
    let start = Instant::now();
    let out = t.transcribe(&audio.samples, &opts, &CancelToken::new(), &mut |_, _| {})?;
    let secs = start.elapsed().as_secs_f64();
    let peak = memory.finish().0.unwrap_or(0) as f64 / 1e6;
    if std::env::var_os("BENCH_TEXT").is_some() {
        for s in &out.segments {
            eprintln!("[{:.2} {:.2}] {}", s.start, s.end, s.text);
        }
    }
    let name = if batch > 1 {
        "spaceport-batched"
    } else {
        "spaceport"
    };
    println!(
        "{name}-{compute} {:.3} RTF ({:.1} s for {:.1} s of audio, {} segments, {:?} weights) load {load:.2} s peak {peak:.0} MB",
        secs / audio.duration_secs(),
        secs,
        audio.duration_secs(),
        out.segments.len(),
        t.model.weight_format(),
    );
    Ok(())
}
