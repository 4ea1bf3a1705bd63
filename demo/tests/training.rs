//! The trainer end to end on the CPU, a few steps only: it saves a diffusers-layout pipeline
//! that the engine's ordinary loader reads, resumes where it stopped, and exports f16 weights.
#![cfg(feature = "train")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use demo::train::{evaluate, export_f16, fork, shipped_pipeline, snapshot, write_card, Evaluation, Recipe, Run, EVALUATION_FILE, SHIPPED_POSITIONS};
use engine::pipeline::Pipeline;
use engine::store::DirStore;
use engine::weights::{parse_header, to_f32, Dtype};
use engine::Backend;

fn tokenizer() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny-mid/tokenizer")
}

/// A run of `[vae, decoder, denoise]` steps, tiny batches, checkpoints and logs every step.
fn open(folder: &Path, [vae_steps, decoder_steps, denoise_steps]: [usize; 3]) -> Run {
    let mut run = Run::open(folder, Recipe::default(), &tokenizer(), Backend::cpu_device()).unwrap();
    let r = &mut run.recipe;
    (r.vae_steps, r.decoder_steps, r.denoise_steps) = (vae_steps, decoder_steps, denoise_steps);
    (r.vae_batch_frames, r.clips_per_batch, r.checkpoint_every, r.log_every) = (2, 1, 1, 1);
    r.pool_start = 3; // the recipe's 400 would take minutes to encode in a debug build
    run.save_recipe().unwrap();
    run
}

/// A safetensors file's tensors as raw bytes, by name.
fn tensors(file: &Path) -> BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(file).unwrap();
    let header = parse_header(&bytes, bytes.len() as u64, "test").unwrap();
    header.tensors.into_iter().map(|(name, t)| (name, bytes[t.start as usize..t.end as usize].to_vec())).collect()
}

const VAE: &str = "model/vae/diffusion_pytorch_model.safetensors";
const UNET: &str = "model/unet/diffusion_pytorch_model.safetensors";

