//! Whole runs against diffusers' `AnimateDiffPipeline` from the same initial latents: DDIM with
//! classifier-free guidance and a negative prompt, and Euler (trailing) without guidance.

mod common;

use common::*;
use engine::pipeline::{Latents, Pipeline, Request};
use engine::schedulers::Sampler;
use engine::store::{AdapterFile, DirStore, ModelStore};
use engine::Backend;

fn load(config: &str) -> Pipeline {
    let store = DirStore::new(fixture(config)).unwrap();
    let adapter_dir = fixture(&format!("{config}/motion_adapter"));
    let adapter = adapter_dir.is_dir().then(|| DirStore::new(&adapter_dir).unwrap());
    Pipeline::load(&store, adapter.as_ref().map(|a| a as _), &Backend::cpu_device()).unwrap()
}

fn request(config: &str, scheduler: Sampler) -> Request {
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{config}/golden/run.json"))).unwrap()).unwrap();
    let name = if scheduler == Sampler::Ddim { "ddim" } else { "euler" };
    let init = golden(config, "init_latents");
    let mut request = Request::new(run["prompt"].as_str().unwrap());
    request.negative = (scheduler == Sampler::Ddim).then(|| run["negative"].as_str().unwrap().to_string());
    request.frames = run["frames"].as_u64().unwrap() as usize;
    request.height = run["height"].as_u64().unwrap() as usize;
    request.width = run["width"].as_u64().unwrap() as usize;
    request.steps = run[name]["steps"].as_u64().unwrap() as usize;
    request.guidance = run[name]["guidance"].as_f64().unwrap() as f32;
    request.sampler = Some(scheduler);
    request.init_latents = Some(Latents { shape: init.shape.clone().try_into().unwrap(), data: init.data });
    request
}

#[test]
fn runs_match_diffusers_end_to_end() {
    for config in CONFIGS {
        let pipeline = load(config);
        for (kind, name) in [(Sampler::Ddim, "ddim"), (Sampler::Euler, "euler")] {
            let request = request(config, kind);
            let timesteps: Vec<f64> = engine::schedulers::Scheduler::new(kind, &pipeline.scheduler_config, request.steps).unwrap().timesteps();
            assert_eq!(timesteps, golden(config, &format!("{name}_timesteps")).data.iter().map(|&t| t as f64).collect::<Vec<_>>());
            let mut steps_seen = 0;
            let output = pollster::block_on(pipeline.generate(&request, &mut |p| steps_seen = p.step)).unwrap();
            assert_eq!(steps_seen, request.steps);
            let step_latents = golden(config, &format!("{name}_step_latents"));
            let per_step = step_latents.data.len() / request.steps;
            let final_latents = &step_latents.data[per_step * (request.steps - 1)..];
            let latent_error = relative_l2(&output.latents.data, final_latents);
            let video_error = relative_l2(&output.video, &golden(config, &format!("{name}_video")).data);
            println!("{config} {name}: final latents {latent_error:.2e}, video {video_error:.2e}");
            assert!(latent_error <= 1e-3, "{config} {name}: latents relative L2 {latent_error:.2e}");
            assert!(video_error <= 1e-3, "{config} {name}: video relative L2 {video_error:.2e}");
        }
    }
}

/// tiny-split as SD1.5 repos ship their scheduler: `PNDMScheduler`, same betas and offsets.
struct AsPndm(DirStore);

impl ModelStore for AsPndm {
    fn name(&self) -> String {
        self.0.name()
    }
    fn exists(&self, path: &str) -> bool {
        self.0.exists(path)
    }
    fn read_text(&self, path: &str) -> Result<String, engine::EngineError> {
        let text = self.0.read_text(path)?;
        Ok(if path == "scheduler/scheduler_config.json" { text.replace("\"DDIMScheduler\"", "\"PNDMScheduler\", \"skip_prk_steps\": true") } else { text })
    }
    fn open(&self, path: &str) -> Result<Box<dyn engine::weights::ByteSource>, engine::EngineError> {
        self.0.open(path)
    }
}

#[test]
fn a_scheduler_the_engine_does_not_run_becomes_ddim_on_its_betas_with_a_note() {
    let store = AsPndm(DirStore::new(fixture("tiny-split")).unwrap());
    let adapter = DirStore::new(fixture("tiny-split/motion_adapter")).unwrap();
    let pipeline = Pipeline::load(&store, Some(&adapter), &Backend::cpu_device()).unwrap();
    let mut request = request("tiny-split", Sampler::Ddim);
    request.sampler = None;
    let output = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    let error = relative_l2(&output.video, &golden("tiny-split", "ddim_video").data);
    assert!(error <= 1e-3, "video relative L2 {error:.2e} against diffusers' DDIM run");
    assert!(output.warnings.iter().any(|w| w.contains("PNDMScheduler") && w.contains("DDIM")), "{:?}", output.warnings);
    request.sampler = Some(Sampler::Ddim);
    let chosen = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    assert!(chosen.warnings.iter().all(|w| !w.contains("PNDMScheduler")), "a chosen sampler needs no note: {:?}", chosen.warnings);
}

#[test]
fn a_bare_adapter_file_runs_lightning_style_like_diffusers() {
    // tiny-split's UNet plus an adapter saved as AnimateDiff-Lightning ships them (no config),
    // sampled the way its model card says: Euler, trailing spacing, linear betas, guidance 1.
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("tiny-split/lightning/golden/run.json")).unwrap()).unwrap();
    let file = run["file"].as_str().unwrap();
    let store = DirStore::new(fixture("tiny-split")).unwrap();
    let adapter = AdapterFile::new(Box::new(DirStore::new(fixture("tiny-split/lightning")).unwrap()), file);
    let pipeline = Pipeline::load(&store, Some(&adapter), &Backend::cpu_device()).unwrap();
    assert_eq!(pipeline.unet.config.motion.num_attention_heads, vec![8, 8], "MotionAdapter's default heads");
    assert!(pipeline.unet.config.motion.use_mid_block, "the mid block's modules were found");
    let init = golden("tiny-split/lightning", "init_latents");
    let mut request = Request::new(run["prompt"].as_str().unwrap());
    (request.frames, request.height, request.width) = (run["frames"].as_u64().unwrap() as usize, 64, 64);
    (request.steps, request.guidance) = (run["steps"].as_u64().unwrap() as usize, 1.0);
    // The Lightning sampler is Euler, trailing, on linear betas: the fixture's run.
    request.sampler = Some(Sampler::Lightning);
    request.init_latents = Some(Latents { shape: init.shape.clone().try_into().unwrap(), data: init.data });
    let output = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    let error = relative_l2(&output.video, &golden("tiny-split/lightning", "video").data);
    println!("lightning-style run: video {error:.2e}");
    assert!(error <= 1e-3, "video relative L2 {error:.2e}");
}
