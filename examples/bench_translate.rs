//! Benchmark: spaceport's translation speed on a model folder and a file of
//! sentences (one per line), after a warm-up; prints tokens per second.
//! bench/translate.sh runs it beside transformers and CTranslate2.
//!
//!     cargo run --example bench_translate -- MODEL_DIR SENTENCES_FILE BEAMS

use std::time::Instant;

use candle_core::Device;
use spaceport::tasks::translate::{TranslateOptions, Translator};
use spaceport::work::CancelToken;

fn main() -> anyhow::Result<()> {
    spaceport::tasks::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 4,
        "usage: bench_translate MODEL_DIR SENTENCES_FILE BEAMS"
    );
    let translator = Translator::load(std::path::Path::new(&args[1]), &Device::Cpu)?;
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
        "spaceport {:.1} tokens/s ({n} tokens, median of 3, {threads} threads)",
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
    println!(
        "spaceport-batched {:.1} tokens/s ({n} tokens, median of 3, {threads} threads)",
        n as f64 / times[1]
    );
    Ok(())
}