#[test]
#[ignore = "slow (a minute of training steps): `./x test` runs it"]
fn trains_saves_resumes_and_exports() {
    let folder = std::env::temp_dir().join(format!("freenoise-demo-training-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);

    open(&folder, [1, 0, 1]).train().unwrap();
    let first = std::fs::read(folder.join(UNET)).unwrap();
    let pooled = |folder: &Path| std::fs::read_to_string(folder.join("latent_pool.txt")).unwrap().lines().count();
    assert_eq!(pooled(&folder), 4, "the pool's starting fill of 3 clips, then one per step");
    let vae_before = tensors(&folder.join(VAE));

    // A second session continues from the checkpoint instead of starting over (and runs the
    // decoder stage the recipe now asks for, which changes the decoder only).
    let mut resumed = open(&folder, [1, 1, 2]);
    assert_eq!((resumed.state.vae_step, resumed.state.denoise_step), (1, 1));
    resumed.train().unwrap();
    assert_eq!((resumed.state.decoder_step, resumed.state.denoise_step), (1, 2));
    assert_eq!(pooled(&folder), 5);
    let second = std::fs::read(folder.join(UNET)).unwrap();
    assert_ne!(first, second, "the resumed step changed the weights");
    let vae_after = tensors(&folder.join(VAE));
    assert_eq!(vae_before.keys().collect::<Vec<_>>(), vae_after.keys().collect::<Vec<_>>());
    for (name, bytes) in &vae_before {
        let decoder = name.starts_with("decoder.") || name.starts_with("post_quant_conv.");
        if decoder && name.ends_with(".weight") {
            assert_ne!(bytes, &vae_after[name], "{name}: the decoder stage trains it");
        } else if !decoder {
            assert_eq!(bytes, &vae_after[name], "{name}: the encoder (and so every latent) is kept");
        }
    }
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(folder.join("model/vae/config.json")).unwrap()).unwrap();
    let written = config["scaling_factor"].as_f64().unwrap() as f32;
    assert_eq!(Some(written), resumed.state.scaling_factor, "the decoder stage keeps the measured latent scale in the config");
    // A new folder seeded with only the finished stage 1 (state and VAE) starts at stage 2.
    let seeded = folder.join("seeded");
    std::fs::create_dir_all(&seeded).unwrap();
    std::fs::copy(folder.join("state.json"), seeded.join("state.json")).unwrap();
    assert_eq!(open(&seeded, [1, 1, 1]).state.vae_step, 1);

    // A forked run starts stage 2 from its parent's weights: at learning rate 0 a step keeps them.
    let child = folder.join("child");
    let forked = fork(&folder, &child).unwrap();
    assert_eq!((forked.denoise_step, forked.parent.as_ref().map(|p| p.denoise_step)), (0, Some(2)));
    let mut run = open(&child, [1, 1, 1]);
    run.recipe.denoise_lr = 0.0;
    run.train().unwrap();
    assert_eq!(run.state.denoise_step, 1);
    assert_eq!(tensors(&child.join(UNET)), tensors(&folder.join(UNET)), "the child starts from its parent's UNet");
    let again = fork(&folder, &child).unwrap_err().to_string();
    assert!(again.contains("already holds a run"), "{again}");
    let orphan = fork(&seeded.join("none"), &folder.join("other")).unwrap_err().to_string();
    assert!(orphan.contains("no trained denoiser"), "{orphan}");
    let losses = std::fs::read_to_string(folder.join("losses.csv")).unwrap();
    assert_eq!(losses.lines().filter(|l| l.starts_with("denoise,")).count(), 2, "{losses}");

    // What was saved is an ordinary diffusers pipeline folder, and so is the f16 export.
    let device = Backend::cpu_device();
    let trained = Pipeline::load(&DirStore::new(folder.join("model")).unwrap(), None, &device).unwrap();
    let exported = folder.join("export");
    export_f16(&folder.join("model"), &exported).unwrap();
    let shipped = Pipeline::load(&DirStore::new(&exported).unwrap(), None, &device).unwrap();
    // Both tokenize captions at the recipe's length, not the source tokenizer's 77.
    let tokens = Recipe::default().text_tokens;
    assert_eq!((trained.tokenizer.max_tokens(), shipped.tokenizer.max_tokens()), (tokens, tokens));
    // The shipped position tables cover the page's longest plain-sampled clip and start with
    // the trained rows (to f16 precision).
    assert_eq!((trained.unet.max_frames(), shipped.unet.max_frames()), (32, SHIPPED_POSITIONS));
    let table = |p: &Pipeline| {
        let pe = p.unet.down_blocks[0].motion_modules[0].transformer_blocks[0].pos_embed.as_ref().unwrap().pe.val();
        pe.slice([0..1, 0..32]).into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    };
    let (before, after) = (table(&trained), table(&shipped));
    assert!(before.iter().zip(&after).all(|(a, b)| (a - b).abs() < 1e-3), "the first 32 rows are the trained table");
    // The text encoder (no position tables to lengthen): half the data; the JSON header is
    // the same size in both.
    let f32_size = std::fs::metadata(folder.join("model/text_encoder/model.safetensors")).unwrap().len();
    let f16_size = std::fs::metadata(exported.join("text_encoder/model.safetensors")).unwrap().len();
    assert!((f16_size as f64) < f32_size as f64 * 0.52, "f16 export is about half the size: {f16_size} vs {f32_size}");

    // A snapshot (f16 model, state, recipe, losses) is a parent a later session forks from: the
    // child trains from the snapshot's weights (to f16 precision) and keeps the history's link.
    let snap = folder.join("snap");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(snap.join(EVALUATION_FILE), "stale").unwrap();
    snapshot(&folder, &snap).unwrap();
    assert!(!snap.join(EVALUATION_FILE).exists(), "an older snapshot's evaluation does not outlive it (the run has none yet)");
    for kept in ["state.json", "recipe.json", "losses.csv", "model/unet/config.json"] {
        assert!(snap.join(kept).exists(), "the snapshot keeps {kept}");
    }
    assert!(!snap.join("optimizer.bpk").exists() && !snap.join("latent_pool.f32").exists());
    let from_snap = folder.join("from-snap");
    assert_eq!(fork(&snap, &from_snap).unwrap().parent.map(|p| p.denoise_step), Some(2));
    let mut run = open(&from_snap, [1, 1, 1]);
    run.recipe.denoise_lr = 0.0;
    run.train().unwrap();
    let (parent, child) = (tensors(&folder.join(UNET)), tensors(&from_snap.join(UNET)));
    assert_eq!(parent.keys().collect::<Vec<_>>(), child.keys().collect::<Vec<_>>());
    for (name, bytes) in parent.iter().filter(|(n, _)| !n.ends_with("pos_embed.pe")) {
        let (p, c) = (to_f32(bytes, Dtype::F32), to_f32(&child[name], Dtype::F32));
        assert!(p.iter().zip(&c).all(|(a, b)| (a - b).abs() <= 1e-3 * a.abs().max(1e-2)), "{name}: the child starts from the snapshot");
    }
    let empty = snapshot(&folder.join("none"), &folder.join("snap2")).unwrap_err().to_string();
    assert!(empty.contains("nothing to snapshot"), "{empty}");

    // An evaluation scores the run's model at its step and keeps the figures beside it.
    let scored = evaluate(&folder, 1, false).unwrap();
    assert_eq!((scored.step, scored.colour.total, scored.direction.total, scored.free_noise), (2, 1, 1, None));
    let kept: Evaluation = serde_json::from_str(&std::fs::read_to_string(folder.join(EVALUATION_FILE)).unwrap()).unwrap();
    assert_eq!(kept, scored);
    // The long checks sample 64 frames without FreeNoise too: the run's own 32-row position
    // tables refuse that, the shipped form takes it.
    let mut plain = demo::semantics::request("a red circle moving left on a black background", demo::semantics::LONG, 0);
    plain.free_noise = None;
    let own = Pipeline::load(&DirStore::new(folder.join("model")).unwrap(), None, &Backend::cpu_device()).unwrap();
    assert!(own.validate(&plain).is_err(), "the run's own tables stop short of 64 frames");
    assert!(shipped_pipeline(&folder).unwrap().validate(&plain).is_ok());
    // The card beside the export reads the run: both stages, and the evaluation.
    write_card(&folder, &exported).unwrap();
    let card = std::fs::read_to_string(exported.join("README.md")).unwrap();
    for expected in ["### Stage `vae`: 1 steps", "### Stage `decoder`: 1 steps", "### Stage `denoise`: 2 steps", "16 frames: colour right"] {
        assert!(card.contains(expected), "missing {expected:?} in\n{card}");
    }
    std::fs::remove_dir_all(&folder).unwrap();
}
