//! Damaged files never panic: truncated and bit-flipped copies of every
//! parser's input — CTranslate2 `model.bin`, SentencePiece `.spm`, the
//! safetensors header, `config.json`, `generation_config.json`,
//! `preprocessor_config.json`, tokenizer files, audio and pictures — a
//! few hundred deterministic mutations each, through the loaders (each
//! must answer Ok or an error sentence), and a sample through the CLI
//! (an exit code of the README's table, never a panic).

use crate::support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::Device;
use spaceport::tasks::caption::Captioner;
use spaceport::tasks::caption::image::{ImageConfig, decode, pixel_values};
use spaceport::tasks::transcribe::Transcriber;
use spaceport::tasks::transcribe::mel::{FeatureConfig, LogMel};
use spaceport::tasks::transcribe::model::Whisper;
use spaceport::tasks::translate::Translator;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A deterministic stream of numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `count` mutations of `bytes`: a quarter truncations (spread over the
/// length, the first bytes densely), the rest one to three flipped bits
/// or a byte set to 0x00/0xFF, most of them within the first `hot` bytes
/// (where headers and sizes live).
fn mutations(bytes: &[u8], hot: usize, count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    let hot = hot.clamp(1, bytes.len().max(1));
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        if i % 4 == 0 {
            let k = i / 4;
            let len = if k < 12 {
                k * hot / 12
            } else {
                rng.below(bytes.len())
            };
            out.push(bytes[..len.min(bytes.len())].to_vec());
            continue;
        }
        let mut m = bytes.to_vec();
        if m.is_empty() {
            out.push(m);
            continue;
        }
        let len = m.len();
        let mut at = || {
            if rng.below(10) < 8 {
                rng.below(hot)
            } else {
                rng.below(len)
            }
        };
        match i % 3 {
            0 => {
                let p = at();
                m[p] = if p % 2 == 0 { 0x00 } else { 0xFF };
            }
            _ => {
                for _ in 0..1 + i % 3 {
                    let p = at();
                    m[p] ^= 1 << (p % 8);
                }
            }
        }
        out.push(m);
    }
    out
}

/// JSON mutations of a config: each number set to 0, -1, 2^40 and a
/// string; each list emptied; each object dropped.
fn json_mutations(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Some(o) = v.as_object() {
            for (k, x) in o {
                path.push(k.clone());
                out.push(path.clone());
                walk(x, path, out);
                path.pop();
            }
        }
    }
    let mut paths = Vec::new();
    walk(&v, &mut Vec::new(), &mut paths);
    let values = [
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(1u64 << 40),
        serde_json::json!("x"),
        serde_json::json!([]),
        serde_json::Value::Null,
    ];
    for p in paths {
        for new in &values {
            let mut m = v.clone();
            let mut slot = &mut m;
            for k in &p[..p.len() - 1] {
                slot = &mut slot[k.as_str()];
            }
            slot[p[p.len() - 1].as_str()] = new.clone();
            out.push(m.to_string());
        }
    }
    out
}

