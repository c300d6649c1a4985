//! Benchmark: spaceport's translation speed on a model folder and a file of
//! sentences (one per line), after a warm-up; prints tokens per second.
//! bench/translate.sh runs it beside transformers and CTranslate2.
//!
//!     cargo run --example bench_translate -- MODEL_DIR SENTENCES_FILE BEAMS [COMPUTE_TYPE]
//!
//! Rows are named `spaceport-COMPUTE_TYPE` (one sentence at a time) and
//! `spaceport-batched-COMPUTE_TYPE`, with the load time and peak memory.

use std::time::Instant;

use candle_core::Device;
use spaceport::tasks::device::ComputeType;
use spaceport::tasks::nn::Placement;
use spaceport::tasks::translate::{TranslateOptions, Translator};
use spaceport::work::CancelToken;

fn main() -> anyhow::Result<()> {
    spaceport::tasks::tune_runtime();
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 4 || args.len() == 5,
        "usage: bench_translate MODEL_DIR SENTENCES_FILE BEAMS [COMPUTE_TYPE]"
    );
    let memory = spaceport::evaluate::record::MemoryWatch::start();
    let compute: ComputeType = match args.get(4) {
        Some(c) => c.parse().map_err(anyhow::Error::msg)?,
        None => ComputeType::Default,
    };
    let place = Placement {
        compute,
        ..Placement::new(&Device::Cpu)
    };
    let loading = Instant::now();
    let translator = Translator::load_placed(std::path::Path::new(&args[1]), &place)?;
    let load = loading.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&args[2])?;
    let sentences: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let opts = TranslateOptions {
        num_beams: Some(args[3].parse()?),
        ..Default::default()
    };
    let cancel = CancelToken::new();
    let run = || -> anyhow::Result<usize> {
        let mut n = 0;
        for s in &sentences {
            n += translator
                .translate_sentence(s, &opts, &cancel, &mut |_| {})?
                .token_ids
                .len();
        }
        Ok(n)
    };
    run()?;
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..3 {
        let t = Instant::now();
        n = run()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "spaceport-{compute} {:.1} tokens/s ({n} tokens, median of 3, {threads} threads) load {load:.2} s",
        n as f64 / times[1]
    );
    // The same sentences as one text: translated in batches.
    let whole = sentences.join("\n");
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        n = translator
            .translate(&whole, &opts, &cancel, &mut |_| {})?
            .token_ids()
            .len();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let peak = memory.finish().0.unwrap_or(0) as f64 / 1e6;
    println!(
        "spaceport-batched-{compute} {:.1} tokens/s ({n} tokens, median of 3, {threads} threads) peak {peak:.0} MB",
        n as f64 / times[1]
    );
    Ok(())
}
