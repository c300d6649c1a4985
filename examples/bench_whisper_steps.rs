//! The spaceport side of bench/transcribe_shapes.sh: one 30 s window of
//! (random) log-mel features encoded, then exactly STEPS greedy tokens
//! decoded after the English transcription prompt (the end token left
//! out of the choice, as the peer suppresses it), in the compute type
//! asked for; prints the median of three runs, the load time and the
//! process's peak memory. MODEL_DIR is a Hugging Face or CTranslate2
//! folder with `tokenizer.json`.
//!   bench_whisper_steps MODEL_DIR COMPUTE_TYPE STEPS

use std::time::Instant;

use anyhow::Context;
use candle_core::{Device, Tensor};
use spaceport::tasks::device::ComputeType;
use spaceport::tasks::nn::Placement;
use spaceport::tasks::transcribe::ct2;
use spaceport::tasks::transcribe::model::Whisper;

fn main() -> anyhow::Result<()> {
    spaceport::tasks::tune_runtime();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, compute, steps] = &args[..] else {
        anyhow::bail!("usage: bench_whisper_steps MODEL_DIR COMPUTE_TYPE STEPS");
    };
    let dir = std::path::Path::new(dir);
    let compute: ComputeType = compute.parse().map_err(anyhow::Error::msg)?;
    let steps: usize = steps.parse()?;
    let memory = spaceport::evaluate::record::MemoryWatch::start();
    let place = Placement {
        compute,
        ..Placement::new(&Device::Cpu)
    };
    let loading = Instant::now();
    let model = if ct2::is_ct2(dir) {
        ct2::load(dir, &place)?
    } else {
        Whisper::load_placed(dir, &place)?
    };
    let load = loading.elapsed().as_secs_f64();
    let tok = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json"))
        .map_err(|e| anyhow::anyhow!("tokenizer.json: {e}"))?;
    let id = |t: &str| tok.token_to_id(t).with_context(|| format!("no {t} token"));
    let prompt = [model.config.decoder_start_token_id, id("<|notimestamps|>")?];
    let eot = id("<|endoftext|>")? as usize;
    let mels = model.config.num_mel_bins;
    let features = Tensor::from_vec(
        spaceport::rng::Rng::floats(0, mels * 3000),
        (1, mels, 3000),
        &Device::Cpu,
    )?;
    let once = || -> anyhow::Result<(f64, f64)> {
        let start = Instant::now();
        let encoded = model.encode(&features)?;
        let encoding = start.elapsed().as_secs_f64();
        let mut state = model.start(&encoded, 1)?;
        let mut input = Tensor::from_slice(&prompt, (1, prompt.len()), &Device::Cpu)?;
        for _ in 0..steps {
            let logits = model.decode(&input, &mut state)?;
            let last = logits.dim(1)? - 1;
            let mut row: Vec<f32> = logits.narrow(1, last, 1)?.flatten_all()?.to_vec1()?;
            if let Some(e) = row.get_mut(eot) {
                *e = f32::NEG_INFINITY;
            }
            let next = spaceport::tasks::nn::argmax(&row) as u32;
            input = Tensor::from_slice(&[next], (1, 1), &Device::Cpu)?;
        }
        Ok((encoding, start.elapsed().as_secs_f64() - encoding))
    };
    once()?;
    let mut runs = [once()?, once()?, once()?];
    runs.sort_by(|a, b| (a.0 + a.1).total_cmp(&(b.0 + b.1)));
    let (enc, dec) = runs[1];
    let peak = memory.finish().0.unwrap_or(0) as f64 / 1e6;
    println!(
        "spaceport-{compute} encode {:.0} ms, {steps} steps {:.0} ms ({:.1} ms a token), total {:.0} ms, load {load:.2} s, peak {peak:.0} MB",
        enc * 1000.0,
        dec * 1000.0,
        dec * 1000.0 / steps as f64,
        (enc + dec) * 1000.0
    );
    Ok(())
}