/// Runs `load` on each mutation; fails with the first that panicked.
fn never_panics(
    what: &str,
    inputs: &[Vec<u8>],
    mut load: impl FnMut(&[u8]) -> Result<(), String>,
) -> usize {
    let mut errors = 0;
    for (i, m) in inputs.iter().enumerate() {
        match catch_unwind(AssertUnwindSafe(|| load(m))) {
            Ok(Ok(())) => {}
            Ok(Err(sentence)) => {
                assert!(!sentence.trim().is_empty(), "{what} #{i}: an empty message");
                errors += 1;
            }
            Err(_) => panic!("{what}: mutation #{i} ({} bytes) panicked", m.len()),
        }
    }
    eprintln!(
        "{what}: {} mutations, {errors} refused in words, 0 panics",
        inputs.len()
    );
    errors
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn damaged_model_files_are_refused_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let cpu = Device::Cpu;
    // Marian: .spm, vocab.json, the safetensors header, both configs.
    let marian = tmp.path().join("marian");
    copy_dir(&root().join("tests/fixtures/marian/tiny-en-de"), &marian);
    let mut total = 0;
    for (file, count) in [
        ("source.spm", 300),
        ("vocab.json", 200),
        ("model.safetensors", 200),
        ("config.json", 200),
        ("generation_config.json", 100),
    ] {
        let good = std::fs::read(marian.join(file)).unwrap();
        let hot = if file == "model.safetensors" {
            8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize
        } else {
            good.len()
        };
        let mut inputs = mutations(&good, hot, count, total as u64 + 7);
        if file.ends_with(".json") && file.contains("config") {
            inputs.extend(
                json_mutations(std::str::from_utf8(&good).unwrap())
                    .into_iter()
                    .map(String::into_bytes),
            );
        }
        total += inputs.len();
        never_panics(&format!("marian {file}"), &inputs, |m| {
            std::fs::write(marian.join(file), m).unwrap();
            Translator::load(&marian, &cpu)
                .and_then(|t| {
                    t.translate(
                        "A short test.",
                        &Default::default(),
                        &Default::default(),
                        &mut |_| {},
                    )
                    .map(|_| ())
                })
                .map_err(|e| e.to_string())
        });
        std::fs::write(marian.join(file), &good).unwrap();
    }
    // BLIP: its configs and tokenizer.json.
    let blip = tmp.path().join("blip");
    copy_dir(&root().join("tests/fixtures/blip/tiny"), &blip);
    std::fs::remove_file(blip.join("pytorch_model.bin")).unwrap();
    for (file, count) in [
        ("config.json", 150),
        ("preprocessor_config.json", 100),
        ("tokenizer.json", 200),
    ] {
        let good = std::fs::read(blip.join(file)).unwrap();
        let mut inputs = mutations(&good, good.len(), count, 99 + total as u64);
        if file != "tokenizer.json" {
            inputs.extend(
                json_mutations(std::str::from_utf8(&good).unwrap())
                    .into_iter()
                    .map(String::into_bytes),
            );
        }
        total += inputs.len();
        never_panics(&format!("blip {file}"), &inputs, |m| {
            std::fs::write(blip.join(file), m).unwrap();
            Captioner::load(&blip, &cpu)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        std::fs::write(blip.join(file), &good).unwrap();
    }
    // Whisper: config.json of a Hugging Face layout model.
    let whisper = tmp.path().join("whisper");
    copy_dir(&root().join("tests/fixtures/whisper/tiny-80"), &whisper);
    let good = std::fs::read(whisper.join("config.json")).unwrap();
    let mut inputs = mutations(&good, good.len(), 150, 5);
    inputs.extend(
        json_mutations(std::str::from_utf8(&good).unwrap())
            .into_iter()
            .map(String::into_bytes),
    );
    total += inputs.len();
    never_panics("whisper config.json", &inputs, |m| {
        std::fs::write(whisper.join("config.json"), m).unwrap();
        Whisper::load(&whisper, &cpu)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // preprocessor_config.json: read, checked, then features computed.
    let pre = serde_json::json!({
        "feature_size": 80, "n_fft": 400, "hop_length": 160,
        "sampling_rate": 16000, "chunk_length": 30, "n_samples": 480000
    })
    .to_string();
    let mut inputs = mutations(pre.as_bytes(), pre.len(), 100, 11);
    inputs.extend(json_mutations(&pre).into_iter().map(String::into_bytes));
    total += inputs.len();
    let second: Vec<f32> = (0..16000).map(|i| (i as f32 * 0.05).sin() * 0.1).collect();
    never_panics("whisper preprocessor_config.json", &inputs, |m| {
        let v: serde_json::Value = serde_json::from_slice(m).map_err(|e| e.to_string())?;
        let cfg = FeatureConfig::from_json(&v);
        cfg.check()?;
        LogMel::new(cfg).chunk(&second);
        Ok(())
    });
    eprintln!("model files: {total} mutations in all, 0 panics");
    assert!(total > 1500);
}

/// The variables' header fields in a CTranslate2 `model.bin` (name,
/// rank, dims, type, size), where a damaged file does harm: byte ranges.
fn ct2_header_fields(buf: &[u8]) -> Vec<std::ops::Range<usize>> {
    let u16_at = |p: usize| u16::from_le_bytes([buf[p], buf[p + 1]]) as usize;
    let u32_at = |p: usize| u32::from_le_bytes(buf[p..p + 4].try_into().unwrap()) as usize;
    let mut fields: Vec<std::ops::Range<usize>> = Vec::new();
    fields.push(0..4);
    let mut p = 4;
    let spec = u16_at(p);
    fields.push(p..p + 2 + spec);
    p += 2 + spec + 4;
    let n = u32_at(p);
    fields.push(p..p + 4);
    p += 4;
    for _ in 0..n {
        let start = p;
        let name = u16_at(p);
        p += 2 + name;
        let rank = buf[p] as usize;
        p += 1 + 4 * rank + 1;
        let bytes = u32_at(p);
        p += 4;
        fields.push(start..p);
        p += bytes;
    }
    fields.push(p..buf.len().min(p + 4096));
    fields
}

#[test]
fn damaged_ctranslate2_model_bin_is_refused_in_words() {
    let model = support::whisper_ct2_dir();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ct2");
    copy_dir(&model, &dir);
    let good = std::fs::read(model.join("model.bin")).unwrap();
    let fields = ct2_header_fields(&good);
    let mut rng = Rng(42);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // Truncations: inside the header fields and across the file.
    for i in 0..50 {
        let len = if i < 25 {
            let f = &fields[rng.below(fields.len())];
            f.start + rng.below(f.len().max(1))
        } else {
            rng.below(good.len())
        };
        inputs.push(good[..len].to_vec());
    }
    // Flipped bits and bytes set to 0x00/0xFF in the header fields.
    for i in 0..150 {
        let f = &fields[rng.below(fields.len())];
        let p = f.start + rng.below(f.len().max(1));
        let mut m = good.clone();
        if i % 3 == 0 {
            m[p] = if i % 2 == 0 { 0 } else { 0xFF };
        } else {
            m[p] ^= 1 << rng.below(8);
        }
        inputs.push(m);
    }
    let cpu = Device::Cpu;
    never_panics("CTranslate2 model.bin", &inputs, |m| {
        std::fs::write(dir.join("model.bin"), m).unwrap();
        Transcriber::load(&dir, &cpu)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // The Whisper cache lock survives a damaged model: the good one
    // still loads after all of them.
    std::fs::write(dir.join("model.bin"), &good).unwrap();
    assert!(Transcriber::load(&dir, &cpu).is_ok());
}

#[test]
fn damaged_audio_and_pictures_are_refused_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech.wav");
    support::speak("A short damaged test.", &wav);
    let mut total = 0;
    for ext in ["wav", "flac", "mp3", "ogg"] {
        let file = tmp.path().join(format!("speech.{ext}"));
        if ext != "wav" {
            let ok = Command::new("sox").arg(&wav).arg(&file).status().unwrap();
            assert!(ok.success(), "sox makes {ext}");
        }
        let good = std::fs::read(&file).unwrap();
        let inputs = mutations(&good, 512.min(good.len()), 200, 3 + total as u64);
        total += inputs.len();
        let damaged = tmp.path().join(format!("damaged.{ext}"));
        never_panics(&format!("audio .{ext}"), &inputs, |m| {
            std::fs::write(&damaged, m).unwrap();
            spaceport::audio::decode::decode_file(&damaged, 16000)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    }
    // A WAV whose header says 0 Hz.
    let mut zero = std::fs::read(&wav).unwrap();
    zero[24..28].copy_from_slice(&0u32.to_le_bytes());
    let zero_path = tmp.path().join("zero.wav");
    std::fs::write(&zero_path, &zero).unwrap();
    let err = spaceport::audio::decode::decode_file(&zero_path, 16000).unwrap_err();
    assert!(err.to_string().contains("zero.wav"), "{err}");

    let images = root().join("tests/fixtures/blip/images");
    let cfg = ImageConfig::default();
    for name in [
        "gray.png",
        "phone.jpg",
        "plain.bmp",
        "frames.gif",
        "lossless.webp",
        "plain.tiff",
    ] {
        let good = std::fs::read(images.join(name)).unwrap();
        let inputs = mutations(&good, 256.min(good.len()), 150, 17 + total as u64);
        total += inputs.len();
        never_panics(name, &inputs, |m| {
            decode(m, name)
                .map(|img| {
                    pixel_values(&img, &cfg);
                })
                .map_err(|e| e.to_string())
        });
    }
    // Headers that claim enormous pictures are refused before allocating.
    let mut bmp = std::fs::read(images.join("plain.bmp")).unwrap();
    bmp[18..22].copy_from_slice(&60000i32.to_le_bytes());
    bmp[22..26].copy_from_slice(&(-60000i32).to_le_bytes());
    let err = decode(&bmp, "huge.bmp").unwrap_err().to_string();
    assert!(err.contains("huge.bmp"), "{err}");
    let mut png = std::fs::read(images.join("gray.png")).unwrap();
    png[16..20].copy_from_slice(&60000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60000u32.to_be_bytes());
    assert!(decode(&png, "huge.png").is_err());
    eprintln!("audio and pictures: {total} mutations in all, 0 panics");
}

#[test]
fn the_cli_answers_damaged_files_with_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let spaceport = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_spaceport"))
            .args(args)
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_HUB_CACHE", tmp.path().join("cache"))
            .output()
            .unwrap()
    };
    let expect = |out: std::process::Output, what: &str| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{what}: {err}");
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1 | 2 | 3 | 8)),
            "{what}: exit {code:?}: {err}"
        );
    };
    let mut runs = 0;
    // Pictures through `caption`.
    let blip = root().join("tests/fixtures/blip/tiny");
    let good = std::fs::read(root().join("tests/fixtures/blip/images/phone.jpg")).unwrap();
    let mut paths = Vec::new();
    for (i, m) in mutations(&good, 256, 24, 1).into_iter().enumerate() {
        let p = tmp.path().join(format!("p{i}.jpg"));
        std::fs::write(&p, m).unwrap();
        paths.push(p.display().to_string());
    }
    let mut args = vec!["caption", "--model", blip.to_str().unwrap()];
    args.extend(paths.iter().map(String::as_str));
    expect(spaceport(&args), "caption of damaged pictures");
    runs += 1;
    // A damaged BLIP config through `caption`.
    let model = tmp.path().join("blip");
    copy_dir(&blip, &model);
    let cfg = std::fs::read(blip.join("config.json")).unwrap();
    for (i, m) in mutations(&cfg, cfg.len(), 12, 2).into_iter().enumerate() {
        std::fs::write(model.join("config.json"), m).unwrap();
        let pic = root().join("tests/fixtures/blip/images/gray.png");
        expect(
            spaceport(&[
                "caption",
                "--model",
                model.to_str().unwrap(),
                pic.to_str().unwrap(),
            ]),
            &format!("caption with config mutation {i}"),
        );
        runs += 1;
    }
    // Damaged audio through `transcribe`, with the tiny random Whisper's
    // folder lacking a tokenizer: the file is read first or the model
    // refused — either way in words.
    let wav = tmp.path().join("s.wav");
    support::speak("Damaged audio.", &wav);
    let good = std::fs::read(&wav).unwrap();
    let whisper = support::whisper_ct2_dir();
    for (i, m) in mutations(&good, 64, 12, 3).into_iter().enumerate() {
        let p = tmp.path().join(format!("a{i}.wav"));
        std::fs::write(&p, m).unwrap();
        expect(
            spaceport(&[
                "transcribe",
                "--model",
                whisper.to_str().unwrap(),
                p.to_str().unwrap(),
            ]),
            &format!("transcribe of audio mutation {i}"),
        );
        runs += 1;
    }
    // A damaged .spm through `translate`.
    let marian = tmp.path().join("marian");
    copy_dir(&root().join("tests/fixtures/marian/tiny-en-de"), &marian);
    let spm = std::fs::read(marian.join("source.spm")).unwrap();
    for (i, m) in mutations(&spm, spm.len(), 12, 4).into_iter().enumerate() {
        std::fs::write(marian.join("source.spm"), m).unwrap();
        expect(
            spaceport(&["translate", "--model", marian.to_str().unwrap(), "A test."]),
            &format!("translate with .spm mutation {i}"),
        );
        runs += 1;
    }
    eprintln!("CLI: {runs} runs on damaged files, 0 panics");
}

#[test]
fn damaged_parquet_files_are_refused_in_words() {
    use spaceport::datasets::parquet::ParquetFile;
    use spaceport::work::CancelToken;
    let root = support::dataset_fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let damaged = tmp.path().join("damaged.parquet");
    let mut total = 0;
    for (i, name) in [
        "speech/data/test-00000-of-00001.parquet",
        "pictures/data/train-00000-of-00001.parquet",
        "translation/default/train/0000.parquet",
        "multishard/default/train/0001.parquet",
        "plain/plain.parquet",
    ]
    .iter()
    .enumerate()
    {
        let good = std::fs::read(root.join(name)).unwrap();
        // Anywhere in the file, then within the footer (the schema, the
        // row groups' offsets and sizes) that sits at its end.
        let mut inputs = mutations(&good, good.len(), 150, 31 + i as u64);
        let footer_len =
            u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap()) as usize
                + 8;
        let (body, footer) = good.split_at(good.len() - footer_len);
        for m in mutations(footer, footer.len(), 150, 47 + i as u64) {
            inputs.push([body, &m].concat());
        }
        total += inputs.len();
        never_panics(name, &inputs, |m| {
            std::fs::write(&damaged, m).unwrap();
            let file = std::fs::File::open(&damaged).unwrap();
            let table = ParquetFile::open(file, "damaged.parquet").map_err(|e| e.to_string())?;
            table
                .rows(0, 1000, 0, &CancelToken::new())
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    }
    eprintln!("parquet: {total} mutations in all, 0 panics");
}
